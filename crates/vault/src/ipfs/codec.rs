//! The multicodec codes this crate names blocks and hashes by, as the
//! multicodec table (github.com/multiformats/multicodec, `table.csv`) lists
//! them: the codecs a UnixFS DAG is made of, and the one hash its CIDs use.

/// `raw`: a block that is only bytes, as UnixFS leaves are.
pub const RAW: u64 = 0x55;
/// `dag-pb`: a protobuf DAG node (see [`super::dagpb`]), as UnixFS roots and
/// inner nodes are, and every CIDv0.
pub const DAG_PB: u64 = 0x70;
/// `sha2-256`: the multihash of every CID this crate makes or accepts.
pub const SHA2_256: u64 = 0x12;
