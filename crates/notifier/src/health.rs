//! Counters of this process and the health report built from them and the store.

use crate::store::{OutboxCounts, Store};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub head: AtomicU64,
    pub cursor: AtomicU64,
    pub ws_connected: AtomicBool,
    pub events: AtomicU64,
    pub mails_queued: AtomicU64,
    pub mails_sent: AtomicU64,
    pub smtp_errors: AtomicU64,
    pub rpc_errors: AtomicU64,
    pub reorgs: AtomicU64,
    /// Registrations accepted (each pending its code).
    pub registrations: AtomicU64,
    /// Registrations confirmed with their code.
    pub confirmations: AtomicU64,
    pub rejected_requests: AtomicU64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: &'static str,
    pub chain_id: u64,
    pub head: u64,
    pub cursor: Option<u64>,
    pub lag_blocks: u64,
    pub websocket: bool,
    pub outbox: OutboxCounts,
    /// Mails sent again (same Message-ID) because the server may already hold
    /// them: found `sending` after a crash, or their connection broke after
    /// their end of data.
    pub in_doubt_resent: u64,
    pub counters: Counters,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    pub events: u64,
    pub mails_queued: u64,
    pub mails_sent: u64,
    pub smtp_errors: u64,
    pub rpc_errors: u64,
    pub reorgs: u64,
    pub registrations: u64,
    pub confirmations: u64,
    pub rejected_requests: u64,
}

impl Metrics {
    pub fn health(&self, store: &Store, chain_id: u64) -> crate::error::Result<Health> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let cursor = store.cursor()?;
        let head = get(&self.head);
        let lag_blocks = head.saturating_sub(cursor.unwrap_or(0));
        let outbox = store.outbox_counts()?;
        Ok(Health {
            status: if outbox.failed > 0 { "degraded" } else { "ok" },
            chain_id,
            head,
            cursor,
            lag_blocks,
            websocket: self.ws_connected.load(Ordering::Relaxed),
            outbox,
            in_doubt_resent: store.in_doubt_total()?,
            counters: Counters {
                events: get(&self.events),
                mails_queued: get(&self.mails_queued),
                mails_sent: get(&self.mails_sent),
                smtp_errors: get(&self.smtp_errors),
                rpc_errors: get(&self.rpc_errors),
                reorgs: get(&self.reorgs),
                registrations: get(&self.registrations),
                confirmations: get(&self.confirmations),
                rejected_requests: get(&self.rejected_requests),
            },
        })
    }
}
