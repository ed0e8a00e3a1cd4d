//! Every integration test of this crate, in one binary: one link of alloy,
//! revm and wasmi instead of one per file. Run one file's tests alone with
//! `cargo test -p <crate> --test it <module>::` (docs/testing.md).

mod bad_input;
mod common;
mod ipfs_node;
mod network_bounds;
mod serve;
mod story;
