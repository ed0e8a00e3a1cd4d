//! What the JSON-RPC layer needs from a chain. The node implements it; the RPC
//! layer never touches revm, so either side can change without the other.

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_rpc_types_eth::{
    state::StateOverride, Block, BlockId, BlockNumberOrTag, FeeHistory, Filter, Header, Log,
    Transaction, TransactionReceipt, TransactionRequest,
};
use tokio::sync::broadcast;

/// Why a backend call failed, in the terms a JSON-RPC client understands.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The EVM reverted; `data` is the raw revert payload (a custom error or Error(string)).
    /// JSON-RPC code 3, message "execution reverted[: reason]", data = 0x-hex of `data`.
    #[error("execution reverted{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Revert {
        /// The revert payload, sent back as the error's `data`.
        data: Bytes,
        /// The payload decoded (Error(string), Panic(uint256)), when it is one.
        reason: Option<String>,
    },
    /// The transaction halted without a revert payload (out of gas, invalid opcode...).
    /// JSON-RPC code -32000.
    #[error("{0}")]
    Halt(String),
    /// The transaction cannot enter the chain: bad signature, nonce, chain id, funds, gas.
    /// JSON-RPC code -32000 (geth's code for rejected transactions).
    #[error("{0}")]
    InvalidTransaction(String),
    /// Well-formed JSON but a parameter the node cannot use (unknown block, bad range).
    /// JSON-RPC code -32602.
    #[error("{0}")]
    InvalidParams(String),
    /// The node failed; the message says why. JSON-RPC code -32603.
    #[error("internal error: {0}")]
    Internal(String),
    /// A call ran past the node's time limit (geth's `rpc.evmtimeout`) and was
    /// abandoned. JSON-RPC code -32000, with geth's message.
    #[error("execution aborted (timeout = {})", go_duration(*.0))]
    Timeout(std::time::Duration),
}

/// A duration as Go prints one (`5s`, `1.5s`, `250ms`, `1m30s`), so that the
/// timeout message reads exactly as geth's.
pub fn go_duration(d: std::time::Duration) -> String {
    fn trim(whole: u128, frac: u128, digits: usize) -> String {
        let frac = format!("{frac:0digits$}");
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{frac}")
        }
    }
    let ns = d.as_nanos();
    match ns {
        0 => "0s".into(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => format!("{}µs", trim(n / 1_000, n % 1_000, 3)),
        n if n < 1_000_000_000 => format!("{}ms", trim(n / 1_000_000, n % 1_000_000, 6)),
        n => {
            let secs = n / 1_000_000_000;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            let s = format!("{}s", trim(s, n % 1_000_000_000, 9));
            match (h, m) {
                (0, 0) => s,
                (0, m) => format!("{m}m{s}"),
                (h, m) => format!("{h}h{m}m{s}"),
            }
        }
    }
}

/// What every [`Backend`] method that can fail returns.
pub type BackendResult<T> = Result<T, BackendError>;

/// A page of one account's storage in geth's `debug_storageRangeAt` order:
/// slots sorted by the keccak-256 of their key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageRange {
    /// (keccak-256 of the slot, slot, value), non-zero values only.
    pub slots: Vec<(B256, U256, U256)>,
    /// The hashed key the next page starts at, if there is one.
    pub next_key: Option<B256>,
}

/// A block as it was mined, with the logs it produced, for eth_subscribe.
#[derive(Debug, Clone)]
pub struct MinedBlock {
    /// The block's header as eth_subscribe("newHeads") sends it.
    pub header: Header,
    /// Every log of the block, which eth_subscribe("logs") filters.
    pub logs: Vec<Log>,
}

/// The chain behind the JSON-RPC server. Methods are synchronous: the node executes
/// a transaction in microseconds and mines it at once (automine).
pub trait Backend: Send + Sync + 'static {
    /// eth_chainId: the EIP-155 chain id.
    fn chain_id(&self) -> u64;
    /// eth_blockNumber: the head's number.
    fn block_number(&self) -> u64;
    /// Suggested gas price (base fee of the next block plus nothing: priority fees are 0).
    fn gas_price(&self) -> u128;
    /// Accounts the node can sign for (eth_accounts, eth_sendTransaction).
    fn accounts(&self) -> Vec<Address>;

    /// eth_getBalance: `address`'s balance in wei at `block`.
    fn balance(&self, address: Address, block: BlockId) -> BackendResult<U256>;
    /// eth_getTransactionCount: `address`'s nonce at `block`.
    fn transaction_count(&self, address: Address, block: BlockId) -> BackendResult<u64>;
    /// eth_getCode: `address`'s code at `block`, empty for an account without any.
    fn code(&self, address: Address, block: BlockId) -> BackendResult<Bytes>;
    /// eth_getStorageAt: one storage slot of `address` at `block`.
    fn storage_at(&self, address: Address, slot: U256, block: BlockId) -> BackendResult<B256>;

    /// Decodes, validates and executes a signed transaction (mined at once under
    /// automine, queued under interval mining). Returns its hash.
    fn send_raw_transaction(&self, raw: Bytes) -> BackendResult<B256>;
    /// Signs with one of `accounts()` and sends.
    fn send_transaction(&self, request: TransactionRequest) -> BackendResult<B256>;
    /// Executes without committing, on the state at `block`, with optional overrides.
    fn call(
        &self,
        request: TransactionRequest,
        block: BlockId,
        overrides: Option<StateOverride>,
    ) -> BackendResult<Bytes>;
    /// eth_estimateGas: the gas `request` needs to succeed on the state at `block`,
    /// with optional overrides.
    fn estimate_gas(
        &self,
        request: TransactionRequest,
        block: BlockId,
        overrides: Option<StateOverride>,
    ) -> BackendResult<u64>;

    /// `None` while the transaction is pending or unknown (not an error: alloy polls).
    fn transaction_receipt(&self, hash: B256) -> Option<TransactionReceipt>;
    /// eth_getTransactionByHash; `None` if unknown.
    fn transaction_by_hash(&self, hash: B256) -> Option<Transaction>;
    /// eth_getBlockByNumber and eth_getBlockByHash, with transactions as objects
    /// when `full_transactions`; `None` if there is no such block.
    fn block(&self, block: BlockId, full_transactions: bool) -> Option<Block>;
    /// eth_getLogs: the logs of the filter's blocks that match it, in chain order.
    fn logs(&self, filter: &Filter) -> BackendResult<Vec<Log>>;
    /// eth_feeHistory: base fees and gas-used ratios of `block_count` blocks up to
    /// `newest`, and the rewards at `reward_percentiles` if asked.
    fn fee_history(
        &self,
        block_count: u64,
        newest: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> BackendResult<FeeHistory>;

    /// evm_increaseTime: moves the clock of the next blocks forward; returns the
    /// total offset. Refuses (InvalidParams) a move that would take block
    /// timestamps past u64.
    fn increase_time(&self, seconds: u64) -> BackendResult<u64>;
    /// evm_mine: mines one block, at `timestamp` if given.
    fn mine(&self, timestamp: Option<u64>) -> BackendResult<()>;
    /// New blocks with their logs, for eth_subscribe("newHeads" | "logs").
    fn subscribe(&self) -> broadcast::Receiver<MinedBlock>;
    /// debug_storageRangeAt: `address`'s storage from hashed key `start`, at most
    /// `max` slots, in the state of the block `block_hash`.
    fn storage_range(
        &self,
        _block_hash: B256,
        _address: Address,
        _start: B256,
        _max: usize,
    ) -> BackendResult<StorageRange> {
        Err(BackendError::InvalidParams(
            "this node does not list storage".into(),
        ))
    }
    /// debug_traceTransaction (a call tracer is enough); `None` if unknown.
    fn trace_transaction(&self, _hash: B256) -> Option<serde_json::Value> {
        None
    }
}
