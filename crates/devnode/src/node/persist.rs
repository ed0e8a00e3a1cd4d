//! `--data-dir`: an append-only log of mined blocks (timestamp and raw signed
//! transactions), fsynced before a receipt is returned. The chain is deterministic,
//! so replaying the log rebuilds exactly the state, blocks and receipts; a record
//! torn by kill -9 fails its checksum and is cut off.

use alloy_primitives::{keccak256, Bytes};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

const MAGIC: &[u8; 4] = b"CLB1";
const LOG_FILE: &str = "blocks.log";

/// One mined block as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEntry {
    pub timestamp: u64,
    pub txs: Vec<Bytes>,
}

pub struct BlockLog {
    file: File,
}

impl BlockLog {
    /// Opens (creating) the log in `dir` and returns the intact entries in order.
    pub fn open(dir: &Path) -> io::Result<(Self, Vec<BlockEntry>)> {
        std::fs::create_dir_all(dir)?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join(LOG_FILE))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (entries, good) = parse(&bytes);
        if good < bytes.len() {
            tracing::warn!(
                dropped = bytes.len() - good,
                "block log ends in a torn record: cutting it off"
            );
            file.set_len(good as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok((Self { file }, entries))
    }

    /// Appends one block and waits until it is on disk.
    pub fn append(&mut self, entry: &BlockEntry) -> io::Result<()> {
        let mut body = Vec::new();
        body.extend_from_slice(&entry.timestamp.to_be_bytes());
        body.extend_from_slice(&(entry.txs.len() as u32).to_be_bytes());
        for tx in &entry.txs {
            body.extend_from_slice(&(tx.len() as u32).to_be_bytes());
            body.extend_from_slice(tx);
        }
        let mut record = Vec::with_capacity(body.len() + 12);
        record.extend_from_slice(MAGIC);
        record.extend_from_slice(&(body.len() as u32).to_be_bytes());
        record.extend_from_slice(&keccak256(&body)[..4]);
        record.extend_from_slice(&body);
        self.file.write_all(&record)?;
        self.file.sync_data()
    }
}

/// Entries that parse with a valid checksum, and the byte length they cover.
fn parse(bytes: &[u8]) -> (Vec<BlockEntry>, usize) {
    let mut entries = Vec::new();
    let mut at = 0;
    while let Some((entry, len)) = parse_one(&bytes[at..]) {
        entries.push(entry);
        at += len;
    }
    (entries, at)
}

fn parse_one(b: &[u8]) -> Option<(BlockEntry, usize)> {
    if b.len() < 12 || &b[..4] != MAGIC {
        return None;
    }
    let len = u32::from_be_bytes(b[4..8].try_into().ok()?) as usize;
    let body = b.get(12..12 + len)?;
    if keccak256(body)[..4] != b[8..12] {
        return None;
    }
    let timestamp = u64::from_be_bytes(body.get(..8)?.try_into().ok()?);
    let n = u32::from_be_bytes(body.get(8..12)?.try_into().ok()?) as usize;
    let mut at = 12;
    let mut txs = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        let l = u32::from_be_bytes(body.get(at..at + 4)?.try_into().ok()?) as usize;
        txs.push(Bytes::copy_from_slice(body.get(at + 4..at + 4 + l)?));
        at += 4 + l;
    }
    Some((BlockEntry { timestamp, txs }, 12 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_dropped_and_the_rest_kept() {
        let dir = std::env::temp_dir().join(format!("clb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let one = BlockEntry {
            timestamp: 7,
            txs: vec![Bytes::from_static(b"abc")],
        };
        let two = BlockEntry {
            timestamp: 8,
            txs: vec![],
        };
        {
            let (mut log, entries) = BlockLog::open(&dir).unwrap();
            assert!(entries.is_empty());
            log.append(&one).unwrap();
            log.append(&two).unwrap();
        }
        let path = dir.join(LOG_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"CLB1\0\0\0\x09garb"); // torn third record
        std::fs::write(&path, &bytes).unwrap();
        let (_, entries) = BlockLog::open(&dir).unwrap();
        assert_eq!(entries, vec![one, two]);
        assert_eq!(std::fs::read(&path).unwrap().len(), bytes.len() - 12);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
