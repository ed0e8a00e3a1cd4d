//! Every integration test of this crate, in one binary: one link of alloy,
//! revm and wasmi instead of one per file. Run one file's tests alone with
//! `cargo test -p <crate> --test it <module>::` (docs/testing.md).

mod activation;
mod common;
mod contracts_on_devnode;
mod fuzz;
mod interop;
mod limits;
mod persistence;
mod robustness;
mod rpc_server;
