//! A record end to end: plaintext in, encrypted UnixFS DAG in the store, and back.
//! Encryption streams straight into the DAG builder, so no plaintext or
//! ciphertext file is ever written and memory stays at a few chunks.

use crate::ipfs::{BlockStore, Cid, DagWriter, FileReader};
use crate::stream::{self, Sealed};
use crate::{Error, RecordContext, RecordKey};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// Where a sealed record went: what `addRecord` puts on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Root of the ciphertext's UnixFS DAG, as kubo would compute it.
    pub cid: Cid,
    /// sha-256 of the ciphertext, the on-chain content hash.
    pub sha256: [u8; 32],
    /// Bytes of ciphertext, header and tags included.
    pub ciphertext_len: u64,
}

/// Encrypts `plaintext` under `key` for `ctx` and adds the ciphertext to `store`.
pub fn seal(
    key: &RecordKey,
    ctx: &RecordContext,
    plaintext: &mut impl Read,
    store: &mut impl BlockStore,
) -> Result<StoredRecord, Error> {
    let mut dag = DagWriter::new(store);
    let Sealed {
        sha256,
        ciphertext_len,
    } = stream::encrypt(key, ctx, plaintext, &mut dag).map_err(flatten)?;
    let cid = dag.finish()?;
    Ok(StoredRecord {
        cid,
        sha256,
        ciphertext_len,
    })
}

/// Fetches `cid` from `store`, checks its sha-256 against `expected` (the hash on
/// chain), then decrypts into `out`. On any error `out` holds garbage or a prefix:
/// write to a temporary file and rename it only on success.
pub fn open(
    key: &RecordKey,
    ctx: &RecordContext,
    cid: &Cid,
    expected: &[u8; 32],
    store: &impl BlockStore,
    out: &mut impl Write,
) -> Result<u64, Error> {
    // Check the hash first: a substituted ciphertext is reported as such, not as
    // a decryption failure, and nothing is decrypted from it.
    let mut hash = Sha256::new();
    std::io::copy(&mut FileReader::open(cid, store)?, &mut hash).map_err(Error::from_io)?;
    if <[u8; 32]>::from(hash.finalize()) != *expected {
        return Err(Error::HashMismatch(cid.to_string()));
    }
    let mut counted = Counting { inner: out, n: 0 };
    stream::decrypt(key, ctx, &mut FileReader::open(cid, store)?, &mut counted).map_err(flatten)?;
    Ok(counted.n)
}

/// Errors from the store come back through `Read`/`Write` as I/O errors.
fn flatten(e: Error) -> Error {
    match e {
        Error::Io(io) => Error::from_io(io),
        other => other,
    }
}

struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::FsBlockStore;
    use alloy_primitives::{Address, U256};

    fn ctx() -> RecordContext {
        RecordContext {
            chain_id: 412346,
            registry: Address::repeat_byte(7),
            patient: Address::repeat_byte(8),
            record_id: U256::from(1),
        }
    }

    #[test]
    fn a_record_goes_into_the_store_encrypted_and_comes_back() {
        let dir = std::env::temp_dir().join(format!("vault-record-{}", std::process::id()));
        let mut store = FsBlockStore::open(&dir).unwrap();
        let plain: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        let key = RecordKey::generate();
        let stored = seal(&key, &ctx(), &mut &plain[..], &mut store).unwrap();
        assert_eq!(stored.ciphertext_len, plain.len() as u64 + 27 + 11 * 16);
        let mut ciphertext = Vec::new();
        crate::ipfs::cat(&stored.cid, &store, &mut ciphertext).unwrap();
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&ciphertext)), stored.sha256);
        assert!(!ciphertext
            .windows(64)
            .any(|w| plain.windows(64).next() == Some(w)));
        let mut out = Vec::new();
        open(&key, &ctx(), &stored.cid, &stored.sha256, &store, &mut out).unwrap();
        assert!(out == plain);
        assert!(matches!(
            open(&key, &ctx(), &stored.cid, &[0; 32], &store, &mut Vec::new()),
            Err(Error::HashMismatch(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
