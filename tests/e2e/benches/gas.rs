//! The gas table of scripts/bench (`--only gas`): every operation on the Stylus
//! contracts and on their Solidity twins, on one devnode (or the chain
//! `STYLUS_RPC_URL` names), written as JSON to $BENCH_OUT (else
//! target/bench/gas.json) and printed as Markdown.
//!
//! `cargo test -p careledger-e2e --test gas`

use careledger_e2e::{twins, Net};

fn main() {
    let net = Net::start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let rows = twins::run(&net, dir.path(), &[1, 10, 50], true);
    let out = std::env::var("BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| careledger_e2e::net::repo_root().join("target/bench/gas.json"));
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).expect("the output's directory");
    }
    let json = serde_json::json!({
        "chain": if net.is_external() { "external" } else { "stylus-devnode" },
        "rows": rows,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).expect("the JSON written");
    print!("{}", twins::markdown(&rows));
}
