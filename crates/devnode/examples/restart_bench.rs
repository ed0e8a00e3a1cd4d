//! Restart time of `stylus-devnode --data-dir` on a long chain, for `scripts/bench`'s
//! devnode section.
//!
//! ```text
//! restart_bench --node BIN --data-dir DIR [--blocks N] [--tx-every K] [--tail T]
//!               [--node-log FILE] [--timeout-s S]
//! ```
//!
//! 1. Starts `BIN --addr 127.0.0.1:PORT --data-dir DIR` on a new DIR (it must not
//!    exist, or be empty) and grows a chain of `N` blocks (default 100,000): one
//!    ETH transfer to a new address every `K` blocks (default 4; eth_sendTransaction
//!    from the dev account, mined at once), and `anvil_mine` for the `K - 1` empty
//!    blocks between them.
//! 2. `clean`: stops the node with SIGINT (it writes a snapshot of its head) and
//!    restarts it.
//! 3. `kill`: mines `T` more blocks the same way (default 999: with the default of
//!    a snapshot every 1,000 blocks, the most a restart has to replay), kills the
//!    node with SIGKILL, and restarts it.
//! 4. `full replay`: stops it with SIGINT, moves `snapshot.bin` aside, and restarts:
//!    every block replayed from `blocks.log`, which is what every restart did before
//!    snapshots existed.
//!
//! Each restart is timed from spawning the process to the first answer of
//! `eth_getBlockByNumber("latest")` (polled every 0.5 ms on a new connection; the
//! server listens only once the chain is restored), and must answer with the head
//! hash seen before the stop. Prints one JSON line.

use clap::Parser;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// nitro-devnode's dev account, which stylus-devnode prefunds and signs for.
const DEV: &str = "0x3f1Eae7D46d88F08fc2F8ed27FCb2AB183EB2d0E";

#[derive(Parser, Debug)]
#[command(name = "restart_bench")]
struct Args {
    /// The stylus-devnode binary.
    #[arg(long)]
    node: PathBuf,
    /// The data dir to create (must not exist, or be empty).
    #[arg(long)]
    data_dir: PathBuf,
    /// Blocks to mine before the restarts.
    #[arg(long, default_value_t = 100_000)]
    blocks: u64,
    /// One transfer every K blocks, the others empty.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..))]
    tx_every: u64,
    /// Blocks mined after the clean restart, before the kill.
    #[arg(long, default_value_t = 999)]
    tail: u64,
    /// Append the nodes' stdout and stderr here.
    #[arg(long)]
    node_log: Option<PathBuf>,
    /// Give up on one start (or the generation) after this long.
    #[arg(long, default_value_t = 1800)]
    timeout_s: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("restart_bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A node this process started: killed and reaped when dropped, on every path.
struct NodeProcess {
    child: Child,
    addr: SocketAddr,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NodeProcess {
    fn signal(&mut self, sig: &str) -> Result<Duration, String> {
        let t0 = Instant::now();
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .map_err(|e| format!("kill {sig}: {e}"))?;
        if !status.success() {
            return Err(format!("kill {sig} failed: {status}"));
        }
        let status = self.child.wait().map_err(|e| e.to_string())?;
        if sig == "-INT" && !status.success() {
            return Err(format!("the node exited with {status} after SIGINT"));
        }
        Ok(t0.elapsed())
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Starts the node and polls `eth_getBlockByNumber("latest")`: the process, the
/// time to its first answer, and that answer.
fn start(args: &Args) -> Result<(NodeProcess, Duration, Value), String> {
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (stdout, stderr) = match &args.node_log {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("--node-log {}: {e}", path.display()))?;
            let copy = file.try_clone().map_err(|e| e.to_string())?;
            (Stdio::from(copy), Stdio::from(file))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let t0 = Instant::now();
    let child = Command::new(&args.node)
        .arg("--addr")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(&args.data_dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", args.node.display()))?;
    let mut node = NodeProcess { child, addr };
    let timeout = Duration::from_secs(args.timeout_s);
    loop {
        if let Ok(head) = rpc(&addr, "eth_getBlockByNumber", json!(["latest", false])) {
            return Ok((node, t0.elapsed(), head));
        }
        if let Ok(Some(status)) = node.child.try_wait() {
            return Err(format!("the node exited ({status}) before answering"));
        }
        if t0.elapsed() > timeout {
            return Err(format!("the node did not answer within {timeout:?}"));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// One JSON-RPC request over a new HTTP/1.1 connection.
fn rpc(addr: &SocketAddr, method: &str, params: Value) -> Result<Value, String> {
    let mut stream =
        TcpStream::connect_timeout(addr, Duration::from_millis(200)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(600)))
        .map_err(|e| e.to_string())?;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (_, body) = text.split_once("\r\n\r\n").ok_or("no HTTP body")?;
    let json = body
        .find('{')
        .zip(body.rfind('}'))
        .map(|(a, b)| &body[a..=b])
        .ok_or("no JSON in the answer")?;
    let mut value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    if let Some(error) = value.get("error") {
        return Err(format!("{method}: {error}"));
    }
    Ok(value["result"].take())
}

fn head_of(block: &Value) -> Result<(u64, String), String> {
    let number = block["number"].as_str().ok_or("no block number")?;
    let number = u64::from_str_radix(number.trim_start_matches("0x"), 16)
        .map_err(|e| format!("block number {number}: {e}"))?;
    let hash = block["hash"].as_str().ok_or("no block hash")?.to_owned();
    Ok((number, hash))
}

/// Mines `n` blocks: a transfer to a new address every `tx_every`, empty blocks
/// between. `next` numbers the transfers.
fn grow(node: &NodeProcess, n: u64, tx_every: u64, next: &mut u64) -> Result<u64, String> {
    let mut mined = 0;
    let mut txs = 0;
    while mined < n {
        let to = format!("0x{:040x}", 0x1_0000_0000u64 + *next);
        *next += 1;
        rpc(
            &node.addr,
            "eth_sendTransaction",
            json!([{"from": DEV, "to": to, "value": "0x1", "gas": "0x5208"}]),
        )?;
        mined += 1;
        txs += 1;
        let empty = (tx_every - 1).min(n - mined);
        if empty > 0 {
            rpc(&node.addr, "anvil_mine", json!([format!("{empty:#x}")]))?;
            mined += empty;
        }
    }
    Ok(txs)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Restarts and checks the head; the node and the time.
fn restart(args: &Args, expected: &(u64, String)) -> Result<(NodeProcess, Duration), String> {
    let (node, took, head) = start(args)?;
    let head = head_of(&head)?;
    if &head != expected {
        return Err(format!(
            "after the restart the head is {head:?}, before it was {expected:?}"
        ));
    }
    Ok((node, took))
}

fn run(args: &Args) -> Result<Value, String> {
    let dir = &args.data_dir;
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(format!("{} is not empty: remove it first", dir.display()));
    }
    let log = dir.join("blocks.log");
    let snapshot = dir.join("snapshot.bin");

    let (mut node, first_start, _) = start(args)?;
    let t0 = Instant::now();
    let mut next = 0;
    let txs = grow(&node, args.blocks, args.tx_every, &mut next)?;
    let generate = t0.elapsed();
    let head = head_of(&rpc(
        &node.addr,
        "eth_getBlockByNumber",
        json!(["latest", false]),
    )?)?;
    if head.0 != args.blocks {
        return Err(format!("mined {} blocks, not {}", head.0, args.blocks));
    }
    eprintln!(
        "restart_bench: {} blocks ({txs} transfers) in {:.1} s",
        head.0,
        generate.as_secs_f64()
    );

    // A clean stop writes a snapshot of the head.
    let stop = node.signal("-INT")?;
    let (log_bytes, snapshot_bytes) = (size(&log), size(&snapshot));
    let (mut node, clean) = restart(args, &head)?;
    eprintln!(
        "restart_bench: restart after a clean stop {:.1} ms",
        ms(clean)
    );

    // A kill -9 with the longest tail periodic snapshots leave.
    let tail_txs = grow(&node, args.tail, args.tx_every, &mut next)?;
    let tail_head = head_of(&rpc(
        &node.addr,
        "eth_getBlockByNumber",
        json!(["latest", false]),
    )?)?;
    node.signal("-KILL")?;
    let (mut node, killed) = restart(args, &tail_head)?;
    eprintln!("restart_bench: restart after kill -9 {:.1} ms", ms(killed));

    // Without the snapshot: every block replayed, as before snapshots.
    node.signal("-INT")?;
    let aside = dir.join("snapshot.bin.aside");
    match std::fs::rename(&snapshot, &aside) {
        // A devnode without snapshots: every restart above replayed every block.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        other => other.map_err(|e| format!("moving the snapshot: {e}"))?,
    }
    let (node, full) = restart(args, &tail_head)?;
    eprintln!(
        "restart_bench: restart replaying every block {:.1} ms",
        ms(full)
    );
    drop(node);

    Ok(json!({
        "blocks": head.0,
        "transfers": txs,
        "tx_every": args.tx_every,
        "generate_s": (generate.as_secs_f64() * 10.0).round() / 10.0,
        "first_start_ms": ms(first_start),
        "stop_ms": ms(stop),
        "log_bytes": log_bytes,
        "snapshot_bytes": snapshot_bytes,
        "restart_ms_clean_stop": ms(clean),
        "tail_blocks": args.tail,
        "tail_transfers": tail_txs,
        "restart_ms_after_kill": ms(killed),
        "restart_ms_full_replay": ms(full),
        "full_replay_blocks": tail_head.0,
    }))
}
