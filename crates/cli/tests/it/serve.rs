//! `careledger ipfs serve` and `careledger demo --web` as a browser app and its
//! tests use them: kubo's RPC over the store the CLI uses (CIDs equal to the
//! vault's), errors as kubo writes them, CORS and origin checks, the app's files
//! and configuration, and the demo's ready line.

use crate::common;

use careledger_vault::ipfs::{self, BlockStore, Cid, MemBlockStore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A `careledger` server as a child process: its first stdout line parsed,
/// the rest kept; killed if dropped while running.
struct Server {
    child: Child,
    ready: Value,
    rest: Receiver<String>,
    log: std::path::PathBuf,
}

impl Server {
    fn start(dir: &Path, args: &[&str], within: Duration) -> Self {
        let log = dir.join(format!("server-{}.log", args.len()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_careledger"))
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CARELEDGER_STORE", dir.join("ipfs"))
            .env("CARELEDGER_DEPLOYMENT", dir.join("deployment.json"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("careledger starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rest) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rest.recv_timeout(within).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "careledger {args:?} printed no line: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        let ready = serde_json::from_str(&first)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {first}"));
        Self {
            child,
            ready,
            rest,
            log,
        }
    }

    /// `http://host:port` of an `ipfs serve --json`.
    fn url(&self) -> String {
        self.ready["listening"].as_str().unwrap().to_string()
    }

    /// SIGTERM, and the exit status (graceful shutdown is quick).
    fn stop(&mut self) -> ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit 20 s after SIGTERM: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer; `body` is an error if the transfer broke off.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Result<Vec<u8>, String>,
}

impl Answer {
    fn bytes(&self) -> &[u8] {
        self.body.as_deref().expect("a whole body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(self.bytes()).unwrap_or_else(|e| {
            panic!(
                "status {}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(self.bytes())
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// A kubo error: the status, `Type: error`, `Code: 0`; returns the message.
    fn kubo_error(&self, status: u16) -> String {
        let j = self.json();
        assert_eq!(self.status, status, "{j}");
        assert_eq!(j["Type"], "error", "{j}");
        assert_eq!(j["Code"], 0, "{j}");
        j["Message"].as_str().unwrap().to_string()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn answer(sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = sent.unwrap_or_else(|e| panic!("the server answers: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .map_err(|e| e.to_string());
    Answer {
        status,
        headers,
        body,
    }
}

fn post(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.send_empty())
}

fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.call())
}

/// One file part, as kubo's clients send it.
fn post_file(url: &str, data: &[u8], filename: &str) -> Answer {
    let boundary = "careledger-test-boundary-7f3a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    answer(
        agent()
            .post(url)
            .header("Content-Type", &content_type)
            .send(&body[..]),
    )
}

/// A request as written, for what a client library would tidy up (Host, `..`).
fn raw(url: &str, request_line: &str, host: &str) -> (u16, String) {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{request_line} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    (status, text)
}

/// The blocks the vault makes of a file, in the order it makes them.
#[derive(Default)]
struct Recorder {
    blocks: Vec<(Cid, Vec<u8>)>,
}

impl BlockStore for Recorder {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), careledger_vault::Error> {
        if !self.blocks.iter().any(|(c, _)| c == cid) {
            self.blocks.push((*cid, block.to_vec()));
        }
        Ok(())
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, careledger_vault::Error> {
        self.blocks
            .iter()
            .find(|(c, _)| c == cid)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| careledger_vault::Error::MissingBlock(cid.to_string()))
    }
}

fn cid_of(codec: u64, block: &[u8]) -> Cid {
    let digest: [u8; 32] = Sha256::digest(block).into();
    Cid::new_v1(
        codec,
        cid::multihash::Multihash::wrap(0x12, &digest).unwrap(),
    )
}

fn vault_cid(data: &[u8]) -> Cid {
    ipfs::add(&mut &data[..], &mut MemBlockStore::default()).unwrap()
}

fn stored(dir: &Path, cid: &Cid) -> bool {
    dir.join("ipfs").join(cid.to_string()).exists()
}

const APP_ORIGIN: &str = "http://app.example:5173";

#[test]
fn ipfs_serve_speaks_kubos_rpc_over_the_store_the_cli_uses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut server = Server::start(
        d,
        &[
            "ipfs",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--allow-origin",
            APP_ORIGIN,
            "--json",
        ],
        Duration::from_secs(60),
    );
    let url = server.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let api = format!("{url}/api/v0");

    let version = post(&format!("{api}/version"), &[]);
    assert_eq!(version.status, 200);
    assert!(version.json()["Version"].is_string());
    let id = post(&format!("{api}/id"), &[]).json();
    assert!(id["ID"].as_str().unwrap().starts_with("Qm"), "{id}");
    let wrong_method = get(&format!("{api}/version"), &[]);
    assert!(wrong_method
        .kubo_error(405)
        .contains("method GET not allowed"));
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    let unknown = post(&format!("{api}/dag/put"), &[]).kubo_error(404);
    assert!(
        unknown.contains("dag/import"),
        "names what there is: {unknown}"
    );
    // dag/import without a body: a 400, not a hang.
    post(&format!("{api}/dag/import"), &[]).kubo_error(400);

    // A file as the vault makes it (dag-pb root, raw leaves), put block by block.
    let data: Vec<u8> = (0..600_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let mut made = Recorder::default();
    let root = ipfs::add(&mut &data[..], &mut made).unwrap();
    assert_eq!(root.codec(), 0x70);
    assert!(made.blocks.len() >= 4);
    for (cid, block) in &made.blocks {
        let codec = if cid.codec() == 0x55 { "raw" } else { "dag-pb" };
        let put = post_file(
            &format!("{api}/block/put?cid-codec={codec}&mhtype=sha2-256&pin=false"),
            block,
            "blob",
        );
        assert_eq!(put.status, 200, "{}", put.json());
        assert_eq!(
            put.json(),
            json!({"Key": cid.to_string(), "Size": block.len()})
        );
    }
    let block = post(&format!("{api}/block/get?arg={root}"), &[]);
    assert_eq!(block.status, 200);
    assert!(block.bytes() == made.get(&root).unwrap());
    let stat = post(&format!("{api}/block/stat?arg={root}"), &[]).json();
    assert_eq!(stat["Key"], root.to_string());
    assert_eq!(stat["Size"], made.get(&root).unwrap().len());
    let cat = post(&format!("{api}/cat?arg={root}"), &[]);
    assert_eq!(cat.status, 200);
    assert!(cat.bytes() == data, "cat gives the file back");
    let pins = post(&format!("{api}/pin/add?arg={root}"), &[]).json();
    assert_eq!(pins, json!({"Pins": [root.to_string()]}));

    // The CLI reads what the server stored: one store.
    let out = d.join("copy.bin");
    let cli = Command::new(env!("CARGO_BIN_EXE_careledger"))
        .env_clear()
        .env("CARELEDGER_STORE", d.join("ipfs"))
        .args(["ipfs", "cat", &root.to_string(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(cli.status.success(), "{cli:?}");
    assert!(std::fs::read(&out).unwrap() == data);

    // add: the vault's CIDs (CIDv1, raw leaves), streamed into the store.
    let samples: [Vec<u8>; 4] = [
        b"hello world".to_vec(),
        Vec::new(),
        vec![5u8; 262_144],
        (0..700_000u32).map(|i| (i * 7 % 253) as u8).collect(),
    ];
    for sample in &samples {
        let added = post_file(
            &format!("{api}/add?cid-version=1&raw-leaves=true&progress=false"),
            sample,
            "record.bin",
        );
        let j = added.json();
        assert_eq!(added.status, 200, "{j}");
        assert_eq!(j["Hash"], vault_cid(sample).to_string());
        assert_eq!(j["Name"], "record.bin");
        let size: u64 = j["Size"].as_str().unwrap().parse().unwrap();
        assert!(size >= sample.len() as u64, "{j}");
        let back = post(
            &format!("{api}/cat?arg={}", j["Hash"].as_str().unwrap()),
            &[],
        );
        assert!(back.bytes() == &sample[..]);
    }
    let hello = post_file(&format!("{api}/add"), b"hello world", "h.txt").json();
    assert_eq!(
        hello["Hash"],
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    );
    assert_eq!(hello["Size"], "11");
    assert!(post_file(&format!("{api}/add?cid-version=0"), b"x", "x")
        .kubo_error(400)
        .contains("cid-version=\"0\" is not supported"));

    // Malformed arguments: 400; a missing block: 500; both say which.
    let bad = post(&format!("{api}/block/get?arg=not-a-cid"), &[]).kubo_error(400);
    assert!(bad.contains("\"not-a-cid\" is not a CID"), "{bad}");
    assert!(post(&format!("{api}/cat"), &[])
        .kubo_error(400)
        .contains("argument \"cid\" is required"));
    let absent = cid_of(0x55, b"never stored");
    let missing = post(&format!("{api}/block/get?arg={absent}"), &[]).kubo_error(500);
    assert!(missing.contains("is not in the store"), "{missing}");
    post(&format!("{api}/cat?arg={absent}"), &[]).kubo_error(500);

    // A block under the wrong codec, a tampered node, an unknown codec or hash,
    // an oversized block: refused, and nothing stored.
    let (leaf, leaf_bytes) = made.blocks.iter().find(|(c, _)| c.codec() == 0x55).unwrap();
    let mut wrong_cids = vec![cid_of(0x70, leaf_bytes)];
    let wrong = post_file(
        &format!("{api}/block/put?cid-codec=dag-pb"),
        leaf_bytes,
        "blob",
    );
    assert!(wrong.kubo_error(400).contains("not a dag-pb block"));
    let mut tampered = made.get(&root).unwrap();
    tampered[0] = 0x1a;
    wrong_cids.push(cid_of(0x70, &tampered));
    let refused = post_file(
        &format!("{api}/block/put?cid-codec=dag-pb"),
        &tampered,
        "blob",
    );
    assert!(refused.kubo_error(400).contains("not a dag-pb block"));
    assert!(post_file(
        &format!("{api}/block/put?cid-codec=dag-cbor"),
        b"\xa0",
        "blob"
    )
    .kubo_error(400)
    .contains("dag-cbor"));
    assert!(
        post_file(&format!("{api}/block/put?mhtype=sha2-512"), b"abc", "blob")
            .kubo_error(400)
            .contains("sha2-256 only")
    );
    let huge = vec![1u8; (2 << 20) + 1];
    wrong_cids.push(cid_of(0x55, &huge));
    let too_big = post_file(&format!("{api}/block/put"), &huge, "blob");
    assert!(too_big.kubo_error(413).contains("over 2 MiB"));
    let not_form = answer(
        agent()
            .post(&format!("{api}/block/put"))
            .header("Content-Type", "application/octet-stream")
            .send(&b"abc"[..]),
    );
    assert!(not_form.kubo_error(400).contains("multipart/form-data"));
    wrong_cids.push(cid_of(0x55, b"abc"));
    for cid in &wrong_cids {
        assert!(!stored(d, cid), "{cid} was stored");
        post(&format!("{api}/block/stat?arg={cid}"), &[]).kubo_error(500);
    }
    assert!(stored(d, leaf), "the good blocks are there");

    // A DAG whose leaves are not here: pin/add says so, cat breaks off.
    let other: Vec<u8> = (0..600_000u32).map(|i| (i * 31 % 241) as u8).collect();
    let mut other_blocks = Recorder::default();
    let other_root = ipfs::add(&mut &other[..], &mut other_blocks).unwrap();
    let put = post_file(
        &format!("{api}/block/put?cid-codec=dag-pb"),
        &other_blocks.get(&other_root).unwrap(),
        "root",
    );
    assert_eq!(put.json()["Key"], other_root.to_string());
    let pin = post(&format!("{api}/pin/add?arg={other_root}"), &[]).kubo_error(500);
    assert!(
        pin.contains("cannot pin") && pin.contains("not in the store"),
        "{pin}"
    );
    let cat_error = post(&format!("{api}/cat?arg={other_root}"), &[]).kubo_error(500);
    assert!(cat_error.contains("not in the store"), "{cat_error}");
    // With the first leaf there, the answer has begun when a later one is found
    // missing: the transfer breaks off rather than ending as a short file.
    let (first_leaf, first_bytes) = &other_blocks.blocks[0];
    assert_eq!(first_leaf.codec(), 0x55);
    assert_eq!(
        post_file(&format!("{api}/block/put"), first_bytes, "leaf").status,
        200
    );
    let partial = agent()
        .post(&format!("{api}/cat?arg={other_root}"))
        .send_empty();
    if let Ok(mut started) = partial {
        assert_eq!(started.status(), 200);
        let body = started
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec();
        assert!(body.is_err(), "a cut-off stream, not a short file");
    }
    let root_only = post(
        &format!("{api}/pin/add?arg={other_root}&recursive=false"),
        &[],
    );
    assert_eq!(root_only.status, 200);

    // CORS for the allowed origin only; other origins may not call the API, and
    // a Host that is not loopback (DNS rebinding) is refused.
    let preflight = answer(
        agent()
            .options(&format!("{api}/add"))
            .header("Origin", APP_ORIGIN)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .call(),
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
    let allowed = post(&format!("{api}/version"), &[("Origin", APP_ORIGIN)]);
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
    let evil = post(
        &format!("{api}/version"),
        &[("Origin", "http://evil.example")],
    );
    assert!(evil.kubo_error(403).contains("--allow-origin"));
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let evil_put = post_file(&format!("{api}/block/put"), b"evil", "x");
    assert_eq!(evil_put.status, 200, "no Origin: not a browser, allowed");
    let evil_preflight = answer(
        agent()
            .options(&format!("{api}/add"))
            .header("Origin", "http://evil.example")
            .header("Access-Control-Request-Method", "POST")
            .call(),
    );
    assert_eq!(evil_preflight.header("access-control-allow-origin"), None);
    let config = get(
        &format!("{url}/careledger.json"),
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(config.header("access-control-allow-origin"), None);
    let same_origin = post(&format!("{api}/version"), &[("Origin", &url)]);
    assert_eq!(same_origin.status, 200);
    let (status, text) = raw(&url, "POST /api/v0/version", "evil.example:5001");
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("not a loopback name"), "{text}");

    assert!(server.stop().success(), "SIGTERM is a clean stop");
    assert!(server.rest.try_recv().is_err(), "one line on stdout");
}

#[test]
fn a_non_loopback_address_or_a_wildcard_origin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // `status`: 2 for what clap refuses (a listening address is an argument), 1
    // for what is found once the command runs.
    let exits = |status: i32, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_careledger"))
            .current_dir(dir.path())
            .env_clear()
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    };
    let run = |args: &[&str]| exits(1, args);
    let e = exits(2, &["ipfs", "serve", "--listen", "0.0.0.0:0"]);
    assert!(e.contains("non-loopback"), "{e}");
    let e = exits(2, &["ipfs", "serve", "--listen", "[::]:5001"]);
    assert!(e.contains("non-loopback"), "{e}");
    let e = run(&[
        "ipfs",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--allow-origin",
        "*",
    ]);
    assert!(e.contains("not an origin"), "{e}");
    let e = run(&["ipfs", "serve", "--listen", "127.0.0.1:0", "--web", "."]);
    assert!(e.contains("no index.html"), "{e}");
    let e = exits(
        2,
        &[
            "demo",
            "--web",
            ".",
            "--listen",
            "127.0.0.1:0",
            "--rpc-listen",
            "0.0.0.0:8547",
        ],
    );
    assert!(
        e.contains("--rpc-listen") && e.contains("non-loopback"),
        "{e}"
    );
    // The web demo's options without --web: a usage error (clap's status 2).
    let out = Command::new(env!("CARGO_BIN_EXE_careledger"))
        .args(["demo", "--print-keys"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--web"));
}

#[test]
fn ipfs_serve_web_serves_the_app_and_its_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let web = d.join("dist");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    let index = b"<!doctype html><title>CareLedger</title>".to_vec();
    std::fs::write(web.join("index.html"), &index).unwrap();
    let wasm = b"\0asm\x01\0\0\0".to_vec();
    std::fs::write(web.join("assets/vault_bg.wasm"), &wasm).unwrap();
    std::fs::write(web.join("assets/index-3f2a.js"), "export {}").unwrap();
    std::fs::write(d.join("secret.txt"), "SECRET").unwrap();
    let mut server = Server::start(
        d,
        &[
            "ipfs",
            "serve",
            "--listen",
            "localhost:0",
            "--web",
            "dist",
            "--rpc-url",
            "http://127.0.0.1:9545",
            "--notifier",
            "http://127.0.0.1:8600/",
            "--json",
        ],
        Duration::from_secs(60),
    );
    let url = server.url();

    for path in [
        "/",
        "/index.html",
        "/patients/0xabc/records",
        "/assets/nope.js",
    ] {
        let page = get(&format!("{url}{path}"), &[]);
        assert_eq!(page.status, 200, "{path}");
        assert!(page.bytes() == index, "{path}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
    }
    let module = get(&format!("{url}/assets/vault_bg.wasm"), &[]);
    assert_eq!(module.header("content-type"), Some("application/wasm"));
    assert!(module.bytes() == wasm);
    let script = get(&format!("{url}/assets/index-3f2a.js"), &[]);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
    ] {
        let (status, text) = raw(&url, &format!("GET {path}"), "localhost");
        assert!(!text.contains("SECRET"), "{path}: {status} {text}");
    }
    assert_eq!(
        post(&format!("{url}/index.html"), &[]).status,
        405,
        "the files are read-only"
    );

    // No deployment yet: 503 and what to do; then the document.
    let none = get(&format!("{url}/careledger.json"), &[]);
    assert_eq!(none.status, 503);
    assert!(none.json()["error"]
        .as_str()
        .unwrap()
        .contains("deploy the contracts first"));
    let deployment = json!({
        "chainId": 412346,
        "patientRegistry": "0x1111111111111111111111111111111111111111",
        "accessToken": "0x2222222222222222222222222222222222222222",
        "recordRegistry": "0x3333333333333333333333333333333333333333",
        "deployBlock": 7,
    });
    std::fs::write(d.join("deployment.json"), deployment.to_string()).unwrap();
    let config = get(&format!("{url}/careledger.json"), &[]);
    assert_eq!(config.status, 200);
    assert_eq!(
        config.json(),
        json!({
            "chainId": 412346,
            "chainName": "CareLedger devnode",
            "rpcUrl": "http://127.0.0.1:9545",
            "patientRegistry": "0x1111111111111111111111111111111111111111",
            "accessToken": "0x2222222222222222222222222222222222222222",
            "recordRegistry": "0x3333333333333333333333333333333333333333",
            "deployBlock": 7,
            "ipfsApi": "",
            "notifier": "http://127.0.0.1:8600",
        })
    );
    let mut other_chain = deployment.clone();
    other_chain["chainId"] = 42161.into();
    std::fs::write(d.join("deployment.json"), other_chain.to_string()).unwrap();
    let config = get(&format!("{url}/careledger.json"), &[]).json();
    assert_eq!(config["chainName"], "Chain 42161");
    assert_eq!(server.stop().code(), Some(0));
}

/// `demo --web` serving `dist/` of the current directory, on ports of the system's choosing.
const WEB_DEMO: [&str; 7] = [
    "demo",
    "--web",
    "dist",
    "--listen",
    "127.0.0.1:0",
    "--rpc-listen",
    "127.0.0.1:0",
];

#[test]
fn demo_web_deploys_and_prints_where_everything_is() {
    let contracts = common::contracts();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let web = d.join("dist");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html>").unwrap();
    let args = [
        &WEB_DEMO[..],
        &["--print-keys", "--json", "--contracts"],
        &[contracts.to_str().unwrap()],
    ]
    .concat();
    let mut demo = Server::start(d, &args, Duration::from_secs(300));
    let ready = demo.ready.clone();
    let app = ready["app"].as_str().unwrap();
    let rpc = ready["rpcUrl"].as_str().unwrap();
    assert!(
        app.starts_with("http://127.0.0.1:") && app.ends_with('/'),
        "{ready}"
    );
    assert!(
        !app.ends_with(":8080/") && !rpc.ends_with(":8547"),
        "real ports: {ready}"
    );
    assert_eq!(ready["chainId"], 412346);

    let config = get(&format!("{app}careledger.json"), &[]).json();
    assert_eq!(config["rpcUrl"], rpc);
    assert_eq!(config["chainId"], ready["chainId"]);
    assert_eq!(config["ipfsApi"], "");
    assert_eq!(config["notifier"], Value::Null);
    for key in [
        "patientRegistry",
        "accessToken",
        "recordRegistry",
        "deployBlock",
    ] {
        assert_eq!(config[key], ready["deployment"][key], "{key}");
    }
    assert_eq!(get(app, &[]).status, 200);

    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
    let chain_id = answer(
        agent()
            .post(rpc)
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes()),
    )
    .json();
    assert_eq!(chain_id["result"], "0x64aba", "{chain_id}");

    let accounts = ready["accounts"].as_array().unwrap();
    let roles: Vec<&str> = accounts
        .iter()
        .map(|a| a["role"].as_str().unwrap())
        .collect();
    assert_eq!(&roles[..3], ["owner", "verifier", "free"]);
    assert!(roles[2..].iter().all(|r| *r == "free"));
    for (i, a) in accounts.iter().enumerate() {
        assert_eq!(a["index"], i);
        assert_eq!(a["privateKey"].as_str().unwrap().len(), 66, "{a}");
    }

    // The printed keys and deployment work: account 2 registers as a doctor and
    // account 1, the verifier, verifies it.
    std::fs::write(d.join("deployment.json"), ready["deployment"].to_string()).unwrap();
    let as_account = |i: usize, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_careledger"))
            .current_dir(d)
            .env_clear()
            .env("CARELEDGER_RPC_URL", rpc)
            .env("CARELEDGER_DEPLOYMENT", d.join("deployment.json"))
            .env("CARELEDGER_STORE", d.join("cli-store"))
            .env(
                "CARELEDGER_PRIVATE_KEY",
                accounts[i]["privateKey"].as_str().unwrap(),
            )
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    as_account(2, &["doctor", "register", "--licence", "GMC-9"]);
    let doctor = accounts[2]["address"].as_str().unwrap();
    as_account(1, &["doctor", "verify", doctor]);

    let pid = demo.child.id();
    assert!(demo.stop().success(), "SIGTERM is a clean stop");
    assert!(
        demo.rest.try_recv().is_err(),
        "the ready line is the only one"
    );
    assert!(
        demo_dirs(&std::env::temp_dir(), pid).is_empty(),
        "the demo's files are removed"
    );
}

/// The temporary directories a demo with process id `pid` made under `tmp`: its
/// name carries the pid and a random tag.
fn demo_dirs(tmp: &std::path::Path, pid: u32) -> Vec<std::path::PathBuf> {
    let prefix = format!("careledger-demo-{pid}-");
    std::fs::read_dir(tmp)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Ctrl-C or SIGTERM while a demo is still deploying: a clean error, the devnode
/// stopped, and no temporary directory left behind.
#[test]
fn a_signal_mid_demo_leaves_no_files_behind() {
    let contracts = common::contracts();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    let web = d.join("dist");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html>").unwrap();
    for (signal, args) in [("-INT", &["demo"][..]), ("-TERM", &WEB_DEMO[..])] {
        let log = d.join("demo.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_careledger"))
            .current_dir(d)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TMPDIR", &tmp)
            .args(args)
            .args(["--contracts", contracts.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while demo_dirs(&tmp, child.id()).is_empty() {
            assert!(Instant::now() < deadline, "{args:?} made no directory");
            assert!(child.try_wait().unwrap().is_none(), "{args:?} ended early");
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?}: no exit 30 s after {signal}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = std::fs::read_to_string(&log).unwrap();
        // Exit status 1 with the CLI's error, not death by the signal (no code).
        assert_eq!(status.code(), Some(1), "{args:?} after {signal}: {stderr}");
        assert!(stderr.contains("stopped by a signal"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let left = demo_dirs(&tmp, child.id());
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

/// `dag/import` and `dag/export` as the vault's kubo client (the CLI's
/// `--ipfs-api`) calls them: a record's DAG pushed as a CAR and fetched back,
/// every block checked; a CAR with a forged block refused with kubo's error.
#[test]
fn ipfs_serve_takes_and_gives_whole_dags_to_the_clis_kubo_client() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut server = Server::start(
        d,
        &["ipfs", "serve", "--listen", "127.0.0.1:0", "--json"],
        Duration::from_secs(60),
    );
    let api = format!("{}/api/v0", server.url());
    let client = ipfs::KuboClient::new(&server.url()).unwrap();

    let data: Vec<u8> = (0..700_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let mut mem = MemBlockStore::default();
    let root = ipfs::add(&mut &data[..], &mut mem).unwrap();
    client.push(&root, &mem).unwrap();
    assert!(stored(d, &root), "the root is in the server's store");
    let mut back = MemBlockStore::default();
    client.export(&root, &mut back).unwrap();
    let mut out = Vec::new();
    ipfs::cat(&root, &back, &mut out).unwrap();
    assert_eq!(out, data, "the DAG fetched back holds the same bytes");
    assert_eq!(
        post(&format!("{api}/cat?arg={root}"), &[]).bytes(),
        &data[..]
    );

    // A forged last block: a 400 as kubo writes it, and the DAG is not whole.
    let other: Vec<u8> = (0..600_000u32).map(|i| (i * 7 % 241) as u8).collect();
    let mut mem = MemBlockStore::default();
    let other_root = ipfs::add(&mut &other[..], &mut mem).unwrap();
    let mut car = Vec::new();
    ipfs::export_car(&other_root, &mem, &mut car).unwrap();
    *car.last_mut().unwrap() ^= 1;
    let e = post_file(&format!("{api}/dag/import"), &car, "forged.car").kubo_error(400);
    assert!(e.contains("does not match its CID"), "{e}");
    let e = post(&format!("{api}/pin/add?arg={other_root}"), &[]).kubo_error(500);
    assert!(e.contains("cannot pin"), "{e}");
    // Not a CAR, a truncated one, an absent DAG: errors, never a hang.
    let e = post_file(&format!("{api}/dag/import"), b"not a car", "x.car").kubo_error(400);
    assert!(!e.is_empty());
    let e = post_file(
        &format!("{api}/dag/import"),
        &car[..car.len() / 2],
        "half.car",
    )
    .kubo_error(400);
    assert!(e.contains("truncated"), "{e}");
    let absent = vault_cid(b"never stored");
    let e = post(&format!("{api}/dag/export?arg={absent}"), &[]).kubo_error(500);
    assert!(!e.is_empty());
    // The first DAG is untouched by the failures.
    let mut again = MemBlockStore::default();
    client.export(&root, &mut again).unwrap();
    assert!(server.stop().success());
}

/// Every answer that serves the app carries a Content-Security-Policy that allows
/// its own files, its WebAssembly vault and the RPC and notifier it is configured
/// with, and forbids framing; plus nosniff and no referrer.
#[test]
fn ipfs_serve_web_sends_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let web = d.join("dist");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>CareLedger</title>",
    )
    .unwrap();
    std::fs::write(web.join("assets/index-1.js"), "export {}").unwrap();
    std::fs::write(web.join("assets/index-1.css"), "body{}").unwrap();
    let deployment = json!({
        "chainId": 412346,
        "patientRegistry": "0x1111111111111111111111111111111111111111",
        "accessToken": "0x2222222222222222222222222222222222222222",
        "recordRegistry": "0x3333333333333333333333333333333333333333",
        "deployBlock": 7,
    });
    std::fs::write(d.join("deployment.json"), deployment.to_string()).unwrap();
    let mut server = Server::start(
        d,
        &[
            "ipfs",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--web",
            "dist",
            "--rpc-url",
            "http://127.0.0.1:9545/rpc",
            "--notifier",
            "http://localhost:8600/",
            "--json",
        ],
        Duration::from_secs(60),
    );
    let url = server.url();
    let check = |what: &str, a: &Answer| {
        let csp = a
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "connect-src 'self' http://127.0.0.1:9545 http://localhost:8600",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.split(';').any(|d| d.trim() == directive),
                "{what}: {directive:?} missing from {csp}"
            );
        }
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
        assert_eq!(a.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(
            a.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(a.header("referrer-policy"), Some("no-referrer"), "{what}");
    };
    for path in [
        "/",
        "/records/7",
        "/assets/index-1.js",
        "/assets/index-1.css",
        "/careledger.json",
    ] {
        let a = get(&format!("{url}{path}"), &[]);
        assert_eq!(a.status, 200, "{path}");
        check(path, &a);
    }
    let head = agent().head(&format!("{url}/")).call().unwrap();
    assert!(head
        .headers()
        .get("content-security-policy")
        .is_some_and(|v| v.to_str().unwrap().contains("frame-ancestors 'none'")));
    // The API and its refusals too.
    check("version", &post(&format!("{url}/api/v0/version"), &[]));
    check(
        "a foreign origin",
        &post(
            &format!("{url}/api/v0/version"),
            &[("Origin", "http://evil.example")],
        ),
    );
    assert_eq!(server.stop().code(), Some(0));
}

/// `cat` has the same bound as `add`: a file whose root says it is bigger (here
/// 300 MiB, put block by block) gets a kubo 413 error at once, not a stream.
#[test]
fn ipfs_serve_cat_refuses_a_file_over_its_bound() {
    fn varint(mut n: u64, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    fn bytes_field(number: u64, value: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(value.len() as u64, out);
        out.extend_from_slice(value);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let size: u64 = 300 << 20;
    // A UnixFS file node: one (absent) raw leaf of 300 MiB.
    let leaf = cid_of(0x55, b"a leaf that is not in the store");
    let mut link = Vec::new();
    bytes_field(1, &leaf.to_bytes(), &mut link);
    varint(3 << 3, &mut link);
    varint(size, &mut link);
    let mut unixfs = Vec::new();
    varint(1 << 3, &mut unixfs);
    varint(2, &mut unixfs); // Type: File
    varint(3 << 3, &mut unixfs);
    varint(size, &mut unixfs); // filesize
    varint(4 << 3, &mut unixfs);
    varint(size, &mut unixfs); // blocksizes
    let mut node = Vec::new();
    bytes_field(2, &link, &mut node);
    bytes_field(1, &unixfs, &mut node);
    let root = cid_of(0x70, &node);
    let mut store = ipfs::FsBlockStore::open(d.join("ipfs")).unwrap();
    store.put(&root, &node).unwrap();
    // A small file beside it still streams.
    let small = b"a small file".to_vec();
    let small_cid = ipfs::add(&mut &small[..], &mut store).unwrap();

    let mut server = Server::start(
        d,
        &["ipfs", "serve", "--listen", "127.0.0.1:0", "--json"],
        Duration::from_secs(60),
    );
    let api = format!("{}/api/v0", server.url());
    let started = Instant::now();
    let big = post(&format!("{api}/cat?arg={root}"), &[]);
    assert!(started.elapsed() < Duration::from_secs(10));
    let message = big.kubo_error(413);
    assert!(message.contains("over 256 MiB"), "{message}");
    let ok = post(&format!("{api}/cat?arg={small_cid}"), &[]);
    assert_eq!(ok.status, 200);
    assert!(ok.bytes() == small);
    assert_eq!(server.stop().code(), Some(0));
}
