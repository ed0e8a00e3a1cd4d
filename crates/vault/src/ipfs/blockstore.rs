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

use super::codec::SHA2_256;
use super::writer::Writer;
use crate::Error;
use cid::Cid;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Opens the store in `dir`. The directory is created by the first `put`:
    /// a command that only reads, or fails before it stores anything, leaves no
    /// empty store behind.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Ok(Self::at(dir.as_ref().to_path_buf()))
    }

    /// Whether a file is stored for `cid`, under its CID or this value's
    /// temporary name (a block still queued for writing may not be seen yet).
    /// Nothing is read or checked.
    pub fn contains(&self, cid: &Cid) -> bool {
        let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
        exists(&self.path(cid)) || exists(&self.tmp_path(cid))
    }

    /// Removes the blocks under `cids`, once every block put so far is written:
    /// for blocks a failed operation stored and nothing will ever reference. The
    /// caller must know them to be its own; another record may share a block.
    pub fn remove(&mut self, cids: &[Cid]) -> Result<(), Error> {
        self.sync()?;
        for cid in cids {
            match std::fs::remove_file(self.path(cid)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
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

/// The largest block the store reads: as large as a CAR section may be, and
/// far above the 256 KiB chunks and the dag-pb nodes of a UnixFS DAG.
pub(crate) const MAX_BLOCK: u64 = super::car::MAX_SECTION;

/// The file's bytes, or `None` if there is no such file. Only a regular file of
/// at most [`MAX_BLOCK`] bytes is read: a block replaced by a symbolic link
/// (to /dev/zero, say), a FIFO or a device would otherwise hang the reader or
/// fill its memory.
fn read(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    use std::io::Read;
    let refused = |what: &str| {
        Error::Ipfs(format!(
            "block file {} is {what}: refused (the store holds regular files only)",
            path.display()
        ))
    };
    let mut file = match open_block(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => refused("a symbolic link"),
                Ok(m) if !m.is_file() => refused(NOT_REGULAR),
                _ => e.into(),
            })
        }
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(NOT_REGULAR));
    }
    if meta.len() > MAX_BLOCK {
        return Err(refused(&format!("over the {MAX_BLOCK}-byte block limit")));
    }
    // The length can change after the check: read no more than the limit allows.
    let mut block = Vec::with_capacity(meta.len() as usize);
    (&mut file).take(MAX_BLOCK + 1).read_to_end(&mut block)?;
    if block.len() as u64 > MAX_BLOCK {
        return Err(refused(&format!("over the {MAX_BLOCK}-byte block limit")));
    }
    Ok(Some(block))
}

/// Opens a block file without following a symbolic link in its last component,
/// and without blocking on a FIFO (which `open` would, until a writer came).
#[cfg(target_os = "linux")]
fn open_block(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Opens a block file once it is known to be a regular one (a check that an
/// exchange of files in between defeats; Linux opens without the race).
#[cfg(not(target_os = "linux"))]
fn open_block(path: &Path) -> std::io::Result<std::fs::File> {
    if !std::fs::symlink_metadata(path)?.is_file() {
        return Err(std::io::Error::other(NOT_REGULAR));
    }
    std::fs::File::open(path)
}

const NOT_REGULAR: &str = "not a regular file (a FIFO, device or directory)";

impl BlockStore for FsBlockStore {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error> {
        verify(cid, block)?;
        // Whether the block is already stored is the writer's to check, in order
        // with the blocks queued before it.
        let (tmp, path) = (self.tmp_path(cid), self.path(cid));
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => {
                std::fs::create_dir_all(&self.dir)?;
                self.writer.insert(Writer::spawn(self.dir.clone())?)
            }
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
    use crate::ipfs::codec::RAW;
    use cid::multihash::Multihash;

    fn raw_cid(block: &[u8]) -> Cid {
        let digest: [u8; 32] = Sha256::digest(block).into();
        Cid::new_v1(RAW, Multihash::wrap(SHA2_256, &digest).unwrap())
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
        let (a, b) = (b"block a".as_slice(), b"block b".as_slice());
        store.put(&raw_cid(a), a).unwrap();
        store.sync().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // The write fails on the store's thread: the next call reports it.
        let second = store.put(&raw_cid(b), b).and_then(|()| store.sync());
        assert!(matches!(second, Err(Error::Io(_))), "{second:?}");
        assert!(!dir.exists());
    }

    #[test]
    fn the_directory_appears_with_the_first_block_and_removal_takes_only_the_named() {
        let dir = std::env::temp_dir().join(format!("vault-bs-lazy-{}", std::process::id()));
        let mut store = FsBlockStore::open(&dir).unwrap();
        let (a, b) = (b"block a".as_slice(), b"block b".as_slice());
        assert!(matches!(
            store.get(&raw_cid(a)),
            Err(Error::MissingBlock(_))
        ));
        assert!(!store.contains(&raw_cid(a)));
        assert!(!dir.exists(), "reading creates nothing");
        store.put(&raw_cid(a), a).unwrap();
        store.put(&raw_cid(b), b).unwrap();
        store.remove(&[raw_cid(a)]).unwrap();
        assert!(store.contains(&raw_cid(b)));
        assert_eq!(files(&dir), vec![raw_cid(b).to_string()]);
        assert!(matches!(
            store.get(&raw_cid(a)),
            Err(Error::MissingBlock(_))
        ));
        store.remove(&[raw_cid(a)]).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
