//! Transaction load for `scripts/bench`'s devnode section: the same generator for
//! stylus-devnode and anvil.
//!
//! ```text
//! tx_load --rpc-url URL [--key HEX|nitro-devnode|anvil] [--count N] [--in-flight K]
//!         [--load transfers|stylus-calls] [--wasm FILE] [--node-log FILE]
//!         [--timeout-s S] [-- NODE_CMD [ARG ...]]
//! ```
//!
//! With `-- NODE_CMD ...` it first starts the node itself and measures `start_ms`:
//! from spawning the command (fork and exec) to the first successful `eth_chainId`
//! answer over HTTP at `--rpc-url` (polled every 0.5 ms, a new connection each
//! time); the node is killed when the load is done. Without a command, it loads a
//! node that is already running.
//!
//! Then, unless `--count 0`, it signs `N` transactions from `--key` with sequential
//! nonces (before the clock starts), sends them all with `eth_sendRawTransaction`
//! and stops the clock at the last receipt:
//!
//! - `transfers` (default): 1 wei to a fixed address, 21,000 gas each.
//! - `stylus-calls`: `updateEncryptionKey(bytes32)` with a new key each time on a
//!   PatientRegistry deployed, activated, constructed from `--wasm` (as
//!   `scripts/build-contracts` writes `target/contracts/patient-registry.wasm`) and
//!   with `--key` registered as a patient, all before the clock starts. A Stylus
//!   node only: it needs ArbWasm at 0x71.
//!
//! Up to `K` transactions (default 4) are in flight: sent and without a receipt
//! yet. Sends go out one at a time in nonce order, each after the node answered the
//! previous one, because stylus-devnode mines at once and keeps no queue for
//! future nonces (a nonce that overtook its predecessor would be refused); one task
//! polls the receipts in nonce order (every 1 ms while the oldest is missing). Every
//! receipt must have status 1.
//!
//! It prints one JSON line: `rpc_url`, `chain_id`, `start_ms` (when it started the
//! node) and, when it sent transactions, `load`, `count`, `in_flight`, `setup_s`,
//! `elapsed_s` (first send to last receipt), `tx_per_s`, `blocks` (mined during the
//! load), `send_ms_p50`/`_p99`/`_max` (each `eth_sendRawTransaction` from request to
//! answer), `client_cpu_s` and `node_cpu_s` (user + system CPU during the load, from
//! /proc; the node's only when it started it). Bad arguments exit with status 2,
//! failures with status 1.

use alloy::network::Ethereum;
use alloy::primitives::{address, keccak256, Address, Bytes, TxKind, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol_types::{SolCall, SolValue};
use alloy::transports::http::reqwest::Url;
use alloy::transports::TransportError;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use clap::{CommandFactory, Parser, ValueEnum};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use careledger_bindings::arbos::{ArbWasm, ARB_WASM};
use careledger_bindings::IPatientRegistry;

/// Where the transfers go: an address with no code and no known key.
const RECIPIENT: Address = address!("4242424242424242424242424242424242424242");
/// /proc counts CPU time in clock ticks of 1/100 s on Linux.
const CLOCK_TICKS_PER_S: f64 = 100.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Load {
    /// ETH transfers of 1 wei.
    Transfers,
    /// PatientRegistry.updateEncryptionKey(bytes32) on a program deployed from --wasm.
    StylusCalls,
}

impl Load {
    fn name(self) -> &'static str {
        match self {
            Load::Transfers => "transfers",
            Load::StylusCalls => "stylus-calls",
        }
    }
}

/// Transaction load for scripts/bench: start a node (optional), send N signed
/// transactions with sequential nonces, print one JSON line.
#[derive(Parser, Debug)]
#[command(name = "tx_load")]
struct Args {
    /// The node's HTTP JSON-RPC endpoint, e.g. http://127.0.0.1:8547.
    #[arg(long, value_parser = parse_url)]
    rpc_url: Url,
    /// The funded account that signs every transaction: a hex private key, or the
    /// name of a well-known public dev key, `nitro-devnode` (its dev account, which
    /// stylus-devnode prefunds) or `anvil` (anvil's first account), so that commands
    /// written into reports carry no key.
    #[arg(long)]
    key: Option<String>,
    /// Transactions to send; 0 only measures the start (needs NODE_CMD).
    #[arg(long, default_value_t = 2000)]
    count: u64,
    /// Transactions sent and not yet confirmed by a receipt, at most.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    in_flight: u32,
    /// What each transaction does.
    #[arg(long, value_enum, default_value_t = Load::Transfers)]
    load: Load,
    /// The PatientRegistry WASM for --load stylus-calls (target/contracts/patient-registry.wasm).
    #[arg(long)]
    wasm: Option<PathBuf>,
    /// Append the started node's stdout and stderr to this file (default: discard).
    #[arg(long)]
    node_log: Option<PathBuf>,
    /// Give up on the start, or on the load, after this many seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_s: u64,
    /// Start this node command first and measure its start; killed at the end.
    #[arg(last = true, value_name = "NODE_CMD")]
    node: Vec<String>,
}

fn parse_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("expected http://HOST:PORT".into());
    }
    Ok(url)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let usage = |msg: &str| -> ExitCode {
        let _ = Args::command()
            .error(clap::error::ErrorKind::ValueValidation, msg)
            .print();
        ExitCode::from(2)
    };
    if args.count == 0 && args.node.is_empty() {
        return usage("--count 0 sends nothing: give a NODE_CMD after -- to measure its start");
    }
    let signer = match (&args.key, args.count) {
        (_, 0) => None,
        (None, _) => return usage("--key is required to send transactions"),
        (Some(k), _) => match named_key(k.trim())
            .unwrap_or(k.trim())
            .parse::<PrivateKeySigner>()
        {
            Ok(s) => Some(s),
            Err(_) => return usage("--key is not a hex secp256k1 private key"),
        },
    };
    let wasm = match (args.load, &args.wasm) {
        (Load::StylusCalls, None) if args.count > 0 => {
            return usage(
                "--load stylus-calls needs --wasm (target/contracts/patient-registry.wasm)",
            )
        }
        (Load::StylusCalls, Some(path)) if args.count > 0 => match std::fs::read(path) {
            Ok(w) => Some(w),
            Err(e) => return usage(&format!("--wasm {}: {e}", path.display())),
        },
        _ => None,
    };
    match run(&args, signer, wasm) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tx_load: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A node this process started: killed and reaped when dropped, on every path.
struct NodeProcess {
    child: Child,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(
    args: &Args,
    signer: Option<PrivateKeySigner>,
    wasm: Option<Vec<u8>>,
) -> Result<serde_json::Value, String> {
    let timeout = Duration::from_secs(args.timeout_s);
    let mut out = json!({ "rpc_url": args.rpc_url.as_str() });
    let node = if args.node.is_empty() {
        None
    } else {
        let (node, start, chain_id) = start_node(args, timeout)?;
        out["start_ms"] = json!(round3(start.as_secs_f64() * 1e3));
        out["chain_id"] = json!(chain_id);
        Some(node)
    };
    if let Some(signer) = signer {
        let node_pid = node.as_ref().map(|n| n.child.id());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let figures = rt.block_on(load(args, signer, wasm, node_pid, timeout))?;
        if let (serde_json::Value::Object(out), serde_json::Value::Object(f)) = (&mut out, figures)
        {
            out.extend(f);
        }
    }
    drop(node);
    Ok(out)
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// Spawns the node and polls `eth_chainId` until it answers.
fn start_node(args: &Args, timeout: Duration) -> Result<(NodeProcess, Duration, u64), String> {
    let host = args.rpc_url.host_str().unwrap_or("127.0.0.1");
    let port = args
        .rpc_url
        .port_or_known_default()
        .ok_or("--rpc-url has no port")?;
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let host_header = format!("{host}:{port}");
    let path = args.rpc_url.path().to_string();
    let (stdout, stderr) = match &args.node_log {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("--node-log {}: {e}", path.display()))?;
            let copy = file
                .try_clone()
                .map_err(|e| format!("--node-log {}: {e}", path.display()))?;
            (Stdio::from(copy), Stdio::from(file))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let t0 = Instant::now();
    let child = Command::new(&args.node[0])
        .args(&args.node[1..])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", args.node[0]))?;
    let mut node = NodeProcess { child };
    loop {
        if let Some(chain_id) = addrs
            .iter()
            .find_map(|a| chain_id_once(a, &host_header, &path))
        {
            return Ok((node, t0.elapsed(), chain_id));
        }
        if let Ok(Some(status)) = node.child.try_wait() {
            let log = args
                .node_log
                .as_ref()
                .map(|p| format!(" (its output: {})", p.display()))
                .unwrap_or_default();
            return Err(format!(
                "{} exited ({status}) before answering eth_chainId{log}",
                args.node[0]
            ));
        }
        if t0.elapsed() > timeout {
            return Err(format!(
                "{} did not answer eth_chainId at {} within {timeout:?}",
                args.node[0], args.rpc_url
            ));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// One `eth_chainId` over a new HTTP/1.1 connection; `None` until the node answers.
fn chain_id_once(addr: &SocketAddr, host: &str, path: &str) -> Option<u64> {
    let mut stream = TcpStream::connect_timeout(addr, Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    if head.split(' ').nth(1) != Some("200") {
        return None;
    }
    // The JSON object, whether or not the body came chunked.
    let json = &body[body.find('{')?..=body.rfind('}')?];
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let hex = value.get("result")?.as_str()?;
    u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()
}

/// User plus system CPU seconds of a process, from /proc/PID/stat.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14
    // and 15 of proc(5), and `rest` starts at field 3.
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / CLOCK_TICKS_PER_S)
}

/// Prefixes an RPC error with the method that failed.
fn rpc(what: &'static str) -> impl Fn(TransportError) -> String {
    move |e| format!("{what}: {e}")
}

/// Signs transactions from one account with sequential nonces.
struct Wallet {
    signer: PrivateKeySigner,
    chain_id: u64,
    max_fee_per_gas: u128,
    nonce: u64,
}

impl Wallet {
    fn sign(&mut self, to: TxKind, value: U256, input: Bytes, gas_limit: u64) -> Bytes {
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce: self.nonce,
            gas_limit,
            max_fee_per_gas: self.max_fee_per_gas,
            max_priority_fee_per_gas: 0,
            to,
            value,
            input,
            ..Default::default()
        };
        self.nonce += 1;
        let signature = self
            .signer
            .sign_hash_sync(&tx.signature_hash())
            .expect("a local key signs any hash");
        TxEnvelope::from(tx.into_signed(signature))
            .encoded_2718()
            .into()
    }

    /// Estimates, signs, sends and waits for a successful receipt (setup only).
    async fn transact(
        &mut self,
        provider: &RootProvider<Ethereum>,
        to: TxKind,
        value: U256,
        input: Bytes,
        what: &str,
    ) -> Result<TransactionReceipt, String> {
        let mut request = TransactionRequest::default()
            .from(self.signer.address())
            .value(value)
            .input(input.clone().into());
        request.to = Some(to);
        let gas = provider
            .estimate_gas(request)
            .await
            .map_err(|e| format!("{what}: eth_estimateGas: {e}"))?;
        let raw = self.sign(to, value, input, gas + gas / 2);
        let hash = *provider
            .send_raw_transaction(&raw)
            .await
            .map_err(|e| format!("{what}: eth_sendRawTransaction: {e}"))?
            .tx_hash();
        let deadline = Instant::now() + Duration::from_secs(30);
        let receipt = wait_receipt(provider, hash, deadline)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        if !receipt.status() {
            return Err(format!("{what}: transaction {hash} reverted"));
        }
        Ok(receipt)
    }
}

async fn wait_receipt(
    provider: &RootProvider<Ethereum>,
    hash: B256,
    deadline: Instant,
) -> Result<TransactionReceipt, String> {
    loop {
        match provider.get_transaction_receipt(hash).await {
            Ok(Some(receipt)) => return Ok(receipt),
            Ok(None) => {}
            Err(e) => return Err(format!("eth_getTransactionReceipt({hash}): {e}")),
        }
        if Instant::now() > deadline {
            return Err(format!("no receipt for {hash} before the deadline"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Init code that returns `runtime` (cargo-stylus's 43-byte prelude).
fn init_code_for(runtime: &[u8]) -> Bytes {
    let mut code = vec![0x7f];
    code.extend_from_slice(&U256::from(runtime.len()).to_be_bytes::<32>());
    code.extend_from_slice(&[0x80, 0x60, 0x2b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, 0x00]);
    code.extend_from_slice(runtime);
    code.into()
}

/// The public dev keys `--key` knows by name.
fn named_key(name: &str) -> Option<&'static str> {
    match name {
        "nitro-devnode" => {
            Some("0xb6b15c8cb491557369f3c7d2c287b053eb229daa9c22138887752191c9520659")
        }
        "anvil" => Some("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
        _ => None,
    }
}

/// A non-zero encryption key per call.
fn key_for(i: u64) -> B256 {
    keccak256(format!("tx_load encryption key {i}"))
}

/// Deploys a PatientRegistry from `wasm`, activates and constructs it, registers the
/// wallet's account as a patient; returns the program's address.
async fn deploy_registry(
    provider: &RootProvider<Ethereum>,
    wallet: &mut Wallet,
    wasm: &[u8],
) -> Result<Address, String> {
    let init = init_code_for(&stylus_vm::program::encode_program(wasm));
    let receipt = wallet
        .transact(provider, TxKind::Create, U256::ZERO, init, "deploy")
        .await?;
    let registry = receipt
        .contract_address
        .ok_or("deploy: the receipt has no contract address")?;
    let activate = ArbWasm::activateProgramCall { program: registry }.abi_encode();
    let one_eth = U256::from(10u64).pow(U256::from(18));
    wallet
        .transact(
            provider,
            TxKind::Call(ARB_WASM),
            one_eth,
            activate.into(),
            "ArbWasm.activateProgram (is this a Stylus node?)",
        )
        .await?;
    let mut constructor = keccak256("stylus_constructor()")[..4].to_vec();
    constructor.extend_from_slice(&wallet.signer.address().abi_encode());
    wallet
        .transact(
            provider,
            TxKind::Call(registry),
            U256::ZERO,
            constructor.into(),
            "stylus_constructor",
        )
        .await?;
    let register = IPatientRegistry::registerPatientCall {
        encryption_key: key_for(u64::MAX),
    }
    .abi_encode();
    wallet
        .transact(
            provider,
            TxKind::Call(registry),
            U256::ZERO,
            register.into(),
            "registerPatient",
        )
        .await?;
    Ok(registry)
}

/// The timed part and its setup; returns the figures as a JSON object.
async fn load(
    args: &Args,
    signer: PrivateKeySigner,
    wasm: Option<Vec<u8>>,
    node_pid: Option<u32>,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let setup_start = Instant::now();
    let provider = RootProvider::<Ethereum>::new_http(args.rpc_url.clone());
    let chain_id = provider.get_chain_id().await.map_err(rpc("eth_chainId"))?;
    let gas_price = provider
        .get_gas_price()
        .await
        .map_err(rpc("eth_gasPrice"))?;
    let from = signer.address();
    let nonce = provider
        .get_transaction_count(from)
        .pending()
        .await
        .map_err(rpc("eth_getTransactionCount"))?;
    let mut wallet = Wallet {
        signer,
        chain_id,
        max_fee_per_gas: gas_price.saturating_mul(2).max(1),
        nonce,
    };

    let count = args.count;
    let mut check = None;
    let txs: Vec<Bytes> = match args.load {
        Load::Transfers => (0..count)
            .map(|_| wallet.sign(TxKind::Call(RECIPIENT), U256::from(1), Bytes::new(), 21_000))
            .collect(),
        Load::StylusCalls => {
            let wasm = wasm.ok_or("--load stylus-calls needs --wasm")?;
            let registry = deploy_registry(&provider, &mut wallet, &wasm).await?;
            let call = |i| -> Bytes {
                IPatientRegistry::updateEncryptionKeyCall {
                    encryption_key: key_for(i),
                }
                .abi_encode()
                .into()
            };
            let request = TransactionRequest::default()
                .from(from)
                .to(registry)
                .input(call(0).into());
            let gas = provider
                .estimate_gas(request)
                .await
                .map_err(rpc("eth_estimateGas(updateEncryptionKey)"))?;
            check = Some((registry, key_for(count - 1)));
            (0..count)
                .map(|i| wallet.sign(TxKind::Call(registry), U256::ZERO, call(i), gas * 2))
                .collect()
        }
    };
    let first_block = provider
        .get_block_number()
        .await
        .map_err(rpc("eth_blockNumber"))?;
    let setup_s = setup_start.elapsed().as_secs_f64();

    let self_pid = std::process::id().to_string();
    let node_pid = node_pid.map(|p| p.to_string());
    let client_cpu0 = cpu_seconds(&self_pid);
    let node_cpu0 = node_pid.as_deref().and_then(cpu_seconds);
    let window = std::sync::Arc::new(Semaphore::new(args.in_flight as usize));
    let (pending_tx, mut pending_rx) = mpsc::unbounded_channel::<(B256, OwnedSemaphorePermit)>();
    let t0 = Instant::now();
    let deadline = t0 + timeout;
    let receipts = {
        let provider = provider.clone();
        tokio::spawn(async move {
            let mut last_block = 0;
            let mut confirmed = 0u64;
            while let Some((hash, permit)) = pending_rx.recv().await {
                let receipt = wait_receipt(&provider, hash, deadline).await?;
                if !receipt.status() {
                    return Err(format!("transaction {hash} failed (status 0)"));
                }
                last_block = receipt.block_number.unwrap_or(last_block);
                confirmed += 1;
                drop(permit);
            }
            Ok::<_, String>((confirmed, last_block, Instant::now()))
        })
    };
    let mut send_error = None;
    let mut send_ms = Vec::with_capacity(txs.len());
    for raw in &txs {
        let Ok(permit) = window.clone().acquire_owned().await else {
            break;
        };
        let sent = Instant::now();
        match provider.send_raw_transaction(raw).await {
            Ok(pending) => {
                send_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                if pending_tx.send((*pending.tx_hash(), permit)).is_err() {
                    break; // the receipt task stopped on an error: it says which
                }
            }
            Err(e) => {
                send_error = Some(format!("eth_sendRawTransaction: {e}"));
                break;
            }
        }
    }
    drop(pending_tx);
    let (confirmed, last_block, t_end) =
        receipts.await.map_err(|e| format!("receipt task: {e}"))??;
    if let Some(e) = send_error {
        return Err(format!("{e} (after {confirmed} receipts)"));
    }
    if confirmed != count {
        return Err(format!("{confirmed} receipts for {count} transactions"));
    }
    let elapsed = t_end - t0;
    let client_cpu = cpu_seconds(&self_pid)
        .zip(client_cpu0)
        .map(|(b, a)| round3(b - a));
    let node_cpu = node_pid
        .as_deref()
        .and_then(cpu_seconds)
        .zip(node_cpu0)
        .map(|(b, a)| round3(b - a));

    if let Some((registry, key)) = check {
        let call = IPatientRegistry::encryptionKeyCall { account: from }.abi_encode();
        let request = TransactionRequest::default()
            .to(registry)
            .input(Bytes::from(call).into());
        let answer = provider.call(request).await.map_err(rpc("eth_call"))?;
        if answer.as_ref() != key.as_slice() {
            return Err(format!(
                "after the load, encryptionKey({from}) is {answer}, not the last key {key}"
            ));
        }
    }

    send_ms.sort_by(f64::total_cmp);
    let percentile = |p: f64| round3(send_ms[((send_ms.len() - 1) as f64 * p).round() as usize]);
    let mut figures = json!({
        "load": args.load.name(),
        "count": count,
        "in_flight": args.in_flight,
        "chain_id": chain_id,
        "setup_s": round3(setup_s),
        "elapsed_s": round3(elapsed.as_secs_f64()),
        "tx_per_s": (count as f64 / elapsed.as_secs_f64()).round() as u64,
        "blocks": last_block.saturating_sub(first_block),
        "send_ms_p50": percentile(0.50),
        "send_ms_p99": percentile(0.99),
        "send_ms_max": percentile(1.0),
    });
    if let Some(c) = client_cpu {
        figures["client_cpu_s"] = json!(c);
    }
    if let Some(c) = node_cpu {
        figures["node_cpu_s"] = json!(c);
    }
    Ok(figures)
}
