//! Content addressing as IPFS does it: files become UnixFS DAGs with the CIDs kubo
//! gives them (`ipfs add --cid-version=1`: 256 KiB chunks, raw leaves, balanced
//! layout of 174 links, sha2-256), kept in a block store that checks every block
//! against its CID.
//!
//! Two backends: [`FsBlockStore`] on disk, and `KuboClient`, any node with
//! kubo's HTTP RPC API (kubo, js-ipfs), whose blocks are checked just the same.
//! [`car`] moves whole DAGs in and out as CARv1; `pinning` asks a pinning
//! service (the IPFS Pinning Service API) to keep them. The two HTTP clients
//! are the `http` feature (on by default; off for the browser build).
//! [`dagpb`] reads and checks the DAGs' protobuf nodes, and [`codec`] names the
//! multicodecs of their blocks and hashes.

mod blockstore;
pub mod car;
pub mod codec;
pub mod dagpb;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
mod kubo;
#[cfg(feature = "http")]
pub mod pinning;
#[cfg(all(test, feature = "http"))]
mod testserver;
mod unixfs;
mod varint;
mod writer;

pub use blockstore::{BlockStore, FsBlockStore, MemBlockStore, NullBlockStore};
pub use car::{export_car, import_car, import_dag};
pub use cid::Cid;
#[cfg(feature = "http")]
pub use kubo::KuboClient;
#[cfg(feature = "http")]
pub use pinning::PinningClient;
pub use unixfs::{add, cat, DagWriter, FileReader};
