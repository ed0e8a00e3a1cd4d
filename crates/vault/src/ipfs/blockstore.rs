//! Where blocks live: one file per block on disk, written atomically.
//!
//! Durability is batched. A block is written to a temporary file and only
//! renamed to its CID once its bytes are on disk, so a crash leaves at worst
//! stray `.tmp` files, never a torn block under a CID (which `put` would then
//! skip as "already stored" forever). Syncing each 256 KiB block cost ~4 ms
//! (a journal commit and a cache flush per file): 17 s of a 20 s seal of 1 GiB,
//! and syncing them all at the end one by one is no cheaper. So blocks are
//! made durable in batches (one `syncfs` on Linux), then renamed, then the
//! directory is synced; [`BlockStore::sync`] commits the last batch.
//! `DagWriter::finish` syncs, so a CID that `add` or `seal` returns is durable.
//! The writing itself happens on a thread of the store's own (`writer.rs`).

use super::writer::Writer;
use crate::Error;
use cid::Cid;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const SHA2_256: u64 = 0x12;

/// A content-addressed block store.
pub trait BlockStore {
    /// Stores `block` under `cid`; storing the same block again is a no-op.
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error>;
    /// The block for `cid`, checked against it, or `Error::MissingBlock`.
    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error>;
    /// Makes every block put so far durable. Stores that persist each block in
    /// `put` need not override it.
    fn sync(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// Refuses a block whose bytes do not hash to its CID.
pub(crate) fn verify(cid: &Cid, block: &[u8]) -> Result<(), Error> {
    let hash = cid.hash();
    let digest: [u8; 32] = Sha256::digest(block).into();
    if hash.code() != SHA2_256 || hash.digest() != digest.as_slice() {
        return Err(Error::BlockMismatch(cid.to_string()));
    }
    Ok(())
}

/// Keeps nothing: for the CID of bytes when the blocks are not wanted, and for
/// measuring sealing without a store.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullBlockStore;

impl BlockStore for NullBlockStore {
    fn put(&mut self, _: &Cid, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error> {
        Err(Error::MissingBlock(cid.to_string()))
    }
}

/// Blocks in memory: for tests and for small DAGs on their way somewhere else.
#[derive(Debug, Clone, Default)]
pub struct MemBlockStore {
    blocks: std::collections::HashMap<Cid, Vec<u8>>,
}

impl MemBlockStore {
    /// How many distinct blocks the store holds.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether the store holds no block.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

impl BlockStore for MemBlockStore {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error> {
        verify(cid, block)?;
        self.blocks.entry(*cid).or_insert_with(|| block.to_vec());
        Ok(())
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error> {
        self.blocks
            .get(cid)
            .cloned()
            .ok_or_else(|| Error::MissingBlock(cid.to_string()))
    }
}

/// The embedded store: `<dir>/<cid>` files, no daemon. Blocks put since the last
/// [`BlockStore::sync`] are readable through this value but may not be durable
/// yet; dropping the store syncs them (best effort: call `sync` to see errors).
#[derive(Debug)]
pub struct FsBlockStore {
    dir: PathBuf,
    /// Tells this value's temporary files from those of other stores (in this
    /// or another process) on the same directory.
    tag: String,
    /// Started by the first `put`: a store that only reads needs no thread.
    writer: Option<Writer>,
}

impl Clone for FsBlockStore {
    /// The same directory with its own writer: unsynced blocks belong to the
    /// value that wrote them.
    fn clone(&self) -> Self {
        Self::at(self.dir.clone())
    }
}

impl FsBlockStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        std::fs::create_dir_all(dir.as_ref())?;
        Ok(Self::at(dir.as_ref().to_path_buf()))
    }

    fn at(dir: PathBuf) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let tag = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Self {
            dir,
            tag,
            writer: None,
        }
    }

    fn path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(cid.to_string())
    }

    fn tmp_path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(format!(".{cid}.{}.tmp", self.tag))
    }
}

/// The file's bytes, or `None` if there is no such file.
fn read(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(block) => Ok(Some(block)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl BlockStore for FsBlockStore {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error> {
        verify(cid, block)?;
        // Whether the block is already stored is the writer's to check, in order
        // with the blocks queued before it.
        let (tmp, path) = (self.tmp_path(cid), self.path(cid));
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => self.writer.insert(Writer::spawn(self.dir.clone())?),
        };
        writer.put(tmp, path, block.to_vec())?;
        Ok(())
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error> {
        let mut block = read(&self.path(cid))?;
        if let (None, Some(writer)) = (&block, &self.writer) {
            // Perhaps still queued or under its temporary name: once the writer
            // has caught up, it is under one of the two.
            writer.barrier()?;
            block = match read(&self.tmp_path(cid))? {
                Some(block) => Some(block),
                None => read(&self.path(cid))?,
            };
        }
        let block = block.ok_or_else(|| Error::MissingBlock(cid.to_string()))?;
        verify(cid, &block)?;
        Ok(block)
    }

    fn sync(&mut self) -> Result<(), Error> {
        match &self.writer {
            Some(writer) => Ok(writer.sync()?),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cid::multihash::Multihash;

    fn raw_cid(block: &[u8]) -> Cid {
        let digest: [u8; 32] = Sha256::digest(block).into();
        Cid::new_v1(0x55, Multihash::wrap(SHA2_256, &digest).unwrap())
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn blocks_are_readable_at_once_and_under_their_cids_after_sync() {
        let dir = std::env::temp_dir().join(format!("vault-bs-{}", std::process::id()));
        let mut store = FsBlockStore::open(&dir).unwrap();
        let (a, b) = (b"block a".as_slice(), b"block b".as_slice());
        store.put(&raw_cid(a), a).unwrap();
        store.put(&raw_cid(a), a).unwrap();
        store.put(&raw_cid(b), b).unwrap();
        assert_eq!(store.get(&raw_cid(a)).unwrap(), a, "pending, yet readable");
        assert!(files(&dir).iter().all(|f| f.ends_with(".tmp")));
        store.sync().unwrap();
        let mut expected = vec![raw_cid(a).to_string(), raw_cid(b).to_string()];
        expected.sort();
        assert_eq!(files(&dir), expected, "renamed, no temporary file left");
        assert_eq!(
            FsBlockStore::open(&dir).unwrap().get(&raw_cid(b)).unwrap(),
            b
        );

        // A store dropped without a sync still leaves its blocks under their CIDs.
        let c = b"block c".as_slice();
        let mut other = store.clone();
        other.put(&raw_cid(c), c).unwrap();
        drop(other);
        assert_eq!(store.get(&raw_cid(c)).unwrap(), c);
        assert!(matches!(
            store.put(&raw_cid(a), b),
            Err(Error::BlockMismatch(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_write_is_reported_and_nothing_is_stored_under_a_cid() {
        let dir = std::env::temp_dir().join(format!("vault-bs-gone-{}", std::process::id()));
        let mut store = FsBlockStore::open(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let a = b"block a".as_slice();
        // The write fails on the store's thread: the next call reports it.
        let first = store.put(&raw_cid(a), a).and_then(|()| store.sync());
        assert!(matches!(first, Err(Error::Io(_))), "{first:?}");
        assert!(!dir.exists());
    }
}
