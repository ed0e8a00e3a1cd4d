//! One record: its owner, its opaque category and its append-only versions.
//! Each version has its own content key, wrapped once per reader.

use alloc::{vec, vec::Vec};

use alloy_primitives::{aliases::U64, Address, B256};
use careledger_common::short_bytes::StorageShortBytes;
use stylus_sdk::{
    abi::Bytes,
    prelude::*,
    storage::{StorageAddress, StorageFixedBytes, StorageMap, StorageU64, StorageVec},
};

/// One immutable version of a record.
#[storage]
pub struct Version {
    cid: StorageShortBytes,
    content_hash: StorageFixedBytes<32>,
    timestamp: StorageU64,
    /// reader => HPKE envelope of this version's content key.
    wrapped_keys: StorageMap<Address, StorageShortBytes>,
}

/// A record: `patient` is zero for ids never created.
#[storage]
pub struct Record {
    patient: StorageAddress,
    category: StorageFixedBytes<32>,
    versions: StorageVec<Version>,
}

/// What `getRecord` returns: patient, version, cid, content hash, category, timestamp.
pub type RecordView = (Address, u32, Bytes, B256, B256, u64);

impl Record {
    pub fn patient(&self) -> Address {
        self.patient.get()
    }

    pub fn category(&self) -> B256 {
        self.category.get()
    }

    /// Number of versions (the latest version's number; versions count from 1).
    pub fn version_count(&self) -> u32 {
        self.versions.len() as u32
    }

    pub fn create(&mut self, patient: Address, category: B256) {
        self.patient.set(patient);
        self.category.set(category);
    }

    /// Appends a version and returns its number.
    pub fn append(&mut self, cid: &[u8], content_hash: B256, timestamp: u64) -> u32 {
        let mut v = self.versions.grow();
        v.cid.set_bytes(cid);
        v.content_hash.set(content_hash);
        v.timestamp.set(U64::from(timestamp));
        self.versions.len() as u32
    }

    /// Stores a wrapped key for `reader` on `version` (1-based); false if no such version.
    pub fn wrap(&mut self, version: u32, reader: Address, wrapped: &[u8]) -> bool {
        let Some(index) = (version as usize).checked_sub(1) else {
            return false;
        };
        match self.versions.setter(index) {
            Some(mut v) => {
                v.wrapped_keys.setter(reader).set_bytes(wrapped);
                true
            }
            None => false,
        }
    }

    /// The wrapped key of `reader` on `version`, empty if none.
    pub fn wrapped_key(&self, version: u32, reader: Address) -> Vec<u8> {
        match (version as usize)
            .checked_sub(1)
            .and_then(|i| self.versions.get(i))
        {
            Some(v) => v.wrapped_keys.get(reader).get_bytes(),
            None => Vec::new(),
        }
    }

    /// The view of `version` (1-based), if it exists.
    pub fn view(&self, version: u32) -> Option<RecordView> {
        let v = self.versions.get((version as usize).checked_sub(1)?)?;
        Some((
            self.patient.get(),
            version,
            Bytes::from(v.cid.get_bytes()),
            v.content_hash.get(),
            self.category.get(),
            v.timestamp.get().to(),
        ))
    }
}
