//! Every integration test of this crate, in one binary: one link of alloy,
//! revm and wasmi instead of one per file. Run one file's tests alone with
//! `cargo test -p <crate> --test it <module>::` (docs/testing.md).

#[cfg(feature = "http")]
mod js_ipfs;
#[cfg(feature = "http")]
mod read_bounds;
