//! Counters of this process and the health report built from them and the store.

use crate::store::{OutboxCounts, Store};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// This process's counters, shared by its tasks: they start at zero with each
/// process, while the outbox and the in-doubt total live in the store.
#[derive(Debug, Default)]
pub struct Metrics {
    /// The chain's latest block number, as last read.
    pub head: AtomicU64,
    /// The last block of the latest range this process committed.
    pub cursor: AtomicU64,
    /// Whether the WebSocket head subscription is up.
    pub ws_connected: AtomicBool,
    /// Events of the contracts decoded (a range read again counts again).
    pub events: AtomicU64,
    /// Mails put in the outbox: notices and confirmation codes.
    pub mails_queued: AtomicU64,
    /// Mails the SMTP server took (its 250 recorded).
    pub mails_sent: AtomicU64,
    /// SMTP attempts that ended without a 250: refused, deferred or broken.
    pub smtp_errors: AtomicU64,
    /// Follower steps that failed, reading the chain as a rule; each is retried.
    pub rpc_errors: AtomicU64,
    /// Reorganisations that rewound the cursor.
    pub reorgs: AtomicU64,
    /// Registrations accepted (each pending its code).
    pub registrations: AtomicU64,
    /// Registrations confirmed with their code.
    pub confirmations: AtomicU64,
    /// Directory requests refused with a 4xx: malformed, expired, forged,
    /// replayed, or a wrong code.
    pub rejected_requests: AtomicU64,
}

/// What `GET /health` answers, in camelCase JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`, or `degraded` once any mail has failed for good.
    pub status: &'static str,
    /// The deployment's chain.
    pub chain_id: u64,
    /// The chain's latest block number, as last read (0 before the first read).
    pub head: u64,
    /// The last block whose events are committed; none before the first range.
    pub cursor: Option<u64>,
    /// `head` minus `cursor`: the confirmations waited for, plus any backlog.
    pub lag_blocks: u64,
    /// Whether the WebSocket head subscription is up (false: polling only).
    pub websocket: bool,
    /// The outbox's mails by status, over the database's life.
    pub outbox: OutboxCounts,
    /// Mails sent again (same Message-ID) because the server may already hold
    /// them: found `sending` after a crash, or their connection broke after
    /// their end of data.
    pub in_doubt_resent: u64,
    /// This process's counters since it started.
    pub counters: Counters,
}

/// The counters of [`Metrics`], as read for one report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Events of the contracts decoded.
    pub events: u64,
    /// Mails put in the outbox.
    pub mails_queued: u64,
    /// Mails the SMTP server took.
    pub mails_sent: u64,
    /// SMTP attempts that ended without a 250.
    pub smtp_errors: u64,
    /// Follower steps that failed.
    pub rpc_errors: u64,
    /// Reorganisations that rewound the cursor.
    pub reorgs: u64,
    /// Registrations accepted (each pending its code).
    pub registrations: u64,
    /// Registrations confirmed with their code.
    pub confirmations: u64,
    /// Directory requests refused with a 4xx.
    pub rejected_requests: u64,
}

impl Metrics {
    /// The report for `GET /health`: these counters, and the cursor, outbox
    /// and in-doubt total from `store` (whose failure is the only error).
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
