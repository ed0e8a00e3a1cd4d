//! Byte strings of at most 128 bytes in storage.
//!
//! stylus-sdk's `StorageBytes` decodes Solidity's length word with a 256-bit
//! division, which links ruint's generic division: about 8 KB of WASM for a
//! length. CIDs and wrapped keys are short and bounded, so a length slot plus
//! four word slots does the same job (the same number of storage writes for a
//! 36-byte CID or an 80-byte key) in a few hundred bytes.

use alloc::{vec, vec::Vec};

use alloy_primitives::{aliases::U8, B256};
use stylus_sdk::{
    prelude::*,
    storage::{StorageArray, StorageFixedBytes, StorageU8},
};

/// The most bytes a [`StorageShortBytes`] holds.
pub const SHORT_BYTES_MAX: usize = 128;

const WORDS: usize = SHORT_BYTES_MAX / 32;

/// Up to [`SHORT_BYTES_MAX`] bytes: a length slot, then the bytes in whole words.
#[storage]
pub struct StorageShortBytes {
    len: StorageU8,
    words: StorageArray<StorageFixedBytes<32>, WORDS>,
}

impl StorageShortBytes {
    /// The stored length.
    pub fn len(&self) -> usize {
        self.len.get().to()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored bytes.
    pub fn get_bytes(&self) -> Vec<u8> {
        let len = self.len();
        let mut out = Vec::with_capacity(len);
        for i in 0..len.div_ceil(32) {
            if let Some(word) = self.words.get(i) {
                out.extend_from_slice(word.as_slice());
            }
        }
        out.truncate(len);
        out
    }

    /// Stores `bytes`, which the caller has checked fit ([`SHORT_BYTES_MAX`]);
    /// longer input is cut there. Words a longer previous value used are zeroed.
    pub fn set_bytes(&mut self, bytes: &[u8]) {
        let bytes = &bytes[..bytes.len().min(SHORT_BYTES_MAX)];
        let old_words = self.len().div_ceil(32);
        let new_words = bytes.len().div_ceil(32);
        for (i, chunk) in bytes.chunks(32).enumerate() {
            let mut word = [0u8; 32];
            word[..chunk.len()].copy_from_slice(chunk);
            if let Some(mut slot) = self.words.setter(i) {
                slot.set(B256::from(word));
            }
        }
        for i in new_words..old_words {
            if let Some(mut slot) = self.words.setter(i) {
                slot.set(B256::ZERO);
            }
        }
        self.len.set(U8::from(bytes.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use stylus_sdk::testing::TestVM;

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8 + 1).collect()
    }

    #[test]
    fn round_trips_every_length_up_to_the_bound() {
        let vm = TestVM::default();
        let mut s = StorageShortBytes::from(&vm);
        assert!(s.is_empty());
        for n in [0, 1, 31, 32, 33, 36, 64, 80, 127, 128] {
            s.set_bytes(&bytes(n));
            assert_eq!(s.len(), n);
            assert_eq!(s.get_bytes(), bytes(n), "length {n}");
        }
    }

    #[test]
    fn a_shorter_value_zeroes_the_words_it_no_longer_uses() {
        let vm = TestVM::default();
        let mut s = StorageShortBytes::from(&vm);
        s.set_bytes(&bytes(128));
        s.set_bytes(&bytes(20));
        assert_eq!(s.get_bytes(), bytes(20));
        // Slots 2..=4 held words 1..=3 of the long value.
        for slot in 2..=4u64 {
            assert_eq!(vm.get_storage(U256::from(slot)), B256::ZERO, "slot {slot}");
        }
    }

    #[test]
    fn input_over_the_bound_is_cut_not_overflowed() {
        let vm = TestVM::default();
        let mut s = StorageShortBytes::from(&vm);
        s.set_bytes(&bytes(200));
        assert_eq!(s.get_bytes(), bytes(128));
    }
}
