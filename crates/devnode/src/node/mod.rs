//! The local chain behind the RPC: state, mining (automine or interval), dev
//! accounts, persistence, and the `Backend` the JSON-RPC server calls.

mod backend_impl;
pub mod chain;
pub mod exec;
pub mod genesis;
pub mod persist;
mod rpc_types;
pub mod snapshot;
pub mod tx;

use crate::evm::StylusRuntime;
use crate::rpc::backend::{BackendError, BackendResult, MinedBlock};
use chain::{decode_raw, Chain, Incoming};
use genesis::{dev_accounts, genesis_state, DevAccount};
use persist::{BlockEntry, BlockLog, ReadLog, StoreError, LOG_FILE};
use snapshot::{Snapshotter, CORRUPT_SNAPSHOT_FILE, SNAPSHOT_FILE};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use stylus_vm::params::StylusParams;
use tokio::sync::broadcast;

/// nitro-devnode's chain id.
pub const CHAIN_ID: u64 = 412346;
/// geth's default `rpc.gascap`: the most gas one eth_call or eth_estimateGas may use.
pub const RPC_GAS_CAP: u64 = 50_000_000;
/// geth's default `rpc.evmtimeout`: how long one eth_call or eth_estimateGas may run.
pub const RPC_EVM_TIMEOUT: Duration = Duration::from_secs(5);

/// Blocks between two snapshots of a data dir, by default.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1000;

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// EIP-155 chain id ([`CHAIN_ID`], nitro-devnode's, by default).
    pub chain_id: u64,
    /// Generated accounts besides the dev account.
    pub accounts: usize,
    /// Persist blocks here (`blocks.log`, `snapshot.bin`) and restore them at start.
    pub data_dir: Option<PathBuf>,
    /// With a data dir: write a snapshot every this many blocks (0: only at a clean
    /// shutdown, [`Node::write_snapshot`]), so that a restart replays at most this
    /// many blocks of the log.
    pub snapshot_every: u64,
    /// Mine on this interval instead of one block per transaction.
    pub block_time: Option<Duration>,
    /// nitro's debug mode (`console` hostios allowed).
    pub debug: bool,
    /// Gas cap of eth_call and eth_estimateGas (geth's `rpc.gascap`): a request for
    /// more is run with this much, as geth does; 0 means no cap.
    pub rpc_gas_cap: u64,
    /// Time limit of one eth_call or eth_estimateGas (geth's `rpc.evmtimeout`),
    /// after which it fails with "execution aborted (timeout = …)"; zero means none.
    pub rpc_evm_timeout: Duration,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            chain_id: CHAIN_ID,
            accounts: 9,
            data_dir: None,
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
            block_time: None,
            debug: false,
            rpc_gas_cap: RPC_GAS_CAP,
            rpc_evm_timeout: RPC_EVM_TIMEOUT,
        }
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The data dir could not be created, listed or arranged, or the interval
    /// miner's thread could not start.
    #[error("data dir: {0}")]
    DataDir(#[from] std::io::Error),
    /// The data dir's files cannot be used: damaged, inconsistent, unreadable, or
    /// locked by another node.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A block of the log does not replay: a transaction in it no longer decodes or
    /// is refused.
    #[error("replaying block {block} from the data dir: {why}")]
    Replay {
        /// The block's number.
        block: u64,
        /// What failed.
        why: String,
    },
    /// The Stylus runtime (the WASM engine) could not start.
    #[error("stylus: {0}")]
    Stylus(#[from] stylus_vm::Error),
}

pub(crate) struct Inner {
    pub chain: Mutex<Chain>,
    pub pending: Mutex<Vec<Incoming>>,
    pub log: Option<Mutex<BlockLog>>,
    pub snapshots: Option<Snapshotter>,
    pub restored: Option<Restored>,
    pub events: broadcast::Sender<MinedBlock>,
    pub accounts: Vec<DevAccount>,
    pub config: NodeConfig,
    /// Held for the node's life: a second node on the same data dir would append
    /// its own blocks to the same log and interleave two chains.
    pub _data_dir_lock: Option<std::fs::File>,
}

/// How a node with a data dir got its chain at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// The block of the snapshot it loaded, if it loaded one.
    pub snapshot_block: Option<u64>,
    /// Blocks of the log it replayed after that (or from genesis).
    pub replayed: u64,
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
        let (log, snapshots, restored, lock) = match &config.data_dir {
            Some(dir) => {
                let lock = lock_data_dir(dir)?;
                let (log, snapshots, restored) = restore(dir, &mut chain, config.snapshot_every)?;
                (
                    Some(Mutex::new(log)),
                    Some(snapshots),
                    Some(restored),
                    Some(lock),
                )
            }
            None => (None, None, None, None),
        };
        if let Some(head) = chain.blocks.last() {
            chain.time_offset = head.header.timestamp.saturating_sub(now());
        }
        let (events, _) = broadcast::channel(1024);
        let node = Self {
            inner: Arc::new(Inner {
                chain: Mutex::new(chain),
                pending: Mutex::new(Vec::new()),
                log,
                snapshots,
                restored,
                events,
                accounts,
                config: config.clone(),
                _data_dir_lock: lock,
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

    /// The funded dev accounts: nitro-devnode's dev account first, then the
    /// generated ones.
    pub fn accounts(&self) -> &[DevAccount] {
        &self.inner.accounts
    }

    /// The configuration the node was started with.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    /// With a data dir: writes a snapshot of the chain now and returns once it is on
    /// disk (a clean shutdown calls this, so that the next start replays nothing).
    /// Without one, does nothing.
    pub fn write_snapshot(&self) -> Result<(), NodeError> {
        let (Some(log), Some(snapshots)) = (&self.inner.log, &self.inner.snapshots) else {
            return Ok(());
        };
        let chain = self.chain();
        let position = log.lock().unwrap_or_else(|p| p.into_inner()).position();
        snapshots.write_now(&chain, position)?;
        Ok(())
    }

    /// With a data dir: how the chain was restored at start.
    pub fn restored(&self) -> Option<Restored> {
        self.inner.restored
    }

    /// keccak256 of the head state in a canonical encoding: two nodes with the same
    /// accounts, code and storage have the same digest.
    pub fn state_digest(&self) -> alloy_primitives::B256 {
        snapshot::state_digest(&self.chain())
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
            if let Err(e) = log.append(
                number,
                &BlockEntry {
                    timestamp: time,
                    txs: included,
                },
            ) {
                // The block exists in memory but not on disk: refuse to go on silently.
                return Err(BackendError::Internal(format!(
                    "cannot persist block {number}: {e}"
                )));
            }
            if let Some(snapshots) = &self.inner.snapshots {
                snapshots.after_block(&chain, log.position());
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

/// Restores `chain` (at genesis) from the data dir `dir`: the newest snapshot, then
/// the log records after it. Refuses a damaged log, a log missing beside other state,
/// and a log that does not match the snapshot, changing nothing in those cases.
fn restore(
    dir: &Path,
    chain: &mut Chain,
    snapshot_every: u64,
) -> Result<(BlockLog, Snapshotter, Restored), NodeError> {
    let started = std::time::Instant::now();
    let fingerprint = snapshot::fingerprint(chain);
    if !dir
        .join(LOG_FILE)
        .try_exists()
        .map_err(NodeError::DataDir)?
    {
        let log = new_chain(dir)?;
        let restored = Restored {
            snapshot_block: None,
            replayed: 0,
        };
        return Ok((
            log,
            Snapshotter::new(dir, snapshot_every, fingerprint, None),
            restored,
        ));
    }
    let read = ReadLog::read(dir)?;
    tracing::debug!(
        "read {} blocks of {} in {:?}",
        read.blocks(),
        read.path().display(),
        started.elapsed()
    );
    let log_file = read.path().display().to_string();
    let mut start = 0;
    let mut covered = None;
    let loaded = snapshot::load(dir);
    tracing::debug!("read {SNAPSHOT_FILE} at {:?}", started.elapsed());
    match loaded {
        Ok(None) => {
            if read.blocks() > 0 {
                tracing::info!(
                    "{} has no snapshot: replaying the {} blocks of {log_file}",
                    dir.display(),
                    read.blocks()
                );
            }
        }
        Ok(Some(snap)) => {
            let snapshot_file = dir.join(SNAPSHOT_FILE).display().to_string();
            let inconsistent = |why: String| {
                NodeError::Store(StoreError::Inconsistent {
                    dir: dir.to_owned(),
                    why,
                })
            };
            if snap.chain_id != chain.chain_id {
                return Err(inconsistent(format!(
                    "{snapshot_file} is of chain id {}, the node was started with chain id {}",
                    snap.chain_id, chain.chain_id
                )));
            }
            let k = snap.position.blocks;
            if k > read.blocks() {
                return Err(inconsistent(format!(
                    "{snapshot_file} covers {k} blocks but {log_file} holds only {}: the log lost \
                     blocks (truncated or replaced?). Put the right blocks.log back",
                    read.blocks()
                )));
            }
            if read.position_after(k) != snap.position {
                return Err(inconsistent(format!(
                    "{log_file} does not match {snapshot_file}: block {k} of the log is not the \
                     one the snapshot was made after (the log was replaced?)"
                )));
            }
            if snap.fingerprint != fingerprint {
                tracing::warn!(
                    "{snapshot_file} was made from another genesis (another --accounts, or \
                     another devnode version): ignoring it and replaying all {} blocks of \
                     {log_file}",
                    read.blocks()
                );
            } else {
                snap.apply(chain);
                start = k;
                covered = Some(k);
                tracing::info!(
                    "{snapshot_file}: block {k}; replaying the {} blocks after it",
                    read.blocks() - k
                );
            }
        }
        Err(snapshot::LoadError::OtherVersion(v)) => tracing::warn!(
            "{}: a snapshot of another format ({v}): ignoring it and replaying all {} blocks of \
             {log_file}",
            dir.join(SNAPSHOT_FILE).display(),
            read.blocks()
        ),
        Err(snapshot::LoadError::Corrupt(why)) => {
            let (from, to) = (dir.join(SNAPSHOT_FILE), dir.join(CORRUPT_SNAPSHOT_FILE));
            tracing::warn!(
                "{} is corrupt ({why}): moving it to {} and replaying all {} blocks of {log_file}",
                from.display(),
                to.display(),
                read.blocks()
            );
            std::fs::rename(&from, &to).map_err(NodeError::DataDir)?;
        }
        Err(snapshot::LoadError::Io(e)) => {
            return Err(NodeError::Store(StoreError::Io {
                path: dir.join(SNAPSHOT_FILE),
                source: e,
            }))
        }
    }
    let (log, entries) = read.open(start)?;
    let replayed = entries.len() as u64;
    for (i, entry) in entries.into_iter().enumerate() {
        let block = start + i as u64 + 1;
        let txs = entry
            .txs
            .iter()
            .map(|raw| decode_raw(raw))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| NodeError::Replay {
                block,
                why: e.to_string(),
            })?;
        let (_, results) = chain.mine(txs, entry.timestamp, true);
        if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
            return Err(NodeError::Replay {
                block,
                why: e.to_string(),
            });
        }
    }
    tracing::debug!(
        "restored block {} at {:?} ({replayed} replayed)",
        chain.number(),
        started.elapsed()
    );
    let snapshots = Snapshotter::new(dir, snapshot_every, fingerprint, covered);
    if snapshot_every > 0 && replayed >= snapshot_every {
        // A longer replay than periodic snapshots allow (no snapshot, or an unusable
        // one): snapshot now so that the next start does not repeat it.
        snapshots.in_background(chain, log.position());
    }
    let restored = Restored {
        snapshot_block: covered,
        replayed,
    };
    Ok((log, snapshots, restored))
}

/// The lock file that keeps a data dir to one node at a time.
pub const LOCK_FILE: &str = "LOCK";

/// Creates `dir` if needed and takes its lock, or says which process to stop.
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, NodeError> {
    std::fs::create_dir_all(dir).map_err(NodeError::DataDir)?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(NodeError::Store(StoreError::Inconsistent {
            dir: dir.to_owned(),
            why: "another node is running on this data dir (it holds LOCK): stop it, or \
                  give this one another --data-dir"
                .into(),
        })),
        Err(std::fs::TryLockError::Error(source)) => {
            Err(NodeError::Store(StoreError::Io { path, source }))
        }
    }
}

/// A data dir without `blocks.log`: a new chain, unless state of one is there.
fn new_chain(dir: &Path) -> Result<BlockLog, NodeError> {
    let ours = [
        SNAPSHOT_FILE,
        CORRUPT_SNAPSHOT_FILE,
        snapshot::TMP_FILE,
        persist::LOG_TMP_FILE,
    ];
    let mut others = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let name = entry.map_err(NodeError::DataDir)?.file_name();
                let name = name.to_string_lossy().into_owned();
                if name == LOCK_FILE {
                    continue;
                }
                if ours.contains(&name.as_str()) {
                    return Err(NodeError::Store(StoreError::Inconsistent {
                        dir: dir.to_owned(),
                        why: format!(
                            "{LOG_FILE} is missing beside {name}: the chain's blocks were \
                             deleted or moved. Put {LOG_FILE} back, or start on an empty \
                             directory for a new chain"
                        ),
                    }));
                }
                others.push(name);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(NodeError::DataDir(e)),
    }
    if others.is_empty() {
        tracing::info!("{}: a new chain", dir.display());
    } else {
        others.sort();
        tracing::warn!(
            "{} holds no {LOG_FILE} but other files ({}): starting a NEW chain there",
            dir.display(),
            others.join(", ")
        );
    }
    std::fs::create_dir_all(dir).map_err(NodeError::DataDir)?;
    Ok(BlockLog::create(dir)?)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
