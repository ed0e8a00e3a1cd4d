//! Where ArbOS lives: the precompiles' addresses and the accounts ArbOS names (nitro keeps
//! them together too, in go-ethereum's `core/types`). A leaf, so that the program records
//! stored at ArbWasm's address and the precompiles themselves can share them.

use alloy_primitives::{address, Address};

/// ArbWasm: activation and the Stylus parameters.
pub const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");
/// ArbWasmCache: ArbOS's program cache.
pub const ARB_WASM_CACHE: Address = address!("0000000000000000000000000000000000000072");
/// ArbOwnerPublic (cargo-stylus asks it about fragment limits).
pub const ARB_OWNER_PUBLIC: Address = address!("000000000000000000000000000000000000006b");
/// nitro-devnode's chain owner, its dev account: allowed to cache programs.
pub const CHAIN_OWNER: Address = address!("3f1Eae7D46d88F08fc2F8ed27FCb2AB183EB2d0E");
/// Where activation data fees go: nitro-devnode's network fee account is its dev account,
/// which is also the chain owner.
pub(crate) const NETWORK_FEE_ACCOUNT: Address = CHAIN_OWNER;
