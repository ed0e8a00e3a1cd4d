//! A local Arbitrum Stylus chain: revm for the EVM, stylus-vm for WASM programs,
//! JSON-RPC for alloy, cast and cargo-stylus.

mod devnode;
pub mod evm;
pub mod node;
pub mod rpc;
mod spawned;

pub use devnode::{Devnode, DevnodeError};
pub use node::{Node, NodeConfig, CHAIN_ID, RPC_EVM_TIMEOUT, RPC_GAS_CAP};
pub use spawned::SpawnedDevnode;
