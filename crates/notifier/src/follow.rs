//! Follows the chain: confirmed block ranges are read with `eth_getLogs`,
//! turned into mails and committed with the cursor (see store.rs). New heads
//! come from an `eth_subscribe("newHeads")` WebSocket when one is configured,
//! with polling over HTTP as the fallback and the safety net.

use crate::abi::{IAccessToken, IRecordRegistry};
use crate::config::{Config, Deployment};
use crate::error::{Error, Result};
use crate::health::Metrics;
use crate::notice::{Notice, What};
use crate::store::{Batch, Store};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider, WsConnect};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Everything the follower reads and writes.
pub struct Follower {
    pub provider: RootProvider,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub deployment: Deployment,
    pub confirmations: u64,
    pub window: u64,
    /// Woken when mails were queued.
    pub mailer: Arc<Notify>,
}

impl Follower {
    pub fn new(
        config: &Config,
        deployment: Deployment,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        mailer: Arc<Notify>,
    ) -> Result<Self> {
        let url = config
            .rpc_url
            .parse()
            .map_err(|e| Error::Config(format!("rpc_url: {e}")))?;
        Ok(Self {
            provider: RootProvider::new_http(url),
            store,
            metrics,
            deployment,
            confirmations: config.confirmations,
            window: config.log_window,
            mailer,
        })
    }

    /// Reads ranges until the confirmed head, waking on new heads or every
    /// `poll`, until `stop` turns true. A failing node is retried with backoff.
    pub async fn run(self, heads: Arc<Notify>, poll: Duration, mut stop: watch::Receiver<bool>) {
        let mut backoff = poll;
        loop {
            if *stop.borrow() {
                return;
            }
            let wait = match self.step().await {
                Ok(true) => continue,
                Ok(false) => {
                    backoff = poll;
                    poll
                }
                Err(e) => {
                    self.metrics.rpc_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "reading the chain failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    wait
                }
            };
            tokio::select! {
                _ = heads.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// One range at most; true if more confirmed blocks are waiting.
    pub async fn step(&self) -> Result<bool> {
        let head = self.provider.get_block_number().await.map_err(Error::rpc)?;
        self.metrics.head.store(head, Ordering::Relaxed);
        let target = head.saturating_sub(self.confirmations);
        self.check_reorg().await?;
        let cursor = self
            .store
            .cursor()?
            .unwrap_or(self.deployment.deploy_block.saturating_sub(1));
        if cursor >= target {
            return Ok(false);
        }
        let (from, to) = (cursor + 1, target.min(cursor + self.window));
        let batch = self.read(from, to).await?;
        let queued = self.store.apply(&batch, crate::now())?;
        self.metrics.cursor.store(to, Ordering::Relaxed);
        if queued > 0 {
            self.metrics
                .mails_queued
                .fetch_add(queued as u64, Ordering::Relaxed);
            self.mailer.notify_one();
        }
        tracing::debug!(from, to, queued, "range committed");
        Ok(to < target)
    }

    /// Compares the remembered hashes with the chain's, newest first, and
    /// rewinds to the newest that still matches.
    async fn check_reorg(&self) -> Result<()> {
        let known = self.store.recent_blocks(64)?;
        for (i, (number, hash)) in known.iter().enumerate() {
            if self.block(*number).await?.0 == *hash {
                if i > 0 {
                    let (withdrawn, sent) = self.store.rewind(*number)?;
                    self.metrics.reorgs.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        back_to = number,
                        withdrawn,
                        already_sent = sent,
                        "chain reorganised: re-reading"
                    );
                }
                return Ok(());
            }
        }
        match known.last() {
            None => Ok(()),
            Some((oldest, _)) => Err(Error::Rpc(format!(
                "the chain no longer holds any block this notifier read (down to {oldest}): \
                 a reorg deeper than its memory; raise `confirmations` and start a new database"
            ))),
        }
    }

    async fn block(&self, number: u64) -> Result<(B256, u64)> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(Error::rpc)?
            .ok_or_else(|| Error::Rpc(format!("block {number} is missing")))?;
        Ok((block.header.hash, block.header.timestamp))
    }

    /// Reads blocks `from..=to` into one batch.
    async fn read(&self, from: u64, to: u64) -> Result<Batch> {
        let d = &self.deployment;
        let filter = Filter::new()
            .address(vec![d.access_token, d.record_registry])
            .event_signature(vec![
                IAccessToken::AccessGranted::SIGNATURE_HASH,
                IAccessToken::AccessRevoked::SIGNATURE_HASH,
                IAccessToken::EmergencyAccess::SIGNATURE_HASH,
                IRecordRegistry::RecordAdded::SIGNATURE_HASH,
            ])
            .from_block(from)
            .to_block(to);
        let logs = self.provider.get_logs(&filter).await.map_err(Error::rpc)?;
        let (to_hash, _) = self.block(to).await?;
        let mut batch = Batch {
            to_block: to,
            to_hash,
            ..Batch::default()
        };
        // The headers of the blocks with logs, fetched a few at a time: on a
        // catch-up they are most of the reading.
        let mut numbers: Vec<u64> = logs.iter().filter_map(|l| l.block_number).collect();
        numbers.dedup();
        let times: HashMap<u64, (B256, u64)> = futures_util::stream::iter(numbers)
            .map(|n| async move { self.block(n).await.map(|b| (n, b)) })
            .buffered(16)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        for log in &logs {
            let (Some(number), Some(tx), Some(index)) =
                (log.block_number, log.transaction_hash, log.log_index)
            else {
                return Err(Error::Rpc(
                    "a log without its block, transaction or index".into(),
                ));
            };
            let (hash, timestamp) = times[&number];
            if log.block_hash.is_some_and(|h| h != hash) {
                return Err(Error::Rpc(format!(
                    "block {number} changed while it was read: reading again"
                )));
            }
            let Some(what) = self.decode(log) else {
                continue;
            };
            self.metrics.events.fetch_add(1, Ordering::Relaxed);
            let notice = Notice {
                chain_id: d.chain_id,
                block: number,
                timestamp,
                tx,
                log_index: index,
                what,
            };
            let recipients = match &notice.what {
                What::Granted {
                    token,
                    patient,
                    doctor,
                    ..
                } => {
                    batch
                        .grants
                        .push((token.to_string(), *patient, *doctor, number));
                    notice.direct_recipients()
                }
                What::Revoked { token, .. } => {
                    batch.revokes.push((token.to_string(), number));
                    notice.direct_recipients()
                }
                What::Emergency {
                    patient, doctor, ..
                } => {
                    batch.emergencies.push((*patient, *doctor, number));
                    notice.direct_recipients()
                }
                What::RecordAdded {
                    record, patient, ..
                } => self.readers(&batch, *patient, *record, log).await?,
            };
            for r in recipients {
                if self.store.has_contact(r)? {
                    batch.mails.push(notice.mail(r));
                }
            }
        }
        Ok(batch)
    }

    fn decode(&self, log: &Log) -> Option<What> {
        let topic = *log.topic0()?;
        let d = &self.deployment;
        let from_token = log.address() == d.access_token;
        let decoded = if from_token && topic == IAccessToken::AccessGranted::SIGNATURE_HASH {
            IAccessToken::AccessGranted::decode_log(&log.inner)
                .ok()
                .map(|e| What::Granted {
                    token: e.tokenId,
                    patient: e.patient,
                    doctor: e.doctor,
                    expires_at: e.expiresAt,
                    scope_kind: e.scopeKind,
                    records: e.recordIds.len(),
                })
        } else if from_token && topic == IAccessToken::AccessRevoked::SIGNATURE_HASH {
            IAccessToken::AccessRevoked::decode_log(&log.inner)
                .ok()
                .map(|e| What::Revoked {
                    token: e.tokenId,
                    patient: e.patient,
                    doctor: e.doctor,
                })
        } else if from_token && topic == IAccessToken::EmergencyAccess::SIGNATURE_HASH {
            IAccessToken::EmergencyAccess::decode_log(&log.inner)
                .ok()
                .map(|e| What::Emergency {
                    patient: e.patient,
                    doctor: e.doctor,
                    expires_at: e.expiresAt,
                })
        } else if log.address() == d.record_registry
            && topic == IRecordRegistry::RecordAdded::SIGNATURE_HASH
        {
            IRecordRegistry::RecordAdded::decode_log(&log.inner)
                .ok()
                .map(|e| What::RecordAdded {
                    record: e.recordId,
                    patient: e.patient,
                    version: e.version,
                })
        } else {
            None
        };
        if decoded.is_none() {
            // Our own contracts' events always decode; log only where it came from.
            tracing::warn!(address = %log.address(), "an undecodable log was skipped");
        }
        decoded
    }

    /// The doctors who may read a new record: candidates from the grants seen
    /// so far (this range's included), each confirmed by the contract's
    /// `checkAccess` now. Not as of the record's block: nodes without archive
    /// state (public RPC, the devnode) refuse calls on old blocks, and a doctor
    /// whose access ended since cannot read the record anyway.
    async fn readers(
        &self,
        batch: &Batch,
        patient: alloy::primitives::Address,
        record: alloy::primitives::U256,
        log: &Log,
    ) -> Result<Vec<Address>> {
        let category = IRecordRegistry::RecordAdded::decode_log(&log.inner)
            .map(|e| e.category)
            .unwrap_or_default();
        let mut candidates = self.store.candidates(patient)?;
        let in_range = batch.grants.iter().map(|(_, p, d, _)| (*p, *d));
        let in_range = in_range.chain(batch.emergencies.iter().map(|(p, d, _)| (*p, *d)));
        for (p, doctor) in in_range {
            if p == patient && !candidates.contains(&doctor) {
                candidates.push(doctor);
            }
        }
        let token = IAccessToken::new(self.deployment.access_token, &self.provider);
        let mut readers = Vec::new();
        for doctor in candidates {
            let open = token
                .checkAccess(patient, doctor, record, category)
                .call()
                .await
                .map_err(Error::rpc)?;
            if open {
                readers.push(doctor);
            }
        }
        Ok(readers)
    }
}

/// Wakes `heads` on every new block from a WebSocket subscription; reconnects
/// with backoff, and the poller covers the gaps.
pub async fn subscribe_heads(
    url: String,
    heads: Arc<Notify>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(250);
    loop {
        let session = async {
            let provider = ProviderBuilder::new()
                .connect_ws(WsConnect::new(url.clone()))
                .await
                .map_err(Error::rpc)?;
            let mut stream = provider
                .subscribe_blocks()
                .await
                .map_err(Error::rpc)?
                .into_stream();
            metrics.ws_connected.store(true, Ordering::Relaxed);
            tracing::info!("following new heads over WebSocket");
            while stream.next().await.is_some() {
                heads.notify_one();
            }
            Err::<(), _>(Error::Rpc("the WebSocket subscription ended".into()))
        };
        tokio::select! {
            result = session => {
                metrics.ws_connected.store(false, Ordering::Relaxed);
                if let Err(e) = result {
                    tracing::warn!(error = %e, "WebSocket lost: polling until it is back");
                }
            }
            _ = stop.changed() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}
