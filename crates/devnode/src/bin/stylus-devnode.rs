//! `stylus-devnode`: a local Arbitrum Stylus chain on 127.0.0.1:8547.

use careledger_devnode::node::genesis::DEV_ADDRESS;
use careledger_devnode::rpc::RpcConfig;
use careledger_devnode::{Devnode, NodeConfig, CHAIN_ID};
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
    /// Keep blocks here; restarting replays them.
    #[arg(long)]
    data_dir: Option<PathBuf>,
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
        block_time: args.block_time_ms.map(Duration::from_millis),
        debug: args.debug,
    };
    let rpc = RpcConfig {
        addr: args.addr,
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
    let _ = tokio::signal::ctrl_c().await;
    devnode.stop().await;
    std::process::ExitCode::SUCCESS
}
