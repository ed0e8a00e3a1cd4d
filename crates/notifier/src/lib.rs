//! careledger-notifier: follows CareLedger's contracts and emails doctors (and
//! patients, for break-glass access) about grants, revocations, emergency
//! access and new records they may read; each event once, across crashes, and
//! only to addresses confirmed with a mailed code (double opt-in, optin.rs).
//!
//! Tasks: the follower (chain → outbox, follow.rs), the mailer (outbox → SMTP,
//! mailer.rs), the directory and health endpoint (HTTP, directory.rs) and, if
//! configured, a WebSocket head subscription. The SQLite store ties them.

pub mod abi;
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

pub fn now() -> u64 {
    now_ms() / 1000
}

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
            "mails were in an SMTP transaction at the last stop: sending them again with the same Message-ID"
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
