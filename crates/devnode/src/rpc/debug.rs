//! `debug_traceTransaction`, answered by the backend's tracer.

use std::sync::Arc;

use alloy_primitives::B256;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

use super::backend::Backend;
use super::error::server_error;

/// Tracing methods.
#[rpc(server, namespace = "debug")]
pub trait DebugApi {
    /// The backend's trace of a mined transaction. `options` (geth's tracer
    /// config) is accepted so that callers passing one still parse, but the
    /// backend chooses the tracer. Unknown or untraceable hashes get a -32000
    /// error, as geth answers, rather than a `null` that clients fail to decode.
    #[method(name = "traceTransaction", blocking)]
    fn trace_transaction(
        &self,
        hash: B256,
        options: Option<serde_json::Value>,
    ) -> RpcResult<serde_json::Value>;
}

/// Serves [`DebugApiServer`] from a [`Backend`].
pub struct DebugRpc {
    backend: Arc<dyn Backend>,
}

impl DebugRpc {
    /// Wraps the chain.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend }
    }
}

impl DebugApiServer for DebugRpc {
    fn trace_transaction(
        &self,
        hash: B256,
        _options: Option<serde_json::Value>,
    ) -> RpcResult<serde_json::Value> {
        self.backend
            .trace_transaction(hash)
            .ok_or_else(|| server_error(format!("no trace for transaction {hash}")))
    }
}
