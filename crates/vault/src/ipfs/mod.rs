//! Content addressing as IPFS does it: files become UnixFS DAGs with the CIDs kubo
//! gives them (`ipfs add --cid-version=1`: 256 KiB chunks, raw leaves, balanced
//! layout of 174 links, sha2-256), kept in a block store that checks every block
//! against its CID.

mod blockstore;
mod unixfs;
mod writer;

pub use blockstore::{BlockStore, FsBlockStore};
pub use cid::Cid;
pub use unixfs::{add, cat, DagWriter, FileReader};
