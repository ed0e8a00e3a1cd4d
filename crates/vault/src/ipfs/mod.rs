//! Content addressing as IPFS does it: files become UnixFS DAGs with the CIDs kubo
//! gives them (`ipfs add --cid-version=1`: 256 KiB chunks, raw leaves, balanced
//! layout of 174 links, sha2-256), kept in a block store that checks every block
//! against its CID.
//!
//! Two backends: [`FsBlockStore`] on disk, and [`KuboClient`], any node with
//! kubo's HTTP RPC API (kubo, js-ipfs), whose blocks are checked just the same.
//! [`car`] moves whole DAGs in and out as CARv1; [`pinning`] asks a pinning
//! service (the IPFS Pinning Service API) to keep them.

mod blockstore;
pub mod car;
mod dagpb;
mod http;
mod kubo;
pub mod pinning;
#[cfg(test)]
mod testserver;
mod unixfs;
mod varint;
mod writer;

pub use blockstore::{BlockStore, FsBlockStore, MemBlockStore};
pub use car::{export_car, import_car};
pub use cid::Cid;
pub use kubo::KuboClient;
pub use pinning::PinningClient;
pub use unixfs::{add, cat, DagWriter, FileReader};
