//! The local chain behind the RPC: state, mining (automine or interval), dev
//! accounts, persistence, and the `Backend` the JSON-RPC server calls.

mod backend_impl;
pub mod chain;
pub mod exec;
pub mod genesis;
pub mod persist;
mod rpc_types;
pub mod tx;

use crate::evm::StylusRuntime;
use crate::rpc::backend::{BackendError, BackendResult, MinedBlock};
use chain::{decode_raw, Chain, Incoming};
use genesis::{dev_accounts, genesis_state, DevAccount};
use persist::{BlockEntry, BlockLog};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use stylus_vm::params::StylusParams;
use tokio::sync::broadcast;

/// nitro-devnode's chain id.
pub const CHAIN_ID: u64 = 412346;

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub chain_id: u64,
    /// Generated accounts besides the dev account.
    pub accounts: usize,
    /// Persist blocks here and replay them at start.
    pub data_dir: Option<PathBuf>,
    /// Mine on this interval instead of one block per transaction.
    pub block_time: Option<Duration>,
    /// nitro's debug mode (`console` hostios allowed).
    pub debug: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            chain_id: CHAIN_ID,
            accounts: 9,
            data_dir: None,
            block_time: None,
            debug: false,
        }
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("data dir: {0}")]
    DataDir(#[from] std::io::Error),
    #[error("replaying block {block} from the data dir: {why}")]
    Replay { block: u64, why: String },
    #[error("stylus: {0}")]
    Stylus(#[from] stylus_vm::Error),
}

pub(crate) struct Inner {
    pub chain: Mutex<Chain>,
    pub pending: Mutex<Vec<Incoming>>,
    pub log: Option<Mutex<BlockLog>>,
    pub events: broadcast::Sender<MinedBlock>,
    pub accounts: Vec<DevAccount>,
    pub config: NodeConfig,
}

/// A running chain. Cheap to clone; all clones are the same chain.
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<Inner>,
}

impl Node {
    /// Creates the chain (replaying `data_dir` if given) and, with `block_time`,
    /// starts the mining thread.
    pub fn new(config: NodeConfig) -> Result<Self, NodeError> {
        let accounts = dev_accounts(config.accounts);
        let runtime = StylusRuntime::new(StylusParams::default(), config.debug)?;
        let (log, entries) = match &config.data_dir {
            Some(dir) => {
                let (log, entries) = BlockLog::open(dir)?;
                (Some(Mutex::new(log)), entries)
            }
            None => (None, Vec::new()),
        };
        // Genesis time is fixed when persistent so that replay rebuilds the same hashes.
        let genesis_time = if config.data_dir.is_some() {
            1_700_000_000
        } else {
            now()
        };
        let mut chain = Chain::new(
            config.chain_id,
            genesis_state(&accounts),
            runtime,
            genesis_time,
        );
        for (i, entry) in entries.into_iter().enumerate() {
            let txs = entry
                .txs
                .iter()
                .map(|raw| decode_raw(raw))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| NodeError::Replay {
                    block: i as u64 + 1,
                    why: e.to_string(),
                })?;
            let (_, results) = chain.mine(txs, entry.timestamp, true);
            if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
                return Err(NodeError::Replay {
                    block: i as u64 + 1,
                    why: e.to_string(),
                });
            }
        }
        if let Some(head) = chain.blocks.last() {
            chain.time_offset = head.header.timestamp.saturating_sub(now());
        }
        let (events, _) = broadcast::channel(1024);
        let node = Self {
            inner: Arc::new(Inner {
                chain: Mutex::new(chain),
                pending: Mutex::new(Vec::new()),
                log,
                events,
                accounts,
                config: config.clone(),
            }),
        };
        if let Some(interval) = config.block_time {
            let weak = Arc::downgrade(&node.inner);
            std::thread::Builder::new()
                .name("devnode-miner".into())
                .spawn(move || loop {
                    std::thread::sleep(interval);
                    let Some(inner) = weak.upgrade() else { break };
                    let node = Node { inner };
                    let txs = std::mem::take(&mut *node.pending());
                    if let Err(e) = node.mine_block(txs, None, true) {
                        tracing::error!("interval mining failed: {e}");
                    }
                })
                .map_err(NodeError::DataDir)?;
        }
        Ok(node)
    }

    pub fn accounts(&self) -> &[DevAccount] {
        &self.inner.accounts
    }

    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    pub(crate) fn chain(&self) -> MutexGuard<'_, Chain> {
        self.inner.chain.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pending(&self) -> MutexGuard<'_, Vec<Incoming>> {
        self.inner.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Mines `txs` into one block: persisted (when a data dir is set) before this
    /// returns, then announced to subscribers. Without `allow_empty`, nothing is
    /// mined when no transaction is valid.
    pub(crate) fn mine_block(
        &self,
        txs: Vec<Incoming>,
        timestamp: Option<u64>,
        allow_empty: bool,
    ) -> BackendResult<Vec<BackendResult<alloy_primitives::B256>>> {
        let mut chain = self.chain();
        let raws: Vec<_> = txs.iter().map(|t| t.raw.clone()).collect();
        let time = chain.next_block_time(timestamp);
        let (number, results) = chain.mine(txs, time, allow_empty);
        let Some(number) = number else {
            return Ok(results);
        };
        if let Some(log) = &self.inner.log {
            let included = raws
                .into_iter()
                .zip(&results)
                .filter(|(_, r)| r.is_ok())
                .map(|(raw, _)| raw)
                .collect();
            let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = log.append(&BlockEntry {
                timestamp: time,
                txs: included,
            }) {
                // The block exists in memory but not on disk: refuse to go on silently.
                return Err(BackendError::Internal(format!(
                    "cannot persist block {number}: {e}"
                )));
            }
        }
        let record = &chain.blocks[number as usize];
        let logs = record
            .txs
            .iter()
            .filter_map(|h| chain.txs.get(h))
            .flat_map(|t| rpc_types::rpc_logs(&chain, t))
            .collect();
        let _ = self.inner.events.send(MinedBlock {
            header: rpc_types::header(record),
            logs,
        });
        Ok(results)
    }

    /// Submits a decoded transaction: mined at once under automine.
    pub(crate) fn submit(&self, incoming: Incoming) -> BackendResult<alloy_primitives::B256> {
        if self.inner.config.block_time.is_some() {
            let hash = *incoming.tx.tx_hash();
            self.pending().push(incoming);
            return Ok(hash);
        }
        // A refused transaction mines no block (as anvil and geth's dev mode).
        self.mine_block(vec![incoming], None, false)?
            .pop()
            .unwrap_or_else(|| Err(BackendError::Internal("no result".into())))
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
