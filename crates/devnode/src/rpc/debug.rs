//! `debug_traceTransaction` and `debug_storageRangeAt`, answered by the backend.

use std::sync::Arc;

use alloy_primitives::{Address, Bytes, B256};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

use super::backend::Backend;
use super::error::{invalid_params, server_error};

/// The most slots one `debug_storageRangeAt` answer holds, whatever the caller asks:
/// a bound on the answer's size, not on what can be listed (page with `nextKey`).
pub const MAX_STORAGE_RANGE: u64 = 4096;

/// Tracing and state inspection methods.
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

    /// geth's storage listing: `{storage: {hashedKey: {key, value}}, nextKey}`, slots
    /// in keccak-256 order from `key_start` (a hashed key, left-padded like geth's),
    /// at most `max_result` (capped at [`MAX_STORAGE_RANGE`]). Head block only.
    #[method(name = "storageRangeAt", blocking)]
    fn storage_range_at(
        &self,
        block_hash: B256,
        tx_index: u64,
        address: Address,
        key_start: Bytes,
        max_result: u64,
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

    fn storage_range_at(
        &self,
        block_hash: B256,
        _tx_index: u64,
        address: Address,
        key_start: Bytes,
        max_result: u64,
    ) -> RpcResult<serde_json::Value> {
        if key_start.len() > 32 {
            return Err(invalid_params(format!(
                "keyStart is {} bytes: a hashed key has 32",
                key_start.len()
            )));
        }
        let mut start = B256::ZERO;
        start[32 - key_start.len()..].copy_from_slice(&key_start);
        let max = max_result.min(MAX_STORAGE_RANGE) as usize;
        let range = self
            .backend
            .storage_range(block_hash, address, start, max)?;
        let storage: serde_json::Map<String, serde_json::Value> = range
            .slots
            .iter()
            .map(|(hashed, slot, value)| {
                (
                    hashed.to_string(),
                    serde_json::json!({
                        "key": B256::from(*slot),
                        "value": B256::from(*value),
                    }),
                )
            })
            .collect();
        Ok(serde_json::json!({ "storage": storage, "nextKey": range.next_key }))
    }
}
