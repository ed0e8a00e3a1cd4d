//! Notifier latency and throughput, written as JSON for scripts/bench.
//!
//! 1. Latency: 1,000 grants mined one after another with the notifier running;
//!    for each, from the moment its block was mined (the devnode mines on
//!    arrival) to the SMTP server storing the mail (the Maildir file's mtime).
//! 2. Throughput: 1,000 grants mined while the notifier is stopped, then the
//!    time from its start to the 1,000th mail accepted.
//!
//! `cargo test -p careledger-notifier --test latency` (output: $BENCH_OUT, else
//! target/bench/notifier.json).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

const EVENTS: usize = 1000;

fn token_of(raw: &str) -> Option<usize> {
    let at = raw.find("access token #")? + "access token #".len();
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
        smtp.wait_for(EVENTS, Duration::from_secs(300));
        let mut stored: HashMap<usize, SystemTime> = HashMap::new();
        for entry in std::fs::read_dir(smtp.maildir.join("new")).unwrap() {
            let path = entry.unwrap().path();
            let raw = std::fs::read_to_string(&path).unwrap();
            let token = token_of(&raw).expect("a grant notice");
            stored.insert(token, std::fs::metadata(&path).unwrap().modified().unwrap());
        }
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
        notifier.kill();
        world.grant_many(2, 3, EVENTS, |_| {}).await;
        let restart = Instant::now();
        notifier.spawn();
        smtp.wait_for(2 * EVENTS, Duration::from_secs(300));
        let drain = restart.elapsed().as_secs_f64();
        let h = notifier.wait_idle(0, Duration::from_secs(60));
        assert_eq!(h["outbox"]["sent"], 2 * EVENTS as u64, "{h}");

        let report = serde_json::json!({
            "events": EVENTS,
            "latency_ms": {
                "p50": percentile(&latencies, 0.50),
                "p90": percentile(&latencies, 0.90),
                "p99": percentile(&latencies, 0.99),
                "max": latencies[latencies.len() - 1],
            },
            "chain_events_per_s": chain_rate,
            "backlog_mails": EVENTS,
            "backlog_seconds": drain,
            "backlog_mails_per_s": EVENTS as f64 / drain,
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
