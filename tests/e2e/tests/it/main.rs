//! Every integration test of this crate, in one binary: one link of alloy,
//! revm and wasmi instead of one per file. Run one file's tests alone with
//! `cargo test -p <crate> --test it <module>::` (docs/testing.md).

mod attacks;
mod contract_owner;
mod dictionary;
mod opt_in;
mod privacy;
mod story;
mod twins;
