//! The ArbOS versions from which nitro's activation rules change (nitro arbutil
//! `evm/mod.rs`), compared with [`crate::params::StylusParams::arbos_version`].

/// From which activation charges for the WASM's size and limits the number of imports
/// (`ARBOS_VERSION_STYLUS_CHARGING_FIXES`).
pub const ARBOS_VERSION_CHARGING_FIXES: u64 = 32;
/// From which multi-value is rejected (`ARBOS_VERSION_STYLUS_NO_MULTI_VALUE`).
pub const ARBOS_VERSION_NO_MULTI_VALUE: u64 = 60;
