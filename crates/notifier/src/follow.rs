//! Follows the chain: confirmed block ranges are read with `eth_getLogs`,
//! turned into mails and committed with the cursor (see store.rs). New heads
//! come from an `eth_subscribe("newHeads")` WebSocket when one is configured,
//! with polling over HTTP as the fallback and the safety net.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::health::Metrics;
use crate::notice::{Notice, What};
use crate::store::{Batch, Store};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider, WsConnect};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::{SolEvent, SolEventInterface};
use careledger_bindings::{Deployment, IAccessToken, IRecordRegistry};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Everything the follower reads and writes.
pub struct Follower {
    /// The node over HTTP (`rpc_url`): heads, logs, blocks and `checkAccess`.
    pub provider: RootProvider,
    /// Where each range is committed with its mails and the cursor.
    pub store: Arc<Store>,
    /// Head, cursor, events, reorgs and RPC errors for `/health`.
    pub metrics: Arc<Metrics>,
    /// The contracts whose events are read, and the block reading starts at.
    pub deployment: Deployment,
    /// Blocks a range's last block must be buried under (`confirmations`).
    pub confirmations: u64,
    /// Largest block range per `eth_getLogs` (`log_window`).
    pub window: u64,
    /// Woken when mails were queued.
    pub mailer: Arc<Notify>,
}

impl Follower {
    /// A follower of `config`'s node; it connects on its first step. Fails
    /// with [`Error::Config`] if `rpc_url` is not a URL.
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
                IRecordRegistry::EmergencyKeyReleased::SIGNATURE_HASH,
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
        // Every log checked and decoded first: a revocation's words depend on
        // the logs after it in its transaction (see link_replacements).
        let mut places = Vec::with_capacity(logs.len());
        let mut events = Vec::with_capacity(logs.len());
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
            places.push((number, timestamp, index));
            events.push((tx, what));
        }
        link_replacements(&mut events);
        for ((number, timestamp, index), (tx, what)) in places.into_iter().zip(events) {
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
                What::KeyReleased { .. } => notice.direct_recipients(),
                What::RecordAdded {
                    record,
                    patient,
                    category,
                    ..
                } => self.readers(&batch, *patient, *record, *category).await?,
            };
            for r in recipients {
                if self.store.has_contact(r)? {
                    batch.mails.push(notice.mail(r));
                }
            }
        }
        Ok(batch)
    }

    /// What a log of our contracts says, by the events' generated enums; a log
    /// of another address or event is not ours to mail about.
    fn decode(&self, log: &Log) -> Option<What> {
        use IAccessToken::IAccessTokenEvents as Token;
        use IRecordRegistry::IRecordRegistryEvents as Records;
        let d = &self.deployment;
        let (topics, data) = (log.topics(), &log.data().data);
        let decoded = if log.address() == d.access_token {
            match Token::decode_raw_log(topics, data) {
                Ok(Token::AccessGranted(e)) => Some(What::Granted {
                    token: e.tokenId,
                    patient: e.patient,
                    doctor: e.doctor,
                    expires_at: e.expiresAt,
                    scope_kind: e.scopeKind,
                    records: e.recordIds.len(),
                }),
                Ok(Token::AccessRevoked(e)) => Some(What::Revoked {
                    token: e.tokenId,
                    patient: e.patient,
                    doctor: e.doctor,
                    replaced_by: None,
                }),
                Ok(Token::EmergencyAccess(e)) => Some(What::Emergency {
                    patient: e.patient,
                    doctor: e.doctor,
                    expires_at: e.expiresAt,
                    reason: e.reason,
                }),
                // Transfers, locks and the rest: nobody is mailed about them.
                Ok(_) => return None,
                Err(_) => None,
            }
        } else if log.address() == d.record_registry {
            match Records::decode_raw_log(topics, data) {
                Ok(Records::EmergencyKeyReleased(e)) => Some(What::KeyReleased {
                    record: e.recordId,
                    patient: e.patient,
                    doctor: e.doctor,
                    custodian: e.custodian,
                    version: e.version,
                }),
                Ok(Records::RecordAdded(e)) => Some(What::RecordAdded {
                    record: e.recordId,
                    patient: e.patient,
                    version: e.version,
                    category: e.category,
                }),
                Ok(_) => return None,
                Err(_) => None,
            }
        } else {
            return None;
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
        category: B256,
    ) -> Result<Vec<Address>> {
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

/// Marks each AccessRevoked whose transaction also holds an AccessGranted (from
/// the token: decode reads no other) of another token for the same patient and
/// doctor: `grant` burns the pair's expired tokens to make room for a new one,
/// logging their AccessRevoked before the new AccessGranted, and a patient may
/// batch a revoke with a new grant. Either way the doctor's old token ended and
/// was cleared for the new one, which is no "access revoked by the patient".
/// A transaction's logs are all in one block, so all in the same range.
fn link_replacements(events: &mut [(B256, What)]) {
    let grants: Vec<(B256, Address, Address, U256)> = events
        .iter()
        .filter_map(|(tx, what)| match what {
            What::Granted {
                token,
                patient,
                doctor,
                ..
            } => Some((*tx, *patient, *doctor, *token)),
            _ => None,
        })
        .collect();
    if grants.is_empty() {
        return;
    }
    for (tx, what) in events.iter_mut() {
        if let What::Revoked {
            token,
            patient,
            doctor,
            replaced_by,
        } = what
        {
            *replaced_by = grants
                .iter()
                .find(|(t, p, d, new)| t == tx && p == patient && d == doctor && new != token)
                .map(|(.., new)| *new);
        }
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

#[cfg(test)]
mod tests {
    //! The reorg path against a scripted JSON-RPC node (the devnode cannot
    //! reorganise): a grant's block is replaced by another branch. And the
    //! words of a revocation beside a new grant in one transaction.

    use super::*;
    use serde_json::{json, Value};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::Mutex;

    const TOKEN: Address = Address::repeat_byte(0xa7);
    const PATIENT: Address = Address::repeat_byte(0x02);
    const DOCTOR: Address = Address::repeat_byte(0x03);

    /// One branch: block hashes by number, (block, tx hash) of each grant (its
    /// token is its place in `grants`, from 1) and (block, tx hash, token) of
    /// each revocation, logged before the grants of its block.
    #[derive(Clone)]
    struct Branch {
        hashes: Vec<B256>,
        grants: Vec<(u64, B256)>,
        revokes: Vec<(u64, B256, u64)>,
    }

    fn block_json(n: u64, b: &Branch) -> Value {
        let zero = B256::ZERO;
        json!({
            "hash": b.hashes[n as usize], "parentHash": if n == 0 { zero } else { b.hashes[n as usize - 1] },
            "sha3Uncles": zero, "miner": Address::ZERO, "stateRoot": zero, "transactionsRoot": zero,
            "receiptsRoot": zero, "logsBloom": format!("0x{}", "00".repeat(256)), "difficulty": "0x0",
            "number": format!("{n:#x}"), "gasLimit": "0x1c9c380", "gasUsed": "0x0",
            "timestamp": format!("{:#x}", 1_700_000_000 + n), "extraData": "0x", "mixHash": zero,
            "nonce": "0x0000000000000000", "baseFeePerGas": "0x5f5e100", "uncles": [], "transactions": [],
            "size": "0x200",
        })
    }

    fn answer(method: &str, params: &Value, b: &Branch) -> Value {
        let head = b.hashes.len() as u64 - 1;
        let num = |v: &Value| {
            u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        };
        match method {
            "eth_blockNumber" => json!(format!("{head:#x}")),
            "eth_getBlockByNumber" => {
                let n = num(&params[0]);
                if n <= head {
                    block_json(n, b)
                } else {
                    Value::Null
                }
            }
            "eth_getLogs" => {
                let (from, to) = (num(&params[0]["fromBlock"]), num(&params[0]["toBlock"]));
                let log = |n: u64, tx: B256, index: usize, data: alloy::primitives::LogData| {
                    json!({
                        "address": TOKEN, "topics": data.topics(), "data": data.data,
                        "blockNumber": format!("{n:#x}"), "blockHash": b.hashes[n as usize],
                        "transactionHash": tx, "transactionIndex": "0x0",
                        "logIndex": format!("{index:#x}"), "removed": false,
                    })
                };
                let mut logs = Vec::new();
                for n in from..=to {
                    let mut index = 0;
                    for (_, tx, token) in b.revokes.iter().filter(|(m, ..)| *m == n) {
                        let event = IAccessToken::AccessRevoked {
                            tokenId: U256::from(*token),
                            patient: PATIENT,
                            doctor: DOCTOR,
                        };
                        logs.push(log(n, *tx, index, event.encode_log_data()));
                        index += 1;
                    }
                    for (i, (_, tx)) in b.grants.iter().enumerate().filter(|(_, (m, _))| *m == n) {
                        let event = IAccessToken::AccessGranted {
                            tokenId: U256::from(i + 1),
                            patient: PATIENT,
                            doctor: DOCTOR,
                            expiresAt: 1_800_000_000,
                            scopeKind: 0,
                            category: B256::ZERO,
                            recordIds: vec![],
                        };
                        logs.push(log(n, *tx, index, event.encode_log_data()));
                        index += 1;
                    }
                }
                json!(logs)
            }
            other => panic!("unexpected {other}"),
        }
    }

    /// A one-connection-at-a-time HTTP JSON-RPC server over `branch`.
    fn serve(branch: Arc<Mutex<Branch>>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let req: Value = serde_json::from_slice(&body).unwrap();
                let result = answer(
                    req["method"].as_str().unwrap(),
                    &req["params"],
                    &branch.lock().unwrap(),
                );
                let reply =
                    json!({"jsonrpc": "2.0", "id": req["id"], "result": result}).to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
            }
        });
        url
    }

    fn follower(url: &str, store: Arc<Store>) -> Follower {
        Follower {
            provider: RootProvider::new_http(url.parse().unwrap()),
            store,
            metrics: Arc::new(Metrics::default()),
            deployment: Deployment {
                chain_id: 1,
                patient_registry: Address::repeat_byte(1),
                access_token: TOKEN,
                record_registry: Address::repeat_byte(0xbb),
                deploy_block: 1,
            },
            confirmations: 0,
            window: 1,
            mailer: Arc::new(Notify::new()),
        }
    }

    #[test]
    fn a_revocation_beside_a_new_grant_of_the_same_pair_is_a_replacement() {
        let granted = |token: u64, patient, doctor| What::Granted {
            token: U256::from(token),
            patient,
            doctor,
            expires_at: 9,
            scope_kind: 0,
            records: 0,
        };
        let revoked = |token: u64, patient, doctor| What::Revoked {
            token: U256::from(token),
            patient,
            doctor,
            replaced_by: None,
        };
        let (a, b, c) = (
            B256::repeat_byte(0x0a),
            B256::repeat_byte(0x0b),
            B256::repeat_byte(0x0c),
        );
        let (other_doctor, other_patient) = (Address::repeat_byte(9), Address::repeat_byte(8));
        let mut events = vec![
            // Pruned by the grant after it, in the same transaction.
            (a, revoked(1, PATIENT, DOCTOR)),
            (a, revoked(2, PATIENT, other_doctor)),
            (a, granted(3, PATIENT, DOCTOR)),
            // Another transaction: a revocation, whatever else is in the range.
            (b, revoked(4, PATIENT, DOCTOR)),
            (b, granted(5, other_patient, DOCTOR)),
            // A grant, then the revocation of another token, batched.
            (c, granted(6, PATIENT, DOCTOR)),
            (c, revoked(5, PATIENT, DOCTOR)),
            // A token revoked in the transaction that granted it: no replacement.
            (c, revoked(6, PATIENT, DOCTOR)),
        ];
        link_replacements(&mut events);
        let replaced: Vec<_> = events
            .iter()
            .filter_map(|(_, w)| match w {
                What::Revoked { replaced_by, .. } => Some(replaced_by.map(|t| t.to::<u64>())),
                _ => None,
            })
            .collect();
        assert_eq!(replaced, vec![Some(3), None, None, Some(6), None]);
    }

    /// Through eth_getLogs: the token burnt inside `grant` is mailed as cleared
    /// for the new one; a revocation in a transaction of its own stays a
    /// revocation.
    #[tokio::test]
    async fn an_expired_token_pruned_by_a_grant_is_mailed_as_replaced() {
        let (prune, plain) = (B256::repeat_byte(0xcc), B256::repeat_byte(0xdd));
        let branch = Branch {
            hashes: (0..4).map(|i| B256::repeat_byte(0x30 + i)).collect(),
            // Token 1 granted in block 1; token 2 in block 2, pruning token 7.
            grants: vec![(1, B256::repeat_byte(0xbb)), (2, prune)],
            revokes: vec![(2, prune, 7), (3, plain, 2)],
        };
        let url = serve(Arc::new(Mutex::new(branch)));
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("n.sqlite")).unwrap());
        store.confirm_for_tests(DOCTOR, "d@example.org");
        let follower = follower(&url, store.clone());
        while follower.step().await.unwrap() {}
        let due = store.due(crate::now(), 10).unwrap();
        let mail = |tx: B256, index: u64| {
            let id = crate::notice::message_id(1, tx, index, DOCTOR);
            due.iter()
                .find(|m| m.message_id == id)
                .expect("mailed")
                .clone()
        };
        let replaced = mail(prune, 0);
        assert!(
            !replaced.subject.contains("revoked"),
            "{}",
            replaced.subject
        );
        assert!(
            replaced.body.contains("#7") && replaced.body.contains("new access token #2"),
            "{}",
            replaced.body
        );
        assert!(!replaced.body.contains("revoked"), "{}", replaced.body);
        assert!(mail(prune, 1).subject.contains("access granted"));
        let revoked = mail(plain, 0);
        assert!(
            revoked.subject.contains("access revoked by patient"),
            "{}",
            revoked.subject
        );
        assert!(revoked.body.contains("revoked your access token #2"));
        assert_eq!(due.len(), 4, "two grants, two ends");
    }

    #[tokio::test]
    async fn a_reorged_grant_is_withdrawn_and_the_new_branch_mailed() {
        let hashes = |tag: u8, n: usize| {
            (0..n)
                .map(|i| B256::repeat_byte(tag ^ i as u8))
                .collect::<Vec<_>>()
        };
        // Branch A: blocks 0..=4, the grant in block 3.
        let a = Branch {
            hashes: hashes(0x10, 5),
            grants: vec![(3, B256::repeat_byte(0xaa))],
            revokes: vec![],
        };
        let chain = Arc::new(Mutex::new(a.clone()));
        let url = serve(chain.clone());
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("n.sqlite")).unwrap());
        store.confirm_for_tests(DOCTOR, "d@example.org");
        let follower = follower(&url, store.clone());
        while follower.step().await.unwrap() {}
        let due = store.due(crate::now(), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert!(due[0].message_id.contains(&alloy::hex::encode([0xaa; 32])));

        // Branch B shares blocks 0..=2, replaces 3 and 4, adds 5; the grant is in block 4.
        let mut b = Branch {
            hashes: hashes(0x60, 6),
            grants: vec![(4, B256::repeat_byte(0xbb))],
            revokes: vec![],
        };
        b.hashes[..3].copy_from_slice(&a.hashes[..3]);
        *chain.lock().unwrap() = b;
        while follower.step().await.unwrap() {}
        let due = store.due(crate::now(), 10).unwrap();
        assert_eq!(
            due.len(),
            1,
            "the orphaned mail is withdrawn, the new one queued"
        );
        assert!(due[0].message_id.contains(&alloy::hex::encode([0xbb; 32])));
        assert_eq!(follower.metrics.reorgs.load(Ordering::Relaxed), 1);
        assert_eq!(store.cursor().unwrap(), Some(5));
        assert_eq!(store.candidates(PATIENT).unwrap(), vec![DOCTOR]);
    }
}
