//! The gas table of scripts/bench (`--only gas`): every operation on the Stylus
//! contracts, uncached and cached, and on their Solidity twins, on one devnode (or
//! the chain `STYLUS_RPC_URL` names). Writes JSON to $BENCH_OUT (else
//! target/bench/gas.json) and the report's Markdown to $BENCH_OUT with `.md`.
//!
//! `cargo test -p careledger-e2e --test gas`

use alloy::sol_types::{SolCall, SolValue};
use careledger_e2e::twins::{self, Row};
use careledger_e2e::Net;
use std::fmt::Write;

alloy::sol! {
    function programInitGas(address program) external view returns (uint64 gas, uint64 gasWhenCached);
}

/// (uncached, cached) init gas of the program at `address`, from ArbWasm.
fn init_gas(net: &Net, address: &str) -> (u64, u64) {
    let data = programInitGasCall {
        program: address.parse().expect("an address"),
    }
    .abi_encode();
    let out = net.rpc(
        "eth_call",
        serde_json::json!([{"to": "0x0000000000000000000000000000000000000071",
            "data": format!("0x{}", alloy::hex::encode(data))}, "latest"]),
    );
    let bytes = alloy::hex::decode(out.as_str().unwrap().trim_start_matches("0x")).unwrap();
    <(u64, u64)>::abi_decode_params(&bytes).expect("two uint64")
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "pass"
    } else {
        "FAIL"
    }
}

fn main() {
    let net = Net::start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let rows = twins::run(&net, dir.path(), &[1, 10, 50], true);
    let deployment: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("uncached/deployment.json")).expect("the deployment"),
    )
    .expect("JSON");
    let programs: Vec<(&str, (u64, u64))> = [
        ("PatientRegistry", "patientRegistry"),
        ("AccessToken", "accessToken"),
        ("RecordRegistry", "recordRegistry"),
    ]
    .iter()
    .map(|(name, key)| (*name, init_gas(&net, deployment[key].as_str().unwrap())))
    .collect();

    let out = std::env::var("BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| careledger_e2e::net::repo_root().join("target/bench/gas.json"));
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).expect("the output's directory");
    }
    let has50 = rows
        .iter()
        .find(|r| r.operation.starts_with("hasAccess (patient with 50"))
        .expect("the 50-grant row");
    let every = |f: &dyn Fn(&Row) -> Option<f64>, limit: f64| {
        rows.iter().all(|r| f(r).is_some_and(|x| x <= limit))
    };
    let uncached_ok = every(&|r| Some(r.ratio()), 1.0);
    let cached_ok = every(&|r| r.cached_ratio(), 1.0);
    let has50_ok = has50.cached_ratio().is_some_and(|x| x <= 0.7);
    let json = serde_json::json!({
        "chain": if net.is_external() { "external" } else { "stylus-devnode" },
        "rows": rows,
        "init_gas": programs.iter().map(|(n, (u, c))| (n.to_string(), serde_json::json!({"uncached": u, "cached": c}))).collect::<serde_json::Map<_, _>>(),
        "targets": {"every_operation": 1.0, "has_access_50_grants": 0.7},
        "verdict": {"every_operation_uncached": verdict(uncached_ok), "every_operation_cached": verdict(cached_ok), "has_access_50_cached": verdict(has50_ok)},
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).expect("the JSON written");

    let mut md = twins::markdown(&rows);
    let worst = rows
        .iter()
        .filter_map(|r| r.cached_ratio().map(|x| (x, r.operation.as_str())))
        .fold((0.0, ""), |a, b| if b.0 > a.0 { b } else { a });
    writeln!(md).unwrap();
    writeln!(md, "| target | result |\n| --- | --- |").unwrap();
    writeln!(
        md,
        "| Stylus ≤ 1.0× Solidity on every operation, programs not cached | {} |",
        verdict(uncached_ok)
    )
    .unwrap();
    writeln!(
        md,
        "| the same, programs cached | {} (highest {:.2}×: {}) |",
        verdict(cached_ok),
        worst.0,
        worst.1
    )
    .unwrap();
    writeln!(
        md,
        "| hasAccess over 50 grants ≤ 0.7×, cached | {} ({:.2}×) |",
        verdict(has50_ok),
        has50.cached_ratio().unwrap_or(f64::NAN)
    )
    .unwrap();
    writeln!(md).unwrap();
    writeln!(
        md,
        "Init gas every call to a program pays (`ArbWasm.programInitGas`), uncached / cached:"
    )
    .unwrap();
    for (name, (u, c)) in &programs {
        writeln!(md, "- {name}: {u} / {c}").unwrap();
    }
    std::fs::write(out.with_extension("md"), &md).expect("the Markdown written");
    print!("{md}");
}
