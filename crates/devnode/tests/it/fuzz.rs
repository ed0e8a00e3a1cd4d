//! A seeded fuzz of the JSON-RPC server of a real node: thousands of random and
//! malformed requests (broken JSON, wrong envelopes and types, huge numbers and
//! strings, deep nesting, batches, unknown methods, and every method the devnode
//! answers with random parameters). Every request gets an HTTP answer whose body
//! is JSON (or empty, for notifications), and afterwards the node still works and
//! its memory is bounded. A failure prints the seed and the request.

use careledger_devnode::rpc::RpcConfig;
use careledger_devnode::{Devnode, NodeConfig};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;

use crate::common::raw_http;
use std::time::{Duration, Instant};

/// How many requests one run sends (batches count as one).
const REQUESTS: usize = 1_500;
/// The whole fuzz loop must finish within this, on a loaded 2-core machine in a
/// debug build (it takes a few seconds on an idle one).
const BUDGET: Duration = Duration::from_secs(60);
/// How much the process may grow over the run.
const RSS_GROWTH_BOUND_KIB: u64 = 512 * 1024;

/// xorshift64*: small, seedable, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn hex_upto(&mut self, most: u64) -> String {
        let digits = self.below(most) as usize;
        self.hex(digits)
    }

    fn hex(&mut self, digits: usize) -> String {
        (0..digits)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap())
            .collect()
    }
}

/// Every method the devnode serves, and a few it does not.
const METHODS: &[&str] = &[
    "eth_chainId",
    "eth_syncing",
    "eth_blockNumber",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_blobBaseFee",
    "eth_accounts",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_sendRawTransaction",
    "eth_sendTransaction",
    "eth_call",
    "eth_estimateGas",
    "eth_getTransactionReceipt",
    "eth_getTransactionByHash",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockTransactionCountByHash",
    "eth_getLogs",
    "eth_feeHistory",
    "eth_subscribe",
    "eth_unsubscribe",
    "web3_clientVersion",
    "web3_sha3",
    "net_version",
    "net_listening",
    "net_peerCount",
    "evm_increaseTime",
    "evm_mine",
    "anvil_mine",
    "hardhat_mine",
    "debug_traceTransaction",
    "debug_storageRangeAt",
    // Unknown ones.
    "eth_foo",
    "",
    "rpc.discover",
    "ETH_CHAINID",
    "eth_chainId ",
];

/// A number in one of the shapes clients send, biased towards edges.
fn quantity(rng: &mut Rng) -> Value {
    let n = match rng.below(8) {
        0 => 0,
        1 => 1,
        2 => rng.below(16),
        3 => rng.below(1 << 16),
        4 => u64::MAX,
        5 => u64::from(u32::MAX),
        6 => 1 << 53,
        _ => rng.next(),
    };
    match rng.below(6) {
        0 => json!(n),
        1 => json!(n.to_string()),
        2 => json!(format!("0x{}", "f".repeat(rng.below(70) as usize))),
        3 => json!(-(rng.below(1000) as i64) - 1),
        4 => json!(1e300 * (rng.below(3) as f64)),
        _ => json!(format!("0x{n:x}")),
    }
}

fn block_tag(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => json!(rng.pick(&["latest", "pending", "earliest", "safe", "finalized", "soon"])),
        1 => json!({"blockHash": format!("0x{}", rng.hex(64))}),
        2 => json!({"blockNumber": quantity(rng)}),
        _ => quantity(rng),
    }
}

fn data(rng: &mut Rng) -> Value {
    let bytes = match rng.below(10) {
        0 => 0,
        1 => 1 + rng.below(3),
        2 => 20,
        3 => 32,
        4 => 4 + 32 * rng.below(4),
        5 => rng.below(2_000),
        6 => 300_000,
        _ => rng.below(100),
    } as usize;
    let odd = if rng.chance(5) { "0" } else { "" };
    json!(format!("0x{}{odd}", rng.hex(bytes * 2)))
}

fn address(rng: &mut Rng) -> Value {
    match rng.below(8) {
        // nitro-devnode's dev account, which the node signs for.
        0 => json!("0x3f1Eae7D46d88F08fc2F8ed27FCb2AB183EB2d0E"),
        // ArbWasm and the CREATE2 factory.
        1 => json!("0x0000000000000000000000000000000000000071"),
        2 => json!("0x4e59b44847b379578588920cA78FbF26c0B4956C"),
        3 => json!(format!("0x{}", rng.hex_upto(45))),
        4 => junk(rng, 1),
        _ => json!(format!("0x{}", rng.hex(40))),
    }
}

fn hash(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => json!(format!("0x{}", rng.hex_upto(70))),
        1 => junk(rng, 1),
        _ => json!(format!("0x{}", rng.hex(64))),
    }
}

/// Makes one random value.
type Gen = fn(&mut Rng) -> Value;

/// A transaction request object with random fields.
fn tx_request(rng: &mut Rng) -> Value {
    let mut o = Map::new();
    let fields: [(&str, Gen); 11] = [
        ("from", address),
        ("to", address),
        ("gas", quantity),
        ("gasPrice", quantity),
        ("maxFeePerGas", quantity),
        ("maxPriorityFeePerGas", quantity),
        ("value", quantity),
        ("nonce", quantity),
        ("data", data),
        ("input", data),
        ("accessList", |rng| junk(rng, 2)),
    ];
    for (name, make) in fields {
        if rng.chance(35) {
            o.insert(name.into(), make(rng));
        }
    }
    if rng.chance(10) {
        o.insert("chainId".into(), quantity(rng));
    }
    Value::Object(o)
}

/// Any JSON value, nested up to `depth`.
fn junk(rng: &mut Rng, depth: u32) -> Value {
    let leaf = depth == 0 || rng.chance(60);
    if leaf {
        return match rng.below(9) {
            0 => Value::Null,
            1 => json!(rng.chance(50)),
            2 => quantity(rng),
            3 => json!(rng.hex_upto(10)),
            4 => json!("\u{0}\u{7f}é💥\"\\"),
            5 => data(rng),
            6 => json!(rng.next() as f64 / 3.0),
            7 => json!(i64::MIN),
            _ => json!(""),
        };
    }
    if rng.chance(50) {
        Value::Array((0..rng.below(5)).map(|_| junk(rng, depth - 1)).collect())
    } else {
        let keys = [
            "from",
            "to",
            "blocks",
            "timestamp",
            "address",
            "topics",
            "fromBlock",
            "x",
        ];
        Value::Object(
            (0..rng.below(5))
                .map(|_| (rng.pick(&keys).to_string(), junk(rng, depth - 1)))
                .collect(),
        )
    }
}

/// Parameters shaped for `method` most of the time, random otherwise.
fn params(rng: &mut Rng, method: &str) -> Value {
    if rng.chance(15) {
        return match rng.below(4) {
            0 => junk(rng, 3),
            1 => Value::Null,
            2 => json!({}),
            _ => Value::Array((0..rng.below(6)).map(|_| junk(rng, 2)).collect()),
        };
    }
    let p: Vec<Value> = match method {
        "eth_getBalance" | "eth_getTransactionCount" | "eth_getCode" => {
            vec![address(rng), block_tag(rng)]
        }
        "eth_getStorageAt" => vec![address(rng), quantity(rng), block_tag(rng)],
        "eth_sendRawTransaction" => vec![data(rng)],
        "eth_sendTransaction" => vec![tx_request(rng)],
        "eth_call" => vec![tx_request(rng), block_tag(rng), junk(rng, 2), junk(rng, 1)],
        "eth_estimateGas" => vec![tx_request(rng), block_tag(rng), junk(rng, 2)],
        "eth_getTransactionReceipt"
        | "eth_getTransactionByHash"
        | "eth_getBlockTransactionCountByHash"
        | "debug_traceTransaction" => vec![hash(rng), junk(rng, 1)],
        "eth_getBlockByNumber" => vec![block_tag(rng), junk(rng, 0)],
        "eth_getBlockByHash" => vec![hash(rng), junk(rng, 0)],
        "eth_getBlockTransactionCountByNumber" => vec![block_tag(rng)],
        "eth_getLogs" => vec![json!({
            "fromBlock": block_tag(rng),
            "toBlock": block_tag(rng),
            "address": address(rng),
            "topics": [hash(rng), junk(rng, 1)],
        })],
        "eth_feeHistory" => vec![
            quantity(rng),
            block_tag(rng),
            json!([rng.below(150) as f64, junk(rng, 0)]),
        ],
        "eth_subscribe" => vec![
            json!(rng.pick(&["newHeads", "logs", "newPendingTransactions", "x"])),
            junk(rng, 2),
        ],
        "web3_sha3" => vec![data(rng)],
        "evm_increaseTime" => vec![quantity(rng)],
        "evm_mine" => match rng.below(3) {
            0 => vec![quantity(rng)],
            1 => vec![json!({"timestamp": quantity(rng), "blocks": quantity(rng)})],
            _ => vec![],
        },
        "anvil_mine" | "hardhat_mine" => vec![quantity(rng), quantity(rng)],
        "debug_storageRangeAt" => vec![
            hash(rng),
            quantity(rng),
            address(rng),
            data(rng),
            quantity(rng),
        ],
        _ => (0..rng.below(3)).map(|_| junk(rng, 2)).collect(),
    };
    // Sometimes too few or too many.
    let keep = if rng.chance(10) {
        rng.below(p.len() as u64 + 1) as usize
    } else {
        p.len()
    };
    let mut p: Vec<Value> = p.into_iter().take(keep).collect();
    if rng.chance(5) {
        p.push(junk(rng, 1));
    }
    Value::Array(p)
}

fn call(rng: &mut Rng) -> Value {
    let method = *rng.pick(METHODS);
    let mut o = Map::new();
    o.insert(
        "jsonrpc".into(),
        if rng.chance(97) {
            json!("2.0")
        } else {
            junk(rng, 0)
        },
    );
    // No id: a notification, which gets no answer.
    if rng.chance(95) {
        let id = match rng.below(5) {
            0 => json!(format!("id-{}", rng.next())),
            1 => Value::Null,
            2 if rng.chance(20) => junk(rng, 1),
            _ => json!(rng.below(1 << 20)),
        };
        o.insert("id".into(), id);
    }
    if rng.chance(98) {
        let name = if rng.chance(2) {
            junk(rng, 0)
        } else {
            json!(method)
        };
        o.insert("method".into(), name);
    }
    if rng.chance(95) {
        o.insert("params".into(), params(rng, method));
    }
    Value::Object(o)
}

/// One request body: mostly JSON-RPC calls, some batches, some broken bytes.
fn body(rng: &mut Rng) -> Vec<u8> {
    match rng.below(100) {
        0..=69 => call(rng).to_string().into_bytes(),
        70..=79 => {
            let n = match rng.below(10) {
                0 => 0,
                1 => 1_001, // over the batch limit
                _ => 1 + rng.below(20),
            };
            let batch: Vec<Value> = (0..n)
                .map(|_| {
                    if n > 100 {
                        json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})
                    } else {
                        call(rng)
                    }
                })
                .collect();
            Value::Array(batch).to_string().into_bytes()
        }
        80..=84 => {
            // Truncated or corrupted JSON.
            let mut text = call(rng).to_string().into_bytes();
            let cut = rng.below(text.len() as u64) as usize;
            match rng.below(3) {
                0 => text.truncate(cut),
                1 => text[cut] = rng.next() as u8,
                _ => text.insert(cut, b'\xff'),
            }
            text
        }
        85..=87 => {
            // Deep nesting, in params or alone.
            let depth = rng.pick(&[64usize, 129, 1_000, 100_000]);
            let nest = format!("{}{}", "[".repeat(*depth), "]".repeat(*depth));
            if rng.chance(50) {
                nest.into_bytes()
            } else {
                format!(r#"{{"jsonrpc":"2.0","id":1,"method":"eth_call","params":{nest}}}"#)
                    .into_bytes()
            }
        }
        88..=89 => {
            // Numbers no integer type holds.
            let digits = "9".repeat(1 + rng.below(5_000) as usize);
            format!(r#"{{"jsonrpc":"2.0","id":{digits},"method":"evm_mine","params":[{digits}]}}"#)
                .into_bytes()
        }
        90..=91 => {
            // Over the 5 MiB body limit.
            let size = 5 * 1024 * 1024 + 1 + rng.below(1024) as usize;
            let mut text =
                br#"{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"data":"0x"#.to_vec();
            text.resize(size, b'a');
            text.extend_from_slice(br#""}]}"#);
            text
        }
        92..=93 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        94 => Vec::new(),
        95 => b"null".to_vec(),
        96 => b"[]".to_vec(),
        97 => {
            br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[],"method":"x"}"#.to_vec()
        }
        _ => junk(rng, 4).to_string().into_bytes(),
    }
}

/// One HTTP/1.1 POST on a fresh connection: (status, body). The server may refuse
/// a huge body before reading it; the answer is read while writing.
fn post(addr: SocketAddr, body: &[u8], content_type: &str, extra: &str) -> (u16, Vec<u8>) {
    let host = if extra.starts_with("Host:") {
        String::new()
    } else {
        format!("Host: {addr}\r\n")
    };
    let mut payload = format!(
        "POST / HTTP/1.1\r\n{host}{extra}Content-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    payload.extend_from_slice(body);
    let raw = raw_http::exchange(addr, payload, Duration::from_secs(30));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn rpc(addr: SocketAddr, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string();
    let (status, answer) = post(addr, body.as_bytes(), "application/json", "");
    assert_eq!(status, 200, "{method}");
    serde_json::from_slice(&answer).unwrap()
}

#[test]
fn thousands_of_random_and_malformed_requests_leave_the_node_answering_within_bounded_memory() {
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_f00d_u64);
    // A node as the binary starts one, but with a short call time limit: random
    // init code may loop, and the fuzz has a time budget.
    let config = NodeConfig {
        rpc_evm_timeout: Duration::from_millis(500),
        ..NodeConfig::default()
    };
    let rpc_config = RpcConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..RpcConfig::default()
    };
    let dev = Devnode::spawn(config, rpc_config).expect("devnode starts");
    let addr: SocketAddr = dev.url().trim_start_matches("http://").parse().unwrap();
    // Warm up (first execution thread, caches) before measuring memory.
    rpc(
        addr,
        "eth_call",
        json!([{"to": "0x0000000000000000000000000000000000000071"}]),
    );
    let rss_before = rss_kib();

    // splitmix64 of the seed: every seed gives its own non-zero state.
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let mut rng = Rng((z ^ (z >> 31)) | 1);
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..REQUESTS {
        let body = body(&mut rng);
        let content_type = if rng.chance(3) {
            *rng.pick(&["text/plain", "application/x-www-form-urlencoded", ""])
        } else {
            "application/json"
        };
        // Now and then what a web page would send: another Origin, or a rebound Host.
        let extra = match rng.below(100) {
            0 => "Origin: https://evil.example\r\n",
            1 => "Host: evil.example:8547\r\n",
            2 => "Host: localhost\r\n",
            _ => "",
        };
        let (status, answer) = post(addr, &body, content_type, extra);
        if extra.contains("evil.example:") {
            assert_eq!(
                status, 403,
                "seed {seed} request {i}: a rebound Host is refused"
            );
        }
        *statuses.entry(status).or_default() += 1;
        let shown = || String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
        assert!(
            [200, 400, 403, 413, 415].contains(&status),
            "seed {seed} request {i}: HTTP {status} for {}",
            shown()
        );
        if !answer.is_empty() {
            // JSON-RPC objects or arrays; jsonrpsee answers a request whose id is
            // not an id with `null`, and a wrong content type with plain text.
            let ok = serde_json::from_slice::<Value>(&answer).is_ok();
            assert!(
                ok || status == 415,
                "seed {seed} request {i}: answer is not JSON-RPC: {} for {}",
                String::from_utf8_lossy(&answer[..answer.len().min(300)]),
                shown()
            );
        }
        assert!(
            started.elapsed() < BUDGET,
            "seed {seed}: {i} requests took {:?}",
            started.elapsed()
        );
    }
    let took = started.elapsed();

    // Still answering, and still a working chain.
    let number = rpc(addr, "eth_blockNumber", json!([]));
    assert!(number["result"].is_string(), "{number}");
    assert_eq!(rpc(addr, "eth_chainId", json!([]))["result"], "0x64aba");
    let before = rpc(
        addr,
        "eth_getBalance",
        json!(["0x00000000000000000000000000000000000000aa", "latest"]),
    );
    let sent = rpc(
        addr,
        "eth_sendTransaction",
        json!([{"to": "0x00000000000000000000000000000000000000aa", "value": "0x7"}]),
    );
    assert!(sent["result"].is_string(), "{sent}");
    let after = rpc(
        addr,
        "eth_getBalance",
        json!(["0x00000000000000000000000000000000000000aa", "latest"]),
    );
    let wei = |v: &Value| {
        u128::from_str_radix(v["result"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    assert_eq!(wei(&after), wei(&before) + 7);

    let rss_after = rss_kib();
    eprintln!(
        "fuzz: {REQUESTS} requests in {took:?} (seed {seed}), HTTP statuses {statuses:?}, \
         RSS {} MiB -> {} MiB, head block {}",
        rss_before / 1024,
        rss_after / 1024,
        number["result"]
    );
    assert!(
        rss_after.saturating_sub(rss_before) < RSS_GROWTH_BOUND_KIB,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
}
