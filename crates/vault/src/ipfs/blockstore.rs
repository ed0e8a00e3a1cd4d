//! Where blocks live: one file per block on disk, written atomically.
//!
//! Durability is batched. A block is written to a temporary file and only
//! renamed to its CID once its bytes are on disk, so a crash leaves at worst
//! stray `.tmp` files, never a torn block under a CID (which `put` would then
//! skip as "already stored" forever). Syncing each 256 KiB block cost ~4 ms
//! (a journal commit and a cache flush per file): 17 s of a 20 s seal of 1 GiB,
//! and syncing them all at the end one by one is no cheaper. So blocks wait in a
//! pending set and [`BlockStore::sync`] makes the whole set durable at once (one
//! `syncfs` on Linux), then renames them and syncs the directory.
//! `DagWriter::finish` syncs, so a CID that `add` or `seal` returns is durable.

use crate::Error;
use cid::Cid;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const SHA2_256: u64 = 0x12;
/// Blocks (256 KiB each in a DAG) held back before an intermediate sync: bounds
/// both the dirty data one sync flushes and the bookkeeping for a huge file.
const MAX_PENDING: usize = 1024;

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

/// The embedded store: `<dir>/<cid>` files, no daemon. Blocks put since the last
/// [`BlockStore::sync`] are readable through this value but not yet under their
/// CIDs on disk; dropping the store syncs them (best effort: call `sync` to see
/// errors).
#[derive(Debug)]
pub struct FsBlockStore {
    dir: PathBuf,
    /// Tells this value's temporary files from those of other stores (in this
    /// or another process) on the same directory.
    tag: String,
    pending: HashSet<Cid>,
}

impl Clone for FsBlockStore {
    /// The same directory with nothing pending: pending blocks belong to the
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
            pending: HashSet::new(),
        }
    }

    fn path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(cid.to_string())
    }

    fn tmp_path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(format!(".{cid}.{}.tmp", self.tag))
    }

    /// Gets the pending blocks' bytes onto the disk.
    #[cfg(target_os = "linux")]
    fn flush_pending(&self) -> Result<(), Error> {
        use std::os::fd::AsRawFd;
        // One writeback of the whole file system instead of a journal commit per
        // file. It also flushes other programs' dirty pages, which they would
        // have paid for later anyway.
        let dir = std::fs::File::open(&self.dir)?;
        // SAFETY: `dir` is an open descriptor for the duration of the call.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(())
    }

    /// Gets the pending blocks' bytes onto the disk.
    #[cfg(not(target_os = "linux"))]
    fn flush_pending(&self) -> Result<(), Error> {
        for cid in &self.pending {
            std::fs::File::open(self.tmp_path(cid))?.sync_data()?;
        }
        Ok(())
    }
}

impl BlockStore for FsBlockStore {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error> {
        verify(cid, block)?;
        if self.pending.contains(cid) || self.path(cid).exists() {
            return Ok(());
        }
        std::fs::File::create(self.tmp_path(cid))?.write_all(block)?;
        self.pending.insert(*cid);
        if self.pending.len() >= MAX_PENDING {
            self.sync()?;
        }
        Ok(())
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error> {
        let path = if self.pending.contains(cid) {
            self.tmp_path(cid)
        } else {
            self.path(cid)
        };
        let block = match std::fs::read(path) {
            Ok(block) => block,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingBlock(cid.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        verify(cid, &block)?;
        Ok(block)
    }

    fn sync(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.flush_pending()?;
        for cid in std::mem::take(&mut self.pending) {
            std::fs::rename(self.tmp_path(&cid), self.path(&cid))?;
        }
        // The renames themselves, so the blocks are found under their CIDs after a crash.
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

impl Drop for FsBlockStore {
    fn drop(&mut self) {
        let _ = self.sync();
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
}
