//! Where blocks live: one file per block on disk, written atomically.

use crate::Error;
use cid::Cid;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

const SHA2_256: u64 = 0x12;

/// A content-addressed block store.
pub trait BlockStore {
    /// Stores `block` under `cid`; storing the same block again is a no-op.
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error>;
    /// The block for `cid`, checked against it, or `Error::MissingBlock`.
    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error>;
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

/// The embedded store: `<dir>/<cid>` files, no daemon.
#[derive(Debug, Clone)]
pub struct FsBlockStore {
    dir: PathBuf,
}

impl FsBlockStore {
    /// Opens (creating if needed) the store kept in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        std::fs::create_dir_all(dir.as_ref())?;
        Ok(Self {
            dir: dir.as_ref().to_path_buf(),
        })
    }

    fn path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(cid.to_string())
    }
}

impl BlockStore for FsBlockStore {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error> {
        verify(cid, block)?;
        let path = self.path(cid);
        if path.exists() {
            return Ok(());
        }
        // Write then rename, so a crash never leaves a partial block under its CID.
        let tmp = self.dir.join(format!(".{}.tmp{}", cid, std::process::id()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(block)?;
        file.sync_data()?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error> {
        let block = match std::fs::read(self.path(cid)) {
            Ok(block) => block,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingBlock(cid.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        verify(cid, &block)?;
        Ok(block)
    }
}
