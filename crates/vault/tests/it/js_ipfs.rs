//! Interop with a real IPFS peer: js-ipfs 0.66.1 (npm), run offline on loopback
//! by `scripts/ipfs/start`, over kubo's HTTP RPC API. `scripts/setup` installs it;
//! without it this test fails (it does not skip: a skipped interop test proves nothing).
//!
//! For each size, from the empty file to a two-level tree:
//! (a) the daemon's own `add --cid-version=1 --raw-leaves` gives our CID;
//! (b) our CAR, sent to `dag/import`, comes back with our root;
//! (c) `KuboClient::cat` returns the bytes, every block checked;
//! (d) the daemon's `dag/export` CAR imports into our FsBlockStore and cats back.

use careledger_vault::ipfs::{
    add, cat, export_car, import_car, BlockStore, Cid, FsBlockStore, KuboClient, MemBlockStore,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHUNK: usize = 256 * 1024;
const READY_WITHIN: Duration = Duration::from_secs(120);

/// A js-ipfs daemon with its own repo and API port, killed and removed on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
    api: String,
}

impl Daemon {
    fn start(name: &str) -> Daemon {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let script = root.join("scripts/ipfs/start");
        let jsipfs = root.join("scripts/ipfs/node_modules/.bin/jsipfs");
        assert!(
            jsipfs.exists(),
            "js-ipfs is not installed ({} is missing): run scripts/setup, which installs npm ipfs@0.66.1 into scripts/ipfs",
            jsipfs.display()
        );
        let dir =
            std::env::temp_dir().join(format!("careledger-jsipfs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
        let child = Command::new(&script)
            .arg(dir.join("repo"))
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} ({e}): run scripts/setup", script.display()));
        let mut daemon = Daemon {
            child,
            dir,
            api: format!("http://127.0.0.1:{port}"),
        };
        daemon.wait_ready();
        daemon
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        let agent = agent(Duration::from_secs(2));
        while started.elapsed() < READY_WITHIN {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the js-ipfs daemon exited ({status}) before it was ready: run scripts/setup; its log:\n{}",
                    self.log()
                );
            }
            let url = format!("{}/api/v0/version", self.api);
            if matches!(agent.post(&url).send_empty(), Ok(r) if r.status() == 200) {
                eprintln!("js-ipfs ready at {} in {:?}", self.api, started.elapsed());
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "the js-ipfs daemon did not answer within {READY_WITHIN:?}: run scripts/setup; its log:\n{}",
            self.log()
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    /// `ipfs add --cid-version=1 --raw-leaves` on the daemon itself.
    fn add(&self, data: &[u8]) -> Cid {
        let boundary = "careledger-test-boundary-7d1f0c";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let url = format!(
            "{}/api/v0/add?cid-version=1&raw-leaves=true&pin=false",
            self.api
        );
        let mut resp = agent(Duration::from_secs(300))
            .post(&url)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..])
            .unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        assert_eq!(resp.status(), 200, "add: {text}");
        let last = text.lines().rev().find(|l| l.contains("\"Hash\"")).unwrap();
        let v: serde_json::Value = serde_json::from_str(last).unwrap();
        v["Hash"].as_str().unwrap().parse().unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Bytes that do not repeat chunk to chunk, so every leaf is its own block.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn scratch(name: &str) -> (FsBlockStore, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "careledger-jsipfs-store-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    (FsBlockStore::open(&dir).unwrap(), dir)
}

#[test]
fn unixfs_dags_and_cars_match_js_ipfs_both_ways() {
    let started = Instant::now();
    let daemon = Daemon::start("dags");
    let node = KuboClient::new(&daemon.api)
        .unwrap()
        .with_timeout(Duration::from_secs(300));
    let sizes = [
        ("0 B", 0),
        ("11 B", 11),
        ("256 KiB", CHUNK),
        ("256 KiB + 1", CHUNK + 1),
        ("3 MiB", 3 << 20),
        ("174 x 256 KiB + 1", 174 * CHUNK + 1),
    ];
    for (i, (label, len)) in sizes.into_iter().enumerate() {
        let t = Instant::now();
        let input = if len == 11 {
            b"hello world".to_vec()
        } else {
            data(len, 0x5eed + i as u64)
        };
        let mut local = MemBlockStore::default();
        let ours = add(&mut &input[..], &mut local).unwrap();
        if len == 11 {
            // The known vector (kubo, `ipfs add --cid-version=1` of "hello world").
            assert_eq!(
                ours.to_string(),
                "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
            );
        }

        // (b) Our DAG, streamed as a CAR: the node reports our root and pins it.
        assert_eq!(
            node.add_file(&mut &input[..]).unwrap(),
            ours,
            "{label}: dag/import root"
        );
        // (c) Read back through the node, block by block, each checked.
        let mut out = Vec::new();
        assert_eq!(
            node.cat(&ours, &mut out).unwrap(),
            len as u64,
            "{label}: cat size"
        );
        assert!(out == input, "{label}: cat returned other bytes");
        // (a) The node's own importer gives the same CID (compared decoded: it prints base58btc).
        assert_eq!(daemon.add(&input), ours, "{label}: daemon add CID");
        // (d) The node's CAR of it, into our on-disk store, and back out.
        let (mut store, dir) = scratch(&i.to_string());
        node.export(&ours, &mut store).unwrap();
        let mut back = Vec::new();
        cat(&ours, &store, &mut back).unwrap();
        assert!(
            back == input,
            "{label}: dag/export CAR cats back to other bytes"
        );
        std::fs::remove_dir_all(dir).unwrap();
        eprintln!("{label}: {ours} in {:?}", t.elapsed());
    }
    eprintln!("js-ipfs interop: all sizes in {:?}", started.elapsed());
}

#[test]
fn blocks_put_one_at_a_time_and_raw_cars_round_trip() {
    let daemon = Daemon::start("blocks");
    let mut node = KuboClient::new(&daemon.api)
        .unwrap()
        .with_timeout(Duration::from_secs(120));
    // A DAG the node has never seen, sent block by block through block/put
    // (the CAR reader puts each section into the node as a BlockStore).
    let input = data(3 * CHUNK + 77, 99);
    let mut local = MemBlockStore::default();
    let root = add(&mut &input[..], &mut local).unwrap();
    let mut car = Vec::new();
    export_car(&root, &local, &mut car).unwrap();
    assert_eq!(import_car(&car[..], &mut node).unwrap(), vec![root]);
    let mut out = Vec::new();
    node.cat(&root, &mut out).unwrap();
    assert!(out == input);
    assert_eq!(node.get(&root).unwrap(), local.get(&root).unwrap());

    // The same CAR through dag/import as bytes; then a CAR whose leaves are
    // missing: the node cannot pin it (offline js-ipfs waits for the leaves
    // until the deadline the client passes it), and the error is one line.
    assert_eq!(node.import(&car[..]).unwrap(), root);
    let other = data(CHUNK + 5, 7);
    let mut partial = MemBlockStore::default();
    let missing_root = add(&mut &other[..], &mut partial).unwrap();
    let mut head_only = Vec::new();
    export_car(&missing_root, &partial, &mut head_only).unwrap();
    let header = section_len(&head_only);
    let root_only = &head_only[..header + section_len(&head_only[header..])];
    let impatient = KuboClient::new(&daemon.api)
        .unwrap()
        .with_timeout(Duration::from_secs(5));
    let err = impatient.import(root_only).unwrap_err().to_string();
    eprintln!("import of a CAR without its leaves: {err}");
    assert!(err.starts_with("IPFS node: dag/import"), "{err}");
    assert!(!err.contains('\n'), "{err}");

    // A block the node does not have is reported missing, not hung on.
    let absent = add(
        &mut &b"never sent to the node"[..],
        &mut MemBlockStore::default(),
    )
    .unwrap();
    let err = impatient.get(&absent).unwrap_err();
    assert!(
        matches!(err, careledger_vault::Error::MissingBlock(_)),
        "{err}"
    );
}

/// Length of one varint-framed section, frame included.
fn section_len(s: &[u8]) -> usize {
    let (mut n, mut i) = (0usize, 0);
    loop {
        n |= usize::from(s[i] & 0x7f) << (7 * i);
        i += 1;
        if s[i - 1] & 0x80 == 0 {
            return i + n;
        }
    }
}
