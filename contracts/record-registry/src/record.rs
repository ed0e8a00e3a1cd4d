//! One record: its owner, its opaque category and its append-only versions.
//! Each version has its own content key, wrapped once per reader.

use alloc::{vec, vec::Vec};

use alloy_primitives::{
    aliases::{U32, U64},
    Address, B256, U256,
};
use careledger_common::short_bytes::StorageShortBytes;
use stylus_sdk::{
    abi::Bytes,
    prelude::*,
    storage::{StorageAddress, StorageFixedBytes, StorageMap, StorageU32, StorageU64},
};

/// One immutable version of a record.
#[storage]
pub(crate) struct Version {
    cid: StorageShortBytes,
    content_hash: StorageFixedBytes<32>,
    timestamp: StorageU64,
    /// reader => HPKE envelope of this version's content key.
    wrapped_keys: StorageMap<Address, StorageShortBytes>,
}

/// A record: `patient` is zero for ids never created. The version count shares
/// the patient's slot (a vector's length would take a slot of its own: one more
/// cold read on every access check and one more new slot per record).
#[storage]
pub(crate) struct Record {
    patient: StorageAddress,
    version_count: StorageU32,
    category: StorageFixedBytes<32>,
    /// Version number (from 1) => version.
    versions: StorageMap<U256, Version>,
}

/// What `getRecord` returns: patient, version, cid, content hash, category, timestamp.
pub(crate) type RecordView = (Address, u32, Bytes, B256, B256, u64);

impl Record {
    /// The record's patient, zero if the record does not exist.
    pub(crate) fn patient(&self) -> Address {
        self.patient.get()
    }

    /// The record's opaque category code.
    pub(crate) fn category(&self) -> B256 {
        self.category.get()
    }

    /// Number of versions (the latest version's number; versions count from 1).
    pub(crate) fn version_count(&self) -> u32 {
        self.version_count.get().to()
    }

    /// Makes the record `patient`'s, with `category`; it has no version yet.
    pub(crate) fn create(&mut self, patient: Address, category: B256) {
        self.patient.set(patient);
        self.category.set(category);
    }

    /// Appends a version and returns its number (wrapping at 2^32, which no
    /// record reaches: each version is a transaction).
    pub(crate) fn append(&mut self, cid: &[u8], content_hash: B256, timestamp: u64) -> u32 {
        let number = self.version_count().wrapping_add(1);
        self.version_count.set(U32::from(number));
        let mut v = self.versions.setter(U256::from(number));
        v.cid.set_bytes(cid);
        v.content_hash.set(content_hash);
        v.timestamp.set(U64::from(timestamp));
        number
    }

    /// Whether `version` (1-based) exists.
    fn has(&self, version: u32) -> bool {
        version >= 1 && version <= self.version_count()
    }

    /// Stores a wrapped key for `reader` on `version` (1-based); false if no such version.
    pub(crate) fn wrap(&mut self, version: u32, reader: Address, wrapped: &[u8]) -> bool {
        if !self.has(version) {
            return false;
        }
        let mut v = self.versions.setter(U256::from(version));
        v.wrapped_keys.setter(reader).set_bytes(wrapped);
        true
    }

    /// The wrapped key of `reader` on `version`, empty if none.
    pub(crate) fn wrapped_key(&self, version: u32, reader: Address) -> Vec<u8> {
        if !self.has(version) {
            return Vec::new();
        }
        self.versions
            .get(U256::from(version))
            .wrapped_keys
            .get(reader)
            .get_bytes()
    }

    /// The view of `version` (1-based), if it exists.
    pub(crate) fn view(&self, version: u32) -> Option<RecordView> {
        if !self.has(version) {
            return None;
        }
        let v = self.versions.get(U256::from(version));
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
