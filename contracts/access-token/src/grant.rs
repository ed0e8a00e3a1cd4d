//! The terms of one grant token. The doctor is the token's ERC-721 owner and is
//! not stored twice.

use alloc::{vec, vec::Vec};

use alloy_primitives::{
    aliases::{U64, U8},
    Address, B256, U256,
};
use careledger_common::ScopeKind;
use stylus_sdk::{
    prelude::*,
    storage::{
        StorageAddress, StorageBool, StorageFixedBytes, StorageMap, StorageU256, StorageU64,
        StorageU8, StorageVec,
    },
};

/// One grant. `patient`, `expires_at` and `scope_kind` share the first slot, so
/// an access check reads one slot per grant (plus one for a record or category).
#[storage]
pub(crate) struct Grant {
    patient: StorageAddress,
    expires_at: StorageU64,
    scope_kind: StorageU8,
    issued_at: StorageU64,
    category: StorageFixedBytes<32>,
    /// The listed record ids, for enumeration by clients.
    records: StorageVec<StorageU256>,
    /// The same ids, for an O(1) membership test.
    listed: StorageMap<U256, StorageBool>,
}

impl Grant {
    /// Stores the terms; returns the record ids as listed, duplicates dropped.
    pub(crate) fn init(
        &mut self,
        patient: Address,
        issued_at: u64,
        expires_at: u64,
        scope: ScopeKind,
        category: B256,
        record_ids: &[U256],
    ) -> Vec<U256> {
        self.patient.set(patient);
        self.expires_at.set(U64::from(expires_at));
        self.scope_kind.set(U8::from(u8::from(scope)));
        self.issued_at.set(U64::from(issued_at));
        self.category.set(category);
        let mut unique = Vec::with_capacity(record_ids.len());
        for id in record_ids {
            if !self.listed.get(*id) {
                self.listed.insert(*id, true);
                self.records.push(*id);
                unique.push(*id);
            }
        }
        unique
    }

    /// Zeroes the terms. The id list stays: ids are never reused, and the
    /// token's non-existence already hides it.
    pub(crate) fn clear(&mut self) {
        self.patient.set(Address::ZERO);
        self.expires_at.set(U64::ZERO);
        self.scope_kind.set(U8::ZERO);
        self.issued_at.set(U64::ZERO);
        self.category.set(B256::ZERO);
    }

    /// The patient who granted the token.
    pub(crate) fn patient(&self) -> Address {
        self.patient.get()
    }

    /// When the grant ends (exclusive), in seconds since the epoch.
    pub(crate) fn expires_at(&self) -> u64 {
        self.expires_at.get().to()
    }

    /// The scope kind's on-chain code (a [`ScopeKind`] as `u8`).
    pub(crate) fn scope_kind(&self) -> u8 {
        self.scope_kind.get().to()
    }

    /// When the grant was made.
    pub(crate) fn issued_at(&self) -> u64 {
        self.issued_at.get().to()
    }

    /// The category a category scope covers, zero for the other kinds.
    pub(crate) fn category(&self) -> B256 {
        self.category.get()
    }

    /// Whether the grant lists `record_id`.
    pub(crate) fn lists(&self, record_id: U256) -> bool {
        self.listed.get(record_id)
    }

    /// The listed record ids, in the order first given.
    pub(crate) fn records(&self) -> Vec<U256> {
        (0..self.records.len())
            .filter_map(|i| self.records.get(i))
            .collect()
    }
}
