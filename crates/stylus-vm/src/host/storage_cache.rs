//! The per-call storage cache of nitro's host (arbutil/src/evm/storage.rs): reads are
//! remembered, writes stay in the cache until the program flushes them.

use alloy_primitives::B256;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Word {
    pub value: B256,
    /// The value the EVM holds, when known; a word is dirty when it differs.
    pub known: Option<B256>,
}

#[derive(Debug, Default)]
pub(crate) struct StorageCache {
    slots: HashMap<B256, Word>,
    reads: usize,
    writes: usize,
}

impl StorageCache {
    /// Gas of the n-th cache read: free for the first 32, then 2, then 10 (nitro's tiers).
    pub(crate) fn read_gas(&mut self) -> u64 {
        self.reads += 1;
        match self.reads {
            0..=32 => 0,
            33..=128 => 2,
            _ => 10,
        }
    }

    /// Gas of the n-th cache write: free for the first 8, then 7, then 10.
    pub(crate) fn write_gas(&mut self) -> u64 {
        self.writes += 1;
        match self.writes {
            0..=8 => 0,
            9..=64 => 7,
            _ => 10,
        }
    }

    pub(crate) fn get(&self, key: &B256) -> Option<B256> {
        self.slots.get(key).map(|w| w.value)
    }

    pub(crate) fn insert_known(&mut self, key: B256, value: B256) {
        self.slots.insert(
            key,
            Word {
                value,
                known: Some(value),
            },
        );
    }

    pub(crate) fn write(&mut self, key: B256, value: B256) {
        self.slots
            .entry(key)
            .and_modify(|w| w.value = value)
            .or_insert(Word { value, known: None });
    }

    /// Dirty words in a stable order (the order SSTOREs are applied matters for gas
    /// refunds only through warm/cold state, which is per key, so any order is
    /// observably equal; sorting keeps traces deterministic). Marks them clean.
    pub(crate) fn take_dirty(&mut self) -> Vec<(B256, B256)> {
        let mut dirty: Vec<(B256, B256)> = self
            .slots
            .iter_mut()
            .filter(|(_, w)| Some(w.value) != w.known)
            .map(|(k, w)| {
                w.known = Some(w.value);
                (*k, w.value)
            })
            .collect();
        dirty.sort_unstable_by_key(|(k, _)| *k);
        dirty
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_words_are_flushed_once() {
        let mut cache = StorageCache::default();
        let (a, b) = (B256::with_last_byte(1), B256::with_last_byte(2));
        cache.insert_known(a, B256::ZERO);
        cache.write(a, B256::ZERO); // same as known: not dirty
        cache.write(b, B256::with_last_byte(9));
        assert_eq!(cache.take_dirty(), vec![(b, B256::with_last_byte(9))]);
        assert!(cache.take_dirty().is_empty());
    }

    #[test]
    fn access_gas_follows_nitro_tiers() {
        let mut cache = StorageCache::default();
        let reads: Vec<u64> = (0..130).map(|_| cache.read_gas()).collect();
        assert_eq!(
            (reads[31], reads[32], reads[127], reads[128]),
            (0, 2, 2, 10)
        );
        let writes: Vec<u64> = (0..66).map(|_| cache.write_gas()).collect();
        assert_eq!(
            (writes[7], writes[8], writes[63], writes[64]),
            (0, 7, 7, 10)
        );
    }
}
