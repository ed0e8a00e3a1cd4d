//! Notifier latency and throughput, written as JSON for scripts/bench.
//!
//! 1. Latency: 1,000 grants mined one after another with the notifier running;
//!    for each, from the moment its block was mined (the devnode mines on
//!    arrival) to the SMTP server storing the mail (the Maildir file's mtime).
//! 2. Throughput: 1,000 grants mined while the notifier is stopped, then the
//!    time from its start to the last of their mails accepted: one per grant
//!    and one per expired token a grant burnt to make room (AccessRevoked).
//!
//! `cargo test -p careledger-notifier --test latency` (output: $BENCH_OUT, else
//! target/bench/notifier.json).

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

const EVENTS: usize = 1000;

/// The token of a grant notice; `None` for another mail (a token burnt by a
/// grant, mailed as cleared for the new one).
fn token_of(raw: &str) -> Option<usize> {
    if !raw.contains("access granted by patient") {
        return None;
    }
    let at = raw.find("(access token #")? + "(access token #".len();
    raw[at..].split(')').next()?.parse().ok()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (world, smtp, mut notifier) = common::doctor3_subscribed(&[]).await;

        // 1. latency, one grant at a time
        let mut mined: Vec<SystemTime> = Vec::with_capacity(EVENTS);
        let start = Instant::now();
        world
            .grant_many(2, 3, EVENTS, |_| mined.push(SystemTime::now()))
            .await;
        let chain_rate = EVENTS as f64 / start.elapsed().as_secs_f64();
        // Each grant's notice, and one per expired token a grant burnt.
        let (granted, ended) = world.access_events().await;
        smtp.wait_for(granted + ended, Duration::from_secs(300));
        let mut stored: HashMap<usize, SystemTime> = HashMap::new();
        for entry in std::fs::read_dir(smtp.maildir.join("new")).unwrap() {
            let path = entry.unwrap().path();
            let raw = std::fs::read_to_string(&path).unwrap();
            if let Some(token) = token_of(&raw) {
                stored.insert(token, std::fs::metadata(&path).unwrap().modified().unwrap());
            }
        }
        assert_eq!(stored.len(), EVENTS, "one notice per grant");
        let mut latencies: Vec<f64> = (1..=EVENTS)
            .map(|token| {
                let at = stored[&token];
                at.duration_since(mined[token - 1])
                    .unwrap_or_default()
                    .as_secs_f64()
                    * 1000.0
            })
            .collect();
        latencies.sort_by(|a, b| a.total_cmp(b));

        // 2. throughput from a backlog
        let stored_before = smtp.mails().len();
        notifier.kill();
        world.grant_many(2, 3, EVENTS, |_| {}).await;
        let restart = Instant::now();
        notifier.spawn();
        let (granted, ended) = world.access_events().await;
        let backlog = granted + ended - stored_before;
        smtp.wait_for(granted + ended, Duration::from_secs(300));
        let drain = restart.elapsed().as_secs_f64();
        let h = notifier.wait_idle(0, Duration::from_secs(60));
        // And doctor 3's confirmation (taken out of the Maildir's new/).
        assert_eq!(h["outbox"]["sent"], (granted + ended) as u64 + 1, "{h}");

        let report = serde_json::json!({
            "events": EVENTS,
            "latency_ms": {
                "p50": percentile(&latencies, 0.50),
                "p90": percentile(&latencies, 0.90),
                "p99": percentile(&latencies, 0.99),
                "max": latencies[latencies.len() - 1],
            },
            "chain_events_per_s": chain_rate,
            "backlog_mails": backlog,
            "backlog_seconds": drain,
            "backlog_mails_per_s": backlog as f64 / drain,
            "max_in_flight": 8,
        });
        let out = std::env::var_os("BENCH_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench/notifier.json")
            });
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
        println!("{report}");
    });
}
