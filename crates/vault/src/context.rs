//! What a record's ciphertext is bound to.

use alloy_primitives::{Address, U256};

/// The record a ciphertext or wrapped key belongs to. Its encoding is the AEAD
/// associated data, so decryption fails if any field differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordContext {
    /// EIP-155 chain id, so a ciphertext from one chain does not open on another.
    pub chain_id: u64,
    /// The RecordRegistry contract the record is registered in.
    pub registry: Address,
    /// The patient whose record it is.
    pub patient: Address,
    /// The record's id in the registry.
    pub record_id: U256,
}

impl RecordContext {
    /// Domain tag, then the fields at fixed widths (no ambiguity between fields).
    pub fn aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(16 + 8 + 20 + 20 + 32);
        aad.extend_from_slice(b"careledger/rec/1");
        aad.extend_from_slice(&self.chain_id.to_be_bytes());
        aad.extend_from_slice(self.registry.as_slice());
        aad.extend_from_slice(self.patient.as_slice());
        aad.extend_from_slice(&self.record_id.to_be_bytes::<32>());
        aad
    }
}
