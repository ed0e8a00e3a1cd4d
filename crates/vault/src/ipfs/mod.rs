//! Content addressing as IPFS does it: files become UnixFS DAGs with the CIDs kubo
//! gives them (`ipfs add --cid-version=1`: 256 KiB chunks, raw leaves, balanced
//! layout of 174 links, sha2-256), kept in a block store that checks every block
//! against its CID.
//!
//! [`car`] moves whole DAGs in and out as CARv1.

mod blockstore;
pub mod car;
mod dagpb;
mod unixfs;
mod varint;

pub use blockstore::{BlockStore, FsBlockStore, MemBlockStore};
pub use car::{export_car, import_car};
pub use cid::Cid;
pub use unixfs::{add, cat, DagWriter, FileReader};
