//! The JSON-RPC backend over the node.

use super::chain::{call_error, decode_raw, CallState, Chain, Deadline, BASE_FEE};
use super::rpc_types;
use super::tx::{tx_env_of_request, CALL_GAS_CAP};
use super::Node;
use crate::rpc::backend::{Backend, BackendError, BackendResult, MinedBlock, StorageRange};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_rpc_types_eth::state::StateOverride;
use alloy_rpc_types_eth::{
    Block, BlockId, BlockNumberOrTag, FeeHistory, Filter, Log, Transaction, TransactionReceipt,
    TransactionRequest,
};
use alloy_signer::SignerSync;
use revm::bytecode::Bytecode;
use revm::database::{CacheDB, EmptyDB};
use revm::database_interface::DatabaseRef;
use revm::state::AccountInfo;
use tokio::sync::broadcast;

/// Only the head's state is kept: older blocks answer from it only if nothing changed.
fn check_block(chain: &Chain, block: BlockId) -> BackendResult<()> {
    match block {
        BlockId::Number(BlockNumberOrTag::Number(n)) if n > chain.number() => {
            Err(BackendError::InvalidParams(format!(
                "block {n} is in the future (head is {})",
                chain.number()
            )))
        }
        BlockId::Number(BlockNumberOrTag::Number(n)) if n < chain.number() => {
            Err(BackendError::InvalidParams(format!(
                "historical state is not kept: block {n} is behind the head ({})",
                chain.number()
            )))
        }
        BlockId::Hash(h) if chain.block_by_hash.get(&h.block_hash) != Some(&chain.number()) => Err(
            BackendError::InvalidParams("historical state is not kept: only the head block".into()),
        ),
        _ => Ok(()),
    }
}

fn apply_overrides(
    db: &mut CacheDB<&CacheDB<EmptyDB>>,
    overrides: &StateOverride,
) -> BackendResult<()> {
    for (address, o) in overrides {
        let mut info = db
            .basic_ref(*address)
            .map_err(|e| BackendError::Internal(e.to_string()))?
            .unwrap_or_default();
        if let Some(balance) = o.balance {
            info.balance = balance;
        }
        if let Some(nonce) = o.nonce {
            info.nonce = nonce;
        }
        if let Some(code) = &o.code {
            let code = Bytecode::new_raw(code.clone());
            info.code_hash = code.hash_slow();
            info.code = Some(code);
        }
        db.insert_account_info(*address, AccountInfo { ..info });
        if let Some(state) = &o.state {
            db.replace_account_storage(
                *address,
                state
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
            )
            .map_err(|e| BackendError::Internal(e.to_string()))?;
        }
        if let Some(diff) = &o.state_diff {
            for (k, v) in diff {
                db.insert_account_storage(*address, (*k).into(), (*v).into())
                    .map_err(|e| BackendError::Internal(e.to_string()))?;
            }
        }
    }
    Ok(())
}

impl Node {
    /// The gas a call or estimate runs with: what it asks for ([`CALL_GAS_CAP`] if
    /// nothing), capped at `rpc_gas_cap` as geth caps at `rpc.gascap` (no error).
    fn call_gas(&self, requested: Option<u64>) -> u64 {
        let gas = requested.unwrap_or(CALL_GAS_CAP);
        match self.inner.config.rpc_gas_cap {
            0 => gas,
            cap => gas.min(cap),
        }
    }

    /// When a call started now must be over (`rpc_evm_timeout`).
    fn call_deadline(&self) -> Option<Deadline> {
        Deadline::after(self.inner.config.rpc_evm_timeout)
    }

    /// The state to run a call on: taken under the chain's lock, which is released
    /// before anything executes, so mining never waits for a call.
    fn call_state(&self, block: BlockId) -> BackendResult<CallState> {
        let chain = self.chain();
        check_block(&chain, block)?;
        Ok(chain.call_state())
    }

    fn run_call(
        state: &CallState,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
        gas: u64,
        deadline: Option<Deadline>,
    ) -> BackendResult<revm::context_interface::result::ExecutionResult> {
        let mut db = CacheDB::new(&*state.db);
        if let Some(o) = overrides {
            apply_overrides(&mut db, o)?;
        }
        let from = request.from.unwrap_or_default();
        let nonce = db
            .basic_ref(from)
            .ok()
            .flatten()
            .map(|a| a.nonce)
            .unwrap_or(0);
        let tx = tx_env_of_request(request, state.chain_id, nonce, gas);
        state.simulate(&mut db, tx, deadline)
    }

    /// geth's estimate: the smallest gas limit, up to the capped request, that
    /// succeeds; every run together within one time limit.
    fn estimate(
        &self,
        state: &CallState,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
    ) -> BackendResult<u64> {
        let deadline = self.call_deadline();
        let run = |gas| Self::run_call(state, request, overrides, gas, deadline);
        let cap = self.call_gas(request.gas);
        let first = run(cap)?;
        if let Some(e) = call_error(&first) {
            return Err(e);
        }
        // Binary search the smallest limit that succeeds (63/64 rules and refunds make
        // gas used a lower bound only).
        let (mut lo, mut hi) = (first.tx_gas_used().saturating_sub(1), cap);
        if run(first.tx_gas_used())?.is_success() {
            return Ok(first.tx_gas_used());
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if run(mid)?.is_success() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}

impl Backend for Node {
    fn chain_id(&self) -> u64 {
        self.inner.config.chain_id
    }

    fn block_number(&self) -> u64 {
        self.chain().number()
    }

    fn gas_price(&self) -> u128 {
        u128::from(BASE_FEE)
    }

    fn accounts(&self) -> Vec<Address> {
        self.inner.accounts.iter().map(|a| a.address()).collect()
    }

    fn balance(&self, address: Address, block: BlockId) -> BackendResult<U256> {
        let chain = self.chain();
        check_block(&chain, block)?;
        Ok(chain
            .db
            .basic_ref(address)
            .ok()
            .flatten()
            .map(|a| a.balance)
            .unwrap_or_default())
    }

    fn transaction_count(&self, address: Address, block: BlockId) -> BackendResult<u64> {
        let chain = self.chain();
        check_block(&chain, block)?;
        let mined = chain
            .db
            .basic_ref(address)
            .ok()
            .flatten()
            .map(|a| a.nonce)
            .unwrap_or(0);
        drop(chain);
        let pending = match block {
            BlockId::Number(BlockNumberOrTag::Pending) => self
                .inner
                .pending
                .lock()
                .map(|p| p.iter().filter(|t| t.from == address).count() as u64)
                .unwrap_or(0),
            _ => 0,
        };
        Ok(mined + pending)
    }

    fn code(&self, address: Address, block: BlockId) -> BackendResult<Bytes> {
        let chain = self.chain();
        check_block(&chain, block)?;
        let info = chain
            .db
            .basic_ref(address)
            .ok()
            .flatten()
            .unwrap_or_default();
        let code = match info.code {
            Some(code) => code,
            None => chain
                .db
                .code_by_hash_ref(info.code_hash)
                .unwrap_or_default(),
        };
        Ok(code.original_bytes())
    }

    fn storage_at(&self, address: Address, slot: U256, block: BlockId) -> BackendResult<B256> {
        let chain = self.chain();
        check_block(&chain, block)?;
        Ok(B256::from(
            chain.db.storage_ref(address, slot).unwrap_or_default(),
        ))
    }

    /// Only the head's state is kept, so only the head block is answered, and with
    /// its state after all its transactions (geth answers with the state before
    /// transaction `txIndex`; callers that mine an unrelated transaction first, as
    /// tests/e2e's privacy scan does, see the same slots on both).
    fn storage_range(
        &self,
        block_hash: B256,
        address: Address,
        start: B256,
        max: usize,
    ) -> BackendResult<StorageRange> {
        let chain = self.chain();
        check_block(&chain, BlockId::hash(block_hash))?;
        let mut slots: Vec<(B256, U256, U256)> = chain
            .db
            .cache
            .accounts
            .get(&address)
            .map(|account| {
                account
                    .storage
                    .iter()
                    .filter(|(_, value)| !value.is_zero())
                    .map(|(slot, value)| (keccak256(slot.to_be_bytes::<32>()), *slot, *value))
                    .collect()
            })
            .unwrap_or_default();
        slots.sort_unstable_by_key(|(hashed, _, _)| *hashed);
        let first = slots.partition_point(|(hashed, _, _)| *hashed < start);
        let rest = &slots[first..];
        let taken = rest.len().min(max);
        Ok(StorageRange {
            slots: rest[..taken].to_vec(),
            next_key: rest.get(taken).map(|(hashed, _, _)| *hashed),
        })
    }

    fn send_raw_transaction(&self, raw: Bytes) -> BackendResult<B256> {
        let incoming = decode_raw(&raw)?;
        self.submit(incoming)
    }

    fn send_transaction(&self, request: TransactionRequest) -> BackendResult<B256> {
        let from = request
            .from
            .unwrap_or_else(|| self.inner.accounts[0].address());
        let Some(account) = self.inner.accounts.iter().find(|a| a.address() == from) else {
            return Err(BackendError::InvalidParams(format!(
                "no key for {from}: the node signs for eth_accounts only"
            )));
        };
        let nonce = match request.nonce {
            Some(n) => n,
            None => self.transaction_count(from, BlockId::pending())?,
        };
        let gas_limit = match request.gas {
            Some(g) => g,
            None => self.estimate(
                &self.call_state(BlockId::latest())?,
                &TransactionRequest {
                    from: Some(from),
                    ..request.clone()
                },
                None,
            )?,
        };
        let tx = TxEip1559 {
            chain_id: self.inner.config.chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: request
                .max_fee_per_gas
                .or(request.gas_price)
                .unwrap_or(u128::from(BASE_FEE) * 2),
            max_priority_fee_per_gas: request.max_priority_fee_per_gas.unwrap_or(0),
            to: request.to.unwrap_or(TxKind::Create),
            value: request.value.unwrap_or_default(),
            access_list: request.access_list.clone().unwrap_or_default(),
            input: request.input.input().cloned().unwrap_or_default(),
        };
        let signature = account
            .signer
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| BackendError::Internal(format!("signing: {e}")))?;
        let envelope: TxEnvelope = tx.into_signed(signature).into();
        self.send_raw_transaction(envelope.encoded_2718().into())
    }

    fn call(
        &self,
        request: TransactionRequest,
        block: BlockId,
        overrides: Option<StateOverride>,
    ) -> BackendResult<Bytes> {
        let state = self.call_state(block)?;
        let gas = self.call_gas(request.gas);
        let result = Self::run_call(
            &state,
            &request,
            overrides.as_ref(),
            gas,
            self.call_deadline(),
        )?;
        match call_error(&result) {
            Some(e) => Err(e),
            None => Ok(result.output().cloned().unwrap_or_default()),
        }
    }

    fn estimate_gas(
        &self,
        request: TransactionRequest,
        block: BlockId,
        overrides: Option<StateOverride>,
    ) -> BackendResult<u64> {
        let state = self.call_state(block)?;
        self.estimate(&state, &request, overrides.as_ref())
    }

    fn transaction_receipt(&self, hash: B256) -> Option<TransactionReceipt> {
        let chain = self.chain();
        chain.txs.get(&hash).map(|t| rpc_types::receipt(&chain, t))
    }

    fn transaction_by_hash(&self, hash: B256) -> Option<Transaction> {
        let chain = self.chain();
        chain
            .txs
            .get(&hash)
            .map(|t| rpc_types::transaction(&chain, t))
    }

    fn block(&self, block: BlockId, full: bool) -> Option<Block> {
        let chain = self.chain();
        let number = match block {
            BlockId::Hash(h) => *chain.block_by_hash.get(&h.block_hash)?,
            BlockId::Number(n) => match n {
                BlockNumberOrTag::Number(n) => n,
                BlockNumberOrTag::Earliest => 0,
                _ => chain.number(),
            },
        };
        let record = chain.blocks.get(number as usize)?;
        Some(rpc_types::block(&chain, record, full))
    }

    fn logs(&self, filter: &Filter) -> BackendResult<Vec<Log>> {
        let chain = self.chain();
        let head = chain.number();
        let resolve = |n: Option<BlockNumberOrTag>, default: u64| match n {
            Some(BlockNumberOrTag::Number(n)) => n,
            Some(BlockNumberOrTag::Earliest) => 0,
            Some(_) | None => default,
        };
        let (from, to) = match filter.block_option {
            alloy_rpc_types_eth::FilterBlockOption::AtBlockHash(h) => {
                let n = *chain
                    .block_by_hash
                    .get(&h)
                    .ok_or_else(|| BackendError::InvalidParams("unknown block hash".into()))?;
                (n, n)
            }
            alloy_rpc_types_eth::FilterBlockOption::Range {
                from_block,
                to_block,
            } => (resolve(from_block, head), resolve(to_block, head)),
        };
        if from > to {
            return Err(BackendError::InvalidParams(format!(
                "fromBlock {from} is after toBlock {to}"
            )));
        }
        let mut out = Vec::new();
        for record in chain
            .blocks
            .iter()
            .take((to.min(head) + 1) as usize)
            .skip(from as usize)
        {
            for tx in record.txs.iter().filter_map(|h| chain.txs.get(h)) {
                out.extend(
                    rpc_types::rpc_logs(&chain, tx)
                        .into_iter()
                        .filter(|l| filter.matches(&l.inner)),
                );
            }
        }
        Ok(out)
    }

    fn fee_history(
        &self,
        block_count: u64,
        newest: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> BackendResult<FeeHistory> {
        let head = self.chain().number();
        let newest = match newest {
            BlockNumberOrTag::Number(n) => n.min(head),
            _ => head,
        };
        let count = block_count.clamp(1, 1024).min(newest + 1);
        let oldest = newest + 1 - count;
        let rewards = reward_percentiles.map(|p| vec![vec![0u128; p.len()]; count as usize]);
        Ok(FeeHistory {
            base_fee_per_gas: vec![u128::from(BASE_FEE); count as usize + 1],
            gas_used_ratio: vec![0.0; count as usize],
            base_fee_per_blob_gas: vec![0; count as usize + 1],
            blob_gas_used_ratio: vec![0.0; count as usize],
            oldest_block: oldest,
            reward: rewards,
        })
    }

    fn increase_time(&self, seconds: u64) -> BackendResult<u64> {
        let mut chain = self.chain();
        // The next block's time is the wall clock plus the offset: both must fit.
        let offset = chain
            .time_offset
            .checked_add(seconds)
            .filter(|offset| super::now().checked_add(*offset).is_some())
            .ok_or_else(|| {
                BackendError::InvalidParams(format!(
                    "evm_increaseTime by {seconds} s would take block timestamps past 2^64 - 1"
                ))
            })?;
        chain.time_offset = offset;
        Ok(offset)
    }

    fn mine(&self, timestamp: Option<u64>) -> BackendResult<()> {
        let txs =
            std::mem::take(&mut *self.inner.pending.lock().unwrap_or_else(|p| p.into_inner()));
        self.mine_block(txs, timestamp, true).map(|_| ())
    }

    fn subscribe(&self) -> broadcast::Receiver<MinedBlock> {
        self.inner.events.subscribe()
    }
}
