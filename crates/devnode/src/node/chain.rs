//! Blocks, transactions and receipts of the local chain, and the state they lead to.

use super::exec::{timed_out, transact, Mode};
use super::tx::tx_env_of_signed;
use crate::evm::StylusRuntime;
use crate::rpc::backend::{BackendError, BackendResult};
use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::Transaction as _;
use alloy_consensus::{Header, TxEnvelope, EMPTY_OMMER_ROOT_HASH};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{address, Address, Bloom, Bytes, Log, B256, B64, U256};
use revm::context::BlockEnv;
use revm::context_interface::result::{EVMError, ExecutionResult, Output};
use revm::database::{CacheDB, EmptyDB};
use revm::database_interface::DatabaseCommit;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Arbitrum's minimum base fee, 0.1 gwei, which nitro-devnode never leaves.
pub const BASE_FEE: u64 = 100_000_000;
/// Arbitrum's block gas limit (2^50), so that no devnode block is ever full.
pub const BLOCK_GAS_LIMIT: u64 = 1 << 50;
/// nitro's coinbase for sequenced blocks.
pub const COINBASE: Address = address!("A4B000000000000000000073657175656e636572");

/// A transaction as mined, with what its receipt needs.
#[derive(Debug, Clone)]
pub struct MinedTx {
    /// The signed transaction, as eth_getTransactionByHash returns it.
    pub tx: TxEnvelope,
    /// The sender recovered from the signature.
    pub from: Address,
    /// The transaction's hash, its key in [`Chain::txs`].
    pub hash: B256,
    /// The block that includes it.
    pub block_number: u64,
    /// Its position in that block (the receipt's `transactionIndex`).
    pub index: u64,
    /// The receipt's status: false for a revert or a halt, which still use gas.
    pub success: bool,
    /// Gas this transaction used (the receipt's `gasUsed`).
    pub gas_used: u64,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Logs it emitted, in order.
    pub logs: Vec<Log>,
    /// Index of the first log within its block.
    pub first_log_index: u64,
    /// The contract a successful creation made (the receipt's `contractAddress`).
    pub contract_address: Option<Address>,
    /// Wei per gas it paid at [`BASE_FEE`].
    pub effective_gas_price: u128,
}

/// A mined block as the chain keeps it: the header and its transactions' hashes,
/// from which the RPC builds geth's block objects.
#[derive(Debug, Clone)]
pub struct MinedBlockRecord {
    /// The consensus header; its number is the block's index in [`Chain::blocks`].
    pub header: Header,
    /// The header's hash, kept so that it is computed once.
    pub hash: B256,
    /// Hashes of its transactions in order, each a key in [`Chain::txs`].
    pub txs: Vec<B256>,
}

/// The chain: state after the last block, every block and transaction.
pub struct Chain {
    /// EIP-155 chain id: signed transactions for another chain are refused.
    pub chain_id: u64,
    /// The head's state, shared (never copied) with the calls running on it: a call
    /// takes a [`CallState`] under the chain's lock and executes after releasing it.
    /// Mining writes through `Arc::make_mut`, which copies the state only while a
    /// call still holds the previous one. To serialize, use `&*chain.db`; to
    /// restore, `Arc::new(db)`.
    pub db: Arc<CacheDB<EmptyDB>>,
    /// Every block from genesis, indexed by number (the head is the last).
    pub blocks: Vec<MinedBlockRecord>,
    /// Block numbers by block hash, for eth_getBlockByHash and EIP-1898 block ids.
    pub block_by_hash: HashMap<B256, u64>,
    /// Every mined transaction by hash, for receipts and eth_getTransactionByHash.
    pub txs: HashMap<B256, MinedTx>,
    /// The WASM host and activations every block's programs run with.
    pub runtime: StylusRuntime,
    /// Seconds added to the wall clock for new blocks' timestamps (evm_increaseTime).
    pub time_offset: u64,
    /// The timestamp the next block takes instead of the clock's, used once
    /// (anvil's `evm_setNextBlockTimestamp`).
    pub next_timestamp: Option<u64>,
}

/// A transaction decoded and checked for the pool: signature recovered.
pub struct Incoming {
    /// The decoded transaction.
    pub tx: TxEnvelope,
    /// The sender recovered from its signature.
    pub from: Address,
    /// Its EIP-2718 encoding, re-encoded from `tx`: what `blocks.log` stores.
    pub raw: Bytes,
}

/// Decodes eth_sendRawTransaction's bytes (EIP-2718, nothing after them) and
/// recovers the sender; blob and EIP-7702 transactions are refused.
pub fn decode_raw(raw: &[u8]) -> BackendResult<Incoming> {
    let mut slice = raw;
    let tx = TxEnvelope::decode_2718(&mut slice)
        .map_err(|e| BackendError::InvalidTransaction(format!("cannot decode transaction: {e}")))?;
    if !slice.is_empty() {
        return Err(BackendError::InvalidTransaction(
            "trailing bytes after the transaction".into(),
        ));
    }
    if tx.is_eip4844() || tx.is_eip7702() {
        return Err(BackendError::InvalidTransaction(
            "blob and EIP-7702 transactions are not supported".into(),
        ));
    }
    let from = tx
        .recover_signer()
        .map_err(|e| BackendError::InvalidTransaction(format!("invalid signature: {e}")))?;
    Ok(Incoming {
        raw: Bytes::from(tx.encoded_2718()),
        tx,
        from,
    })
}

fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Chain {
    /// A chain of only its genesis block at `genesis_time`, on the state `db`.
    pub fn new(
        chain_id: u64,
        db: CacheDB<EmptyDB>,
        runtime: StylusRuntime,
        genesis_time: u64,
    ) -> Self {
        let header = Header {
            number: 0,
            timestamp: genesis_time,
            gas_limit: BLOCK_GAS_LIMIT,
            base_fee_per_gas: Some(BASE_FEE),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: COINBASE,
            nonce: B64::ZERO,
            ..Default::default()
        };
        let hash = header.hash_slow();
        Self {
            chain_id,
            db: Arc::new(db),
            blocks: vec![MinedBlockRecord {
                header,
                hash,
                txs: Vec::new(),
            }],
            block_by_hash: HashMap::from([(hash, 0)]),
            txs: HashMap::new(),
            runtime,
            time_offset: 0,
            next_timestamp: None,
        }
    }

    /// The latest block.
    pub fn head(&self) -> &MinedBlockRecord {
        self.blocks.last().expect("genesis exists")
    }

    /// The latest block's number (eth_blockNumber).
    pub fn number(&self) -> u64 {
        self.head().header.number
    }

    /// The timestamp the next block gets: wall clock plus evm_increaseTime offsets,
    /// never before its parent.
    pub fn next_block_time(&mut self, explicit: Option<u64>) -> u64 {
        let parent = self.head().header.timestamp;
        let t = explicit
            .or(self.next_timestamp.take())
            .unwrap_or_else(|| wall_clock().saturating_add(self.time_offset));
        t.max(parent)
    }

    /// revm's block environment for block `number` at `timestamp`, with nitro's
    /// coinbase, base fee and gas limit.
    pub fn block_env(&self, number: u64, timestamp: u64) -> BlockEnv {
        BlockEnv {
            number: U256::from(number),
            beneficiary: COINBASE,
            timestamp: U256::from(timestamp),
            gas_limit: BLOCK_GAS_LIMIT,
            basefee: BASE_FEE,
            difficulty: U256::from(1),
            prevrandao: Some(B256::ZERO),
            ..Default::default()
        }
    }

    /// Mines one block of `txs` at `timestamp`. A transaction that fails validation is
    /// left out and its error returned in its slot. With `allow_empty` the block is
    /// mined even if empty (evm_mine, interval mining, replay); without it, a block
    /// that would include nothing is not made and the number is `None` (automine: a
    /// refused transaction must not leave an empty block behind).
    pub fn mine(
        &mut self,
        txs: Vec<Incoming>,
        timestamp: u64,
        allow_empty: bool,
    ) -> (Option<u64>, Vec<Result<B256, BackendError>>) {
        let number = self.number() + 1;
        let env = self.block_env(number, timestamp);
        let mut recent = Vec::new();
        let mut results = Vec::with_capacity(txs.len());
        let mut mined: Vec<MinedTx> = Vec::new();
        let mut cumulative = 0u64;
        let mut log_index = 0u64;
        let mut bloom = Bloom::ZERO;
        // Copies the state only if a call still runs on the current one.
        let db = Arc::make_mut(&mut self.db);
        for incoming in txs {
            let hash = *incoming.tx.tx_hash();
            if self.txs.contains_key(&hash) {
                results.push(Err(BackendError::InvalidTransaction(
                    "already known".into(),
                )));
                continue;
            }
            if incoming.tx.chain_id().is_some_and(|id| id != self.chain_id) {
                results.push(Err(BackendError::InvalidTransaction(format!(
                    "invalid chain id: this chain is {}",
                    self.chain_id
                ))));
                continue;
            }
            let env_tx = tx_env_of_signed(&incoming.tx, incoming.from);
            let price = effective_price(&incoming.tx);
            match transact(
                &mut *db,
                self.chain_id,
                env.clone(),
                env_tx,
                &self.runtime,
                &mut recent,
                Mode::Commit,
            ) {
                Ok((result, state)) => {
                    db.commit(state);
                    let gas_used = result.tx_gas_used();
                    cumulative += gas_used;
                    let logs = result.logs().to_vec();
                    for log in &logs {
                        bloom.accrue_log(log);
                    }
                    let contract_address = match &result {
                        ExecutionResult::Success {
                            output: Output::Create(_, addr),
                            ..
                        } => *addr,
                        _ => None,
                    };
                    let n = logs.len() as u64;
                    mined.push(MinedTx {
                        from: incoming.from,
                        hash,
                        block_number: number,
                        index: mined.len() as u64,
                        success: result.is_success(),
                        gas_used,
                        cumulative_gas_used: cumulative,
                        logs,
                        first_log_index: log_index,
                        contract_address,
                        effective_gas_price: price,
                        tx: incoming.tx,
                    });
                    log_index += n;
                    results.push(Ok(hash));
                }
                Err(EVMError::Transaction(e)) => {
                    results.push(Err(BackendError::InvalidTransaction(e.to_string())))
                }
                Err(e) => results.push(Err(BackendError::Internal(e.to_string()))),
            }
        }
        if mined.is_empty() && !allow_empty {
            return (None, results);
        }
        let parent = self.head().hash;
        let header = Header {
            parent_hash: parent,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: COINBASE,
            number,
            gas_limit: BLOCK_GAS_LIMIT,
            gas_used: cumulative,
            timestamp,
            base_fee_per_gas: Some(BASE_FEE),
            logs_bloom: bloom,
            transactions_root: alloy_consensus::proofs::calculate_transaction_root(
                &mined.iter().map(|m| m.tx.clone()).collect::<Vec<_>>(),
            ),
            nonce: B64::ZERO,
            ..Default::default()
        };
        let hash = header.hash_slow();
        let tx_hashes = mined.iter().map(|m| m.hash).collect();
        for tx in mined {
            self.txs.insert(tx.hash, tx);
        }
        self.block_by_hash.insert(hash, number);
        self.blocks.push(MinedBlockRecord {
            header,
            hash,
            txs: tx_hashes,
        });
        (Some(number), results)
    }

    /// What a call on the head's state needs, cheap to take under the chain's lock
    /// (the state is shared, not copied) and used after releasing it.
    pub fn call_state(&self) -> CallState {
        let number = self.number() + 1;
        let timestamp = self
            .head()
            .header
            .timestamp
            .max(wall_clock().saturating_add(self.time_offset));
        CallState {
            db: self.db.clone(),
            chain_id: self.chain_id,
            runtime: self.runtime.clone(),
            block: self.block_env(number, timestamp),
        }
    }
}

/// The head's state and the pending block's environment, for eth_call and
/// eth_estimateGas: taken under the chain's lock, run without it, so that a slow
/// call never holds up mining.
#[derive(Clone)]
pub struct CallState {
    /// The head's state, shared with the chain until mining copies it.
    pub db: Arc<CacheDB<EmptyDB>>,
    /// The chain's EIP-155 chain id.
    pub chain_id: u64,
    /// The chain's WASM host and activations.
    pub runtime: StylusRuntime,
    /// The next block's environment (number, clock time), which the call runs in.
    pub block: BlockEnv,
}

impl CallState {
    /// Runs a request on this state (through the overlay `db`) without keeping
    /// anything; gives up at `deadline` with [`BackendError::Timeout`].
    pub fn simulate(
        &self,
        db: &mut CacheDB<&CacheDB<EmptyDB>>,
        tx: revm::context::TxEnv,
        deadline: Option<Deadline>,
    ) -> Result<ExecutionResult, BackendError> {
        let mut recent = Vec::new();
        let mode = Mode::Call {
            deadline: deadline.map(|d| d.at),
        };
        match transact(
            db,
            self.chain_id,
            self.block.clone(),
            tx,
            &self.runtime,
            &mut recent,
            mode,
        ) {
            Ok((result, _)) => Ok(result),
            Err(e) if timed_out(&e) => Err(BackendError::Timeout(
                deadline.map(|d| d.limit).unwrap_or_default(),
            )),
            Err(EVMError::Transaction(e)) => Err(BackendError::InvalidTransaction(e.to_string())),
            Err(e) => Err(BackendError::Internal(e.to_string())),
        }
    }
}

/// When a call must be over, and the limit it came from (for the error message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The instant the call is aborted.
    pub at: Instant,
    /// The configured limit, named in the timeout error.
    pub limit: std::time::Duration,
}

impl Deadline {
    /// `limit` from now; `None` for a zero limit (no time limit, as geth's 0).
    pub fn after(limit: std::time::Duration) -> Option<Self> {
        if limit.is_zero() {
            return None;
        }
        Some(Self {
            at: Instant::now().checked_add(limit)?,
            limit,
        })
    }
}

fn effective_price(tx: &TxEnvelope) -> u128 {
    use alloy_consensus::Transaction as _;
    tx.effective_gas_price(Some(BASE_FEE))
}

/// The error a JSON-RPC client sees for a failed call.
pub fn call_error(result: &ExecutionResult) -> Option<BackendError> {
    match result {
        ExecutionResult::Success { .. } => None,
        ExecutionResult::Revert { output, .. } => Some(BackendError::Revert {
            reason: alloy_sol_types::decode_revert_reason(output),
            data: output.clone(),
        }),
        ExecutionResult::Halt { reason, .. } => Some(BackendError::Halt(format!("{reason:?}"))),
    }
}
