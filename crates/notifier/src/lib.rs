//! careledger-notifier: follows CareLedger's contracts and emails doctors (and
//! patients, for break-glass access) about grants, revocations, emergency
//! access and new records they may read, only to addresses confirmed with a
//! mailed code (double opt-in, optin.rs).
//!
//! Tasks: the follower (chain → outbox, follow.rs), the mailer (outbox → SMTP,
//! mailer.rs), the directory and health endpoint (HTTP, directory.rs) and, if
//! configured, a WebSocket head subscription. The SQLite store ties them.
//!
//! # What is guaranteed
//!
//! - One Message-ID per notice and one notice per Message-ID: the ID is fixed
//!   by (chain, transaction, log index, recipient) and queued once, however
//!   often a range is read again (store.rs).
//! - No notice is lost to a crash: it stays due until the server's 250 to its
//!   end of data is committed. (It is dropped if its recipient no longer has a
//!   confirmed address, and `failed` on a 5xx.)
//! - A Message-ID reaches the SMTP server twice only if the notifier died, or
//!   lost the connection, between that mail's end of data and the commit of
//!   the server's reply. One mail at a time is in that window (mailer.rs), so
//!   a crash re-sends at most one mail the server may already hold, with the
//!   same Message-ID and text, counted in `/health` (`inDoubtResent`).
//! - These hold while the database keeps its commits: a process crash keeps
//!   them, a power loss may lose the last few (WAL, `synchronous = NORMAL`);
//!   then more mails may be re-sent, none lost.
//!
//! The database holds email addresses in clear and is kept 0600 (store.rs,
//! docs/security.md).

pub mod config;
pub mod directory;
pub mod error;
pub mod follow;
pub mod health;
pub mod mailer;
pub mod notice;
pub mod optin;
pub mod store;

use config::Config;
use error::{Error, Result};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Unix time in seconds: the clock of request expiries, registrations and retries.
pub fn now() -> u64 {
    now_ms() / 1000
}

/// Unix time in milliseconds; 0 on a clock set before 1970 rather than a panic.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs the notifier until `shutdown` resolves, then lets the mailer finish
/// the mails in flight and returns.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let deployment = config.deployment()?;
    let store = Arc::new(store::Store::open(&config.database)?);
    let in_doubt = store.recover_in_doubt()?;
    if in_doubt > 0 {
        tracing::warn!(
            in_doubt,
            "a mail's end of data had gone to the SMTP server at the last stop, its reply unrecorded: \
             sending it again with the same Message-ID"
        );
    }
    let metrics = Arc::new(health::Metrics::default());
    let wake_mailer = Arc::new(Notify::new());
    let heads = Arc::new(Notify::new());
    let (stop_tx, stop) = watch::channel(false);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::Listen {
            addr: config.listen.to_string(),
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| Error::Listen {
        addr: config.listen.to_string(),
        reason: e.to_string(),
    })?;
    let dir = Arc::new(directory::Directory {
        store: store.clone(),
        metrics: metrics.clone(),
        domain: directory::domain(deployment.chain_id, deployment.patient_registry),
        chain_id: deployment.chain_id,
        max_ttl: config.max_request_ttl_secs,
        mailer: wake_mailer.clone(),
    });
    let cors_origins = config.cors_origins.clone();
    let mut http_stop = stop.clone();
    let http = tokio::spawn(async move {
        let app = directory::router(dir).layer(directory::cors(&cors_origins));
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });

    let follower = follow::Follower::new(
        &config,
        deployment,
        store.clone(),
        metrics.clone(),
        wake_mailer.clone(),
    )?;
    let mailer = mailer::Mailer::new(&config, store.clone(), metrics.clone())?;
    let ws = config.ws_url.clone().map(|url| {
        tokio::spawn(follow::subscribe_heads(
            url,
            heads.clone(),
            metrics.clone(),
            stop.clone(),
        ))
    });
    let follower = tokio::spawn(follower.run(heads, config.poll_interval(), stop.clone()));
    let mailer = tokio::spawn(mailer.run(wake_mailer, stop.clone()));
    tracing::info!(%addr, chain_id = deployment.chain_id, confirmations = config.confirmations, "notifier started");

    shutdown.await;
    tracing::info!("stopping: finishing the mails in flight");
    let _ = stop_tx.send(true);
    let _ = tokio::join!(follower, mailer, http);
    if let Some(ws) = ws {
        let _ = ws.await;
    }
    tracing::info!("stopped");
    Ok(())
}
