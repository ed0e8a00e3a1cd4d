//! `web3_*` and `net_*`: node identity, answered without touching chain state.

use std::sync::Arc;

use alloy_primitives::{keccak256, Bytes, B256, U64};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

use super::backend::Backend;

/// What `web3_clientVersion` reports: tools print it, and some branch on the name.
pub const CLIENT_VERSION: &str = concat!("careledger-stylus-devnode/v", env!("CARGO_PKG_VERSION"));

/// `web3_*` and `net_*` methods.
#[rpc(server)]
pub trait NetApi {
    /// Name and version of this node.
    #[method(name = "web3_clientVersion")]
    fn client_version(&self) -> RpcResult<String>;
    /// Keccak-256 of the given bytes.
    #[method(name = "web3_sha3")]
    fn sha3(&self, data: Bytes) -> RpcResult<B256>;
    /// Network id: the chain id in decimal, as geth answers.
    #[method(name = "net_version")]
    fn version(&self) -> RpcResult<String>;
    /// Always `true` while the server runs.
    #[method(name = "net_listening")]
    fn listening(&self) -> RpcResult<bool>;
    /// Always 0: a devnode has no peers.
    #[method(name = "net_peerCount")]
    fn peer_count(&self) -> RpcResult<U64>;
}

/// Serves [`NetApiServer`] from a [`Backend`].
pub struct NetRpc {
    backend: Arc<dyn Backend>,
}

impl NetRpc {
    /// Wraps the chain.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend }
    }
}

impl NetApiServer for NetRpc {
    fn client_version(&self) -> RpcResult<String> {
        Ok(CLIENT_VERSION.to_owned())
    }

    fn sha3(&self, data: Bytes) -> RpcResult<B256> {
        Ok(keccak256(&data))
    }

    fn version(&self) -> RpcResult<String> {
        Ok(self.backend.chain_id().to_string())
    }

    fn listening(&self) -> RpcResult<bool> {
        Ok(true)
    }

    fn peer_count(&self) -> RpcResult<U64> {
        Ok(U64::ZERO)
    }
}
