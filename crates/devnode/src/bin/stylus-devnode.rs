//! `stylus-devnode`: a local Arbitrum Stylus chain on 127.0.0.1:8547.

use careledger_devnode::node::genesis::DEV_ADDRESS;
use careledger_devnode::node::DEFAULT_SNAPSHOT_EVERY;
use careledger_devnode::rpc::RpcConfig;
use careledger_devnode::{Devnode, NodeConfig, CHAIN_ID, RPC_GAS_CAP};
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A Docker-free local Arbitrum Stylus chain that executes the real WASM.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to serve JSON-RPC (HTTP and WebSocket) on.
    #[arg(long, default_value = "127.0.0.1:8547")]
    addr: SocketAddr,
    /// Chain id.
    #[arg(long, default_value_t = CHAIN_ID)]
    chain_id: u64,
    /// Generated, prefunded accounts besides nitro-devnode's dev account.
    #[arg(long, default_value_t = 9)]
    accounts: usize,
    /// Keep the chain here (blocks.log, snapshot.bin); a restart loads the newest
    /// snapshot and replays the blocks after it. An empty or new directory starts a
    /// new chain; a damaged log or a log missing beside a snapshot refuses to start.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// With --data-dir: write a snapshot every N blocks (0: only at a clean stop,
    /// Ctrl-C or SIGTERM).
    #[arg(long, default_value_t = DEFAULT_SNAPSHOT_EVERY, value_name = "N")]
    snapshot_every: u64,
    /// Mine every N milliseconds instead of once per transaction.
    #[arg(long)]
    block_time_ms: Option<u64>,
    /// nitro's debug mode: programs may import `console`.
    #[arg(long)]
    debug: bool,
    /// Also print the accounts' private keys (local throwaway keys; off by default so
    /// that logs never carry a key).
    #[arg(long)]
    print_keys: bool,
    /// Most gas one eth_call or eth_estimateGas may use; a request for more runs
    /// with this much (geth's --rpc.gascap). 0: no cap.
    #[arg(long, value_name = "GAS", default_value_t = RPC_GAS_CAP)]
    rpc_gas_cap: u64,
    /// Time after which an eth_call or eth_estimateGas is abandoned with "execution
    /// aborted (timeout = …)" (geth's --rpc.evmtimeout): 5s, 500ms, 1m. 0: none.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    rpc_evm_timeout: Duration,
    /// A browser origin (scheme://host[:port]) allowed to call the node: CORS is
    /// answered for it and its WebSockets are accepted. Repeat or separate with
    /// commas; * allows every web page. Default: none.
    #[arg(long, value_name = "ORIGIN", value_delimiter = ',')]
    allow_origin: Vec<String>,
    /// A host name accepted in the Host header besides IP addresses and localhost
    /// (against DNS rebinding, as geth's --http.vhosts). Repeatable; * accepts any.
    #[arg(long, value_name = "HOST", value_delimiter = ',')]
    allow_host: Vec<String>,
}

/// `5s`, `500ms`, `2m`, `1h`, or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 5s or 500ms"))?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = NodeConfig {
        chain_id: args.chain_id,
        accounts: args.accounts,
        data_dir: args.data_dir,
        snapshot_every: args.snapshot_every,
        block_time: args.block_time_ms.map(Duration::from_millis),
        debug: args.debug,
        rpc_gas_cap: args.rpc_gas_cap,
        rpc_evm_timeout: args.rpc_evm_timeout,
    };
    let rpc = RpcConfig {
        addr: args.addr,
        allow_origins: args.allow_origin,
        allow_hosts: args.allow_host,
        ..RpcConfig::default()
    };
    let devnode = match Devnode::start(config, rpc).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("stylus-devnode: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "stylus-devnode: chain id {} at {} (ws {})",
        args.chain_id,
        devnode.url(),
        devnode.ws_url()
    );
    println!("accounts (the first is nitro-devnode's dev account {DEV_ADDRESS}; the node signs for them in eth_sendTransaction):");
    for account in devnode.node.accounts() {
        if args.print_keys {
            println!(
                "  {}  key 0x{}",
                account.address(),
                alloy_primitives::hex::encode(account.signer.to_bytes())
            );
        } else {
            println!("  {}", account.address());
        }
    }
    if !args.print_keys {
        println!("(--print-keys prints their keys: local throwaway keys, public by design)");
    }
    println!("listening");
    stop_signal().await;
    let node = devnode.node.clone();
    devnode.stop().await;
    // A clean stop leaves a snapshot of the head: the next start replays nothing.
    if let Err(e) = node.write_snapshot() {
        eprintln!("stylus-devnode: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_geth_writes_them() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn the_limit_and_access_flags_parse_with_geths_defaults() {
        let args = Args::parse_from(["stylus-devnode"]);
        assert_eq!(args.rpc_gas_cap, 50_000_000);
        assert_eq!(args.rpc_evm_timeout, Duration::from_secs(5));
        assert!(args.allow_origin.is_empty() && args.allow_host.is_empty());
        let args = Args::parse_from([
            "stylus-devnode",
            "--rpc-gas-cap",
            "0",
            "--rpc-evm-timeout",
            "250ms",
            "--allow-origin",
            "http://localhost:5173,http://127.0.0.1:5173",
            "--allow-origin",
            "*",
            "--allow-host",
            "devnode.lan",
        ]);
        assert_eq!(args.rpc_gas_cap, 0);
        assert_eq!(args.rpc_evm_timeout, Duration::from_millis(250));
        assert_eq!(
            args.allow_origin,
            ["http://localhost:5173", "http://127.0.0.1:5173", "*"]
        );
        assert_eq!(args.allow_host, ["devnode.lan"]);
    }
}
