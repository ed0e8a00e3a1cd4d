//! Files to UnixFS DAGs and back, streaming: rust-unixfs builds the tree kubo
//! builds, one chunk at a time, and reading walks it block by block.

use super::blockstore::BlockStore;
use super::codec::RAW;
use crate::Error;
use cid::Cid;
use rust_unixfs::file::adder::FileAdder;
use rust_unixfs::file::visit::IdleFileVisit;
use std::io::{Read, Write};

const READ_BUF: usize = 256 * 1024;

/// Adds everything `reader` yields as a UnixFS file; returns the root CID.
pub fn add(reader: &mut impl Read, store: &mut impl BlockStore) -> Result<Cid, Error> {
    let mut writer = DagWriter::new(store);
    let mut buf = vec![0u8; READ_BUF];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        writer.push(&buf[..n])?;
    }
    writer.finish()
}

/// rust-unixfs and this crate name the same CID type through different paths;
/// the bytes are the bridge.
fn to_cid(cid: &impl ToString) -> Result<Cid, Error> {
    cid.to_string()
        .parse()
        .map_err(|e| Error::Ipfs(format!("CID: {e}")))
}

/// Writes the file under `root` to `out`; returns its size.
pub fn cat(root: &Cid, store: &impl BlockStore, out: &mut impl Write) -> Result<u64, Error> {
    let mut reader = FileReader::open(root, store)?;
    std::io::copy(&mut reader, out).map_err(Error::from_io)
}

/// A UnixFS file as a `Read`: blocks are fetched (and checked) one at a time, as
/// the reader reaches them, so a large file never sits in memory.
pub struct FileReader<'s, S> {
    root: Cid,
    store: &'s S,
    buf: Vec<u8>,
    pos: usize,
    step: Option<rust_unixfs::file::visit::FileVisit>,
    cache: Option<rust_unixfs::file::visit::Cache>,
}

impl<'s, S: BlockStore> FileReader<'s, S> {
    /// Fetches the root block; fails at once if it is missing, corrupt or not a file.
    pub fn open(root: &Cid, store: &'s S) -> Result<Self, Error> {
        let block = store.get(root)?;
        if root.codec() == RAW {
            return Ok(Self {
                root: *root,
                store,
                buf: block,
                pos: 0,
                step: None,
                cache: None,
            });
        }
        let (content, _, _, step) = IdleFileVisit::default()
            .start(&block)
            .map_err(|e| Error::Ipfs(format!("{root} is not a UnixFS file: {e}")))?;
        Ok(Self {
            root: *root,
            store,
            buf: content.to_vec(),
            pos: 0,
            step,
            cache: None,
        })
    }

    fn refill(&mut self) -> Result<(), Error> {
        while self.pos == self.buf.len() {
            let Some(visit) = self.step.take() else {
                return Ok(());
            };
            let next: Cid = to_cid(visit.pending_links().0)?;
            let block = self.store.get(&next)?;
            let (content, following) = visit
                .continue_walk(&block, &mut self.cache)
                .map_err(|e| Error::Ipfs(format!("walking {}: {e}", self.root)))?;
            self.buf.clear();
            self.buf.extend_from_slice(content);
            self.pos = 0;
            self.step = following;
        }
        Ok(())
    }
}

impl<S: BlockStore> Read for FileReader<'_, S> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.refill().map_err(std::io::Error::other)?;
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A `Write` that turns what it is given into a UnixFS DAG in `store`, chunk by
/// chunk; [`DagWriter::finish`] returns the root CID.
pub struct DagWriter<'s, S> {
    adder: FileAdder,
    store: &'s mut S,
    /// A file of exactly one full chunk is that chunk: the builder hands it
    /// out while pushing and has nothing left to give at the end.
    last: Option<Cid>,
}

impl<'s, S: BlockStore> DagWriter<'s, S> {
    /// A writer whose blocks go into `store` as each chunk fills.
    pub fn new(store: &'s mut S) -> Self {
        Self {
            adder: FileAdder::default(),
            store,
            last: None,
        }
    }

    fn push(&mut self, mut input: &[u8]) -> Result<(), Error> {
        while !input.is_empty() {
            let (blocks, consumed) = self.adder.push(input);
            for (cid, block) in blocks {
                let cid = to_cid(&cid)?;
                self.store.put(&cid, &block)?;
                self.last = Some(cid);
            }
            input = &input[consumed..];
        }
        Ok(())
    }

    /// Flushes the last chunk and the tree above it and syncs the store;
    /// returns the root CID, whose blocks are then durable.
    pub fn finish(self) -> Result<Cid, Error> {
        let mut root = self.last;
        for (cid, block) in self.adder.finish() {
            let cid = to_cid(&cid)?;
            self.store.put(&cid, &block)?;
            root = Some(cid);
        }
        self.store.sync()?;
        root.ok_or_else(|| Error::Ipfs("the DAG builder produced no root".into()))
    }
}

impl<S: BlockStore> Write for DagWriter<'_, S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push(buf).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::blockstore::FsBlockStore;
    use super::super::codec::DAG_PB;
    use super::*;

    fn store() -> (FsBlockStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "vault-ipfs-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        (FsBlockStore::open(&dir).unwrap(), dir)
    }

    #[test]
    fn small_files_get_kubos_raw_leaf_cids() {
        let (mut s, dir) = store();
        // `ipfs add --cid-version=1` of "hello world" (no newline), from toolchain.md.
        let cid = add(&mut &b"hello world"[..], &mut s).unwrap();
        assert_eq!(
            cid.to_string(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        );
        // The empty file: the raw block of no bytes (sha2-256 of the empty string).
        let empty = add(&mut &b""[..], &mut s).unwrap();
        assert_eq!(
            empty.to_string(),
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
        let mut out = Vec::new();
        assert_eq!(cat(&cid, &s, &mut out).unwrap(), 11);
        assert_eq!(out, b"hello world");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_of_exactly_one_chunk_is_its_raw_leaf() {
        let (mut s, dir) = store();
        let data = vec![3u8; 262_144];
        let cid = add(&mut &data[..], &mut s).unwrap();
        assert_eq!(cid.codec(), RAW);
        let mut out = Vec::new();
        assert_eq!(cat(&cid, &s, &mut out).unwrap(), 262_144);
        assert!(out == data);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn large_files_are_balanced_dags_that_read_back() {
        let (mut s, dir) = store();
        // 174 full chunks and one more: a root whose first child is a full 174-link node.
        let data: Vec<u8> = (0..(175 * 262_144 + 1000))
            .map(|i: usize| (i % 253) as u8)
            .collect();
        let cid = add(&mut &data[..], &mut s).unwrap();
        assert_eq!(cid.codec(), DAG_PB, "a dag-pb root");
        assert_eq!(cid.version(), cid::Version::V1);
        let mut out = Vec::new();
        assert_eq!(cat(&cid, &s, &mut out).unwrap(), data.len() as u64);
        assert!(out == data);
        // Same input, same CID (it is content addressing).
        assert_eq!(add(&mut &data[..], &mut s).unwrap(), cid);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_corrupted_or_missing_block_is_refused() {
        let (mut s, dir) = store();
        let data = vec![9u8; 600_000];
        let cid = add(&mut &data[..], &mut s).unwrap();
        let leaf = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("bafkrei")
            })
            .unwrap();
        let mut bytes = std::fs::read(&leaf).unwrap();
        bytes[0] ^= 1;
        std::fs::write(&leaf, &bytes).unwrap();
        assert!(matches!(
            cat(&cid, &s, &mut Vec::new()),
            Err(Error::BlockMismatch(_))
        ));
        std::fs::remove_file(&leaf).unwrap();
        assert!(matches!(
            cat(&cid, &s, &mut Vec::new()),
            Err(Error::MissingBlock(_))
        ));
        let bogus: Cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
            .parse()
            .unwrap();
        assert!(matches!(
            s.put(&bogus, b"not hello world"),
            Err(Error::BlockMismatch(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
