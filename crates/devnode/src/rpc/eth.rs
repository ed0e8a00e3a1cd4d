//! The `eth_*` request/response methods (subscriptions live in `pubsub.rs`).
//!
//! Every method that reaches chain state is `blocking`: jsonrpsee then runs it on
//! tokio's blocking pool, so a long execution (an eth_call runs up to the node's
//! gas cap and time limit, without the chain's lock) never stalls the async
//! workers that serve other connections and WebSocket pushes.

use std::sync::Arc;

use alloy_eips::eip7840::BlobParams;
use alloy_primitives::{Address, Bytes, B256, U256, U64};
use alloy_rpc_types_eth::{
    state::StateOverride, Block, BlockId, BlockNumberOrTag, FeeHistory, Filter, Log, Transaction,
    TransactionReceipt, TransactionRequest,
};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

use super::backend::Backend;
use super::error::invalid_params;
use super::params::Quantity;

/// `eth_*` methods, with parameters as geth and anvil accept them.
#[rpc(server, namespace = "eth")]
pub trait EthApi {
    /// Chain id as a quantity.
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<U64>;
    /// Always `false`: a devnode has nothing to sync from.
    #[method(name = "syncing")]
    fn syncing(&self) -> RpcResult<bool>;
    /// Number of the latest block.
    #[method(name = "blockNumber", blocking)]
    fn block_number(&self) -> RpcResult<U64>;
    /// Suggested gas price in wei.
    #[method(name = "gasPrice", blocking)]
    fn gas_price(&self) -> RpcResult<U256>;
    /// Always 0: the devnode, like nitro, pays no tips.
    #[method(name = "maxPriorityFeePerGas")]
    fn max_priority_fee_per_gas(&self) -> RpcResult<U256>;
    /// Blob base fee of the next block (the minimum, 1 wei, when the chain has no blob gas).
    #[method(name = "blobBaseFee", blocking)]
    fn blob_base_fee(&self) -> RpcResult<U256>;
    /// Accounts the node signs for.
    #[method(name = "accounts", blocking)]
    fn accounts(&self) -> RpcResult<Vec<Address>>;

    /// Balance at `block` (default latest).
    #[method(name = "getBalance", blocking)]
    fn get_balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256>;
    /// Nonce at `block` (default latest).
    #[method(name = "getTransactionCount", blocking)]
    fn get_transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64>;
    /// Deployed code at `block` (default latest).
    #[method(name = "getCode", blocking)]
    fn get_code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes>;
    /// One storage slot at `block` (default latest).
    #[method(name = "getStorageAt", blocking)]
    fn get_storage_at(
        &self,
        address: Address,
        slot: U256,
        block: Option<BlockId>,
    ) -> RpcResult<B256>;

    /// Submits a signed transaction; returns its hash.
    #[method(name = "sendRawTransaction", blocking)]
    fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256>;
    /// Signs with a node account and submits; returns the hash.
    #[method(name = "sendTransaction", blocking)]
    fn send_transaction(&self, request: TransactionRequest) -> RpcResult<B256>;
    /// Executes without committing. `block_overrides` is accepted so that the
    /// fourth positional slot parses, but only `null` or `{}` is supported.
    #[method(name = "call", blocking)]
    fn call(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<serde_json::Value>,
    ) -> RpcResult<Bytes>;
    /// Gas the request needs, found on the state at `block` with optional overrides.
    #[method(name = "estimateGas", blocking)]
    fn estimate_gas(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
    ) -> RpcResult<U64>;

    /// Receipt of a mined transaction; `null` while pending or unknown.
    #[method(name = "getTransactionReceipt", blocking)]
    fn get_transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>>;
    /// A transaction by hash; `null` when unknown.
    #[method(name = "getTransactionByHash", blocking)]
    fn get_transaction_by_hash(&self, hash: B256) -> RpcResult<Option<Transaction>>;
    /// A block by number or tag; `full` (default false) inlines the transactions.
    #[method(name = "getBlockByNumber", blocking)]
    fn get_block_by_number(
        &self,
        number: BlockNumberOrTag,
        full: Option<bool>,
    ) -> RpcResult<Option<Block>>;
    /// A block by hash; `full` (default false) inlines the transactions.
    #[method(name = "getBlockByHash", blocking)]
    fn get_block_by_hash(&self, hash: B256, full: Option<bool>) -> RpcResult<Option<Block>>;
    /// Number of transactions in a block; `null` for an unknown block.
    #[method(name = "getBlockTransactionCountByNumber", blocking)]
    fn get_block_transaction_count_by_number(
        &self,
        number: BlockNumberOrTag,
    ) -> RpcResult<Option<U64>>;
    /// Number of transactions in a block; `null` for an unknown block.
    #[method(name = "getBlockTransactionCountByHash", blocking)]
    fn get_block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>>;
    /// Logs matching a filter.
    #[method(name = "getLogs", blocking)]
    fn get_logs(&self, filter: Filter) -> RpcResult<Vec<Log>>;
    /// Base fees and reward percentiles of recent blocks.
    #[method(name = "feeHistory", blocking)]
    fn fee_history(
        &self,
        block_count: Quantity,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory>;
}

/// Serves [`EthApiServer`] from a [`Backend`].
pub struct EthRpc {
    backend: Arc<dyn Backend>,
}

impl EthRpc {
    /// Wraps the chain.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend }
    }
}

/// Transaction count of a block, `None` (JSON `null`) for an unknown block.
fn tx_count(block: Option<Block>) -> Option<U64> {
    block.map(|b| U64::from(b.transactions.len()))
}

/// geth's default block for state queries.
fn or_latest(block: Option<BlockId>) -> BlockId {
    block.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest))
}

impl EthApiServer for EthRpc {
    fn chain_id(&self) -> RpcResult<U64> {
        Ok(U64::from(self.backend.chain_id()))
    }

    fn syncing(&self) -> RpcResult<bool> {
        Ok(false)
    }

    fn block_number(&self) -> RpcResult<U64> {
        Ok(U64::from(self.backend.block_number()))
    }

    fn gas_price(&self) -> RpcResult<U256> {
        Ok(U256::from(self.backend.gas_price()))
    }

    fn max_priority_fee_per_gas(&self) -> RpcResult<U256> {
        Ok(U256::ZERO)
    }

    fn blob_base_fee(&self) -> RpcResult<U256> {
        let latest = self.backend.block(BlockId::latest(), false);
        let fee = latest
            .and_then(|b| b.header.inner.next_block_blob_fee(BlobParams::prague()))
            .unwrap_or(1);
        Ok(U256::from(fee))
    }

    fn accounts(&self) -> RpcResult<Vec<Address>> {
        Ok(self.backend.accounts())
    }

    fn get_balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256> {
        Ok(self.backend.balance(address, or_latest(block))?)
    }

    fn get_transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64> {
        Ok(U64::from(
            self.backend.transaction_count(address, or_latest(block))?,
        ))
    }

    fn get_code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes> {
        Ok(self.backend.code(address, or_latest(block))?)
    }

    fn get_storage_at(
        &self,
        address: Address,
        slot: U256,
        block: Option<BlockId>,
    ) -> RpcResult<B256> {
        Ok(self.backend.storage_at(address, slot, or_latest(block))?)
    }

    fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256> {
        Ok(self.backend.send_raw_transaction(raw)?)
    }

    fn send_transaction(&self, request: TransactionRequest) -> RpcResult<B256> {
        Ok(self.backend.send_transaction(request)?)
    }

    fn call(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<serde_json::Value>,
    ) -> RpcResult<Bytes> {
        // Refuse rather than silently ignore: a caller that overrides the block
        // would otherwise get results for a block it did not ask for.
        match block_overrides {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(o)) if o.is_empty() => {}
            Some(_) => return Err(invalid_params("block overrides are not supported")),
        }
        Ok(self
            .backend
            .call(request, or_latest(block), state_overrides)?)
    }

    fn estimate_gas(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
    ) -> RpcResult<U64> {
        let gas = self
            .backend
            .estimate_gas(request, or_latest(block), state_overrides)?;
        Ok(U64::from(gas))
    }

    fn get_transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>> {
        Ok(self.backend.transaction_receipt(hash))
    }

    fn get_transaction_by_hash(&self, hash: B256) -> RpcResult<Option<Transaction>> {
        Ok(self.backend.transaction_by_hash(hash))
    }

    fn get_block_by_number(
        &self,
        number: BlockNumberOrTag,
        full: Option<bool>,
    ) -> RpcResult<Option<Block>> {
        Ok(self.backend.block(number.into(), full.unwrap_or(false)))
    }

    fn get_block_by_hash(&self, hash: B256, full: Option<bool>) -> RpcResult<Option<Block>> {
        Ok(self
            .backend
            .block(BlockId::hash(hash), full.unwrap_or(false)))
    }

    fn get_block_transaction_count_by_number(
        &self,
        number: BlockNumberOrTag,
    ) -> RpcResult<Option<U64>> {
        Ok(tx_count(self.backend.block(number.into(), false)))
    }

    fn get_block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>> {
        Ok(tx_count(self.backend.block(BlockId::hash(hash), false)))
    }

    fn get_logs(&self, filter: Filter) -> RpcResult<Vec<Log>> {
        Ok(self.backend.logs(&filter)?)
    }

    fn fee_history(
        &self,
        block_count: Quantity,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory> {
        // geth's rule, checked here so that every backend gets it for free.
        if let Some(p) = &reward_percentiles {
            let in_range = p.iter().all(|x| (0.0..=100.0).contains(x));
            let sorted = p.windows(2).all(|w| w[0] <= w[1]);
            if !in_range || !sorted {
                return Err(invalid_params(
                    "reward percentiles must be ascending values between 0 and 100",
                ));
            }
        }
        Ok(self
            .backend
            .fee_history(block_count.0, newest_block, reward_percentiles)?)
    }
}
