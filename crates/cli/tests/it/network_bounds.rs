//! What a peer on the network, or a file in the block store, cannot make the CLI
//! do: wait for ever on a server that never answers, fetch and store without end
//! from an IPFS node that streams what was not asked for, read without bound
//! from a block file that is not one. And what a failure leaves: no orphan
//! blocks, no empty store directory, no file replaced that was not to be.

use crate::common;

use careledger_vault::ipfs::{self, BlockStore, Cid, MemBlockStore};
use common::{deployed, fake_deployment, Chain, User};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A devnode account's key (any valid key will do against a stand-in node).
const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaa3d5fc0dd2a3b41";
const SOMEONE: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

/// A server that accepts every connection and never answers: a node that hangs.
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    url
}

/// The CLI in `dir`, with nothing from the environment but PATH.
fn careledger(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_careledger"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CARELEDGER_STORE", dir.join("ipfs"));
    cmd
}

/// Runs `cmd`, killing it if it outlives `limit`; returns its output and how long it took.
fn run_within(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("careledger starts");
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

/// The one-line error of a run that had to fail within `limit`.
fn failed_within(cmd: Command, limit: Duration, what: &str) -> String {
    let (out, took) = run_within(cmd, limit);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(took < limit, "{what} still ran after {took:?}: {stderr}");
    common::one_line_error(&[what], &out)
}

fn files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_chain_command_and_notify_register_give_up_on_a_silent_node_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fake_deployment(d);
    std::fs::write(d.join("r.txt"), b"a record").unwrap();
    let silent = silent_server();
    let contracts = common::contracts();
    let salt = format!("0x{}", "11".repeat(32));
    let commands: Vec<Vec<&str>> = vec![
        vec!["deploy", "--contracts", contracts.to_str().unwrap()],
        vec!["patient", "register"],
        vec!["doctor", "register", "--licence", "GMC-1"],
        vec![
            "doctor",
            "check-licence",
            SOMEONE,
            "--licence",
            "GMC-1",
            "--salt",
            &salt,
        ],
        vec!["doctor", "verify", SOMEONE],
        vec!["doctor", "suspend", SOMEONE],
        vec!["doctor", "status", SOMEONE],
        vec!["verifier", "add", SOMEONE],
        vec!["verifier", "remove", SOMEONE],
        vec!["verifier", "threshold", "2"],
        vec!["pause"],
        vec!["unpause"],
        vec!["record", "add", "r.txt"],
        vec!["record", "list"],
        vec!["record", "get", "1", "-o", "out.txt"],
        vec!["record", "rekey", "1"],
        vec!["grant", SOMEONE, "--expires", "1d"],
        vec!["revoke", "1"],
        vec!["grants", "list"],
        vec!["grants", "list", "--received"],
        vec!["grants", "sync"],
        vec!["emergency", "open", SOMEONE, "--reason", "unconscious"],
        vec!["emergency", "close", SOMEONE],
        vec!["emergency", "lift", SOMEONE],
        vec!["emergency", "custodians", "set", SOMEONE],
        vec!["emergency", "custodians", "clear"],
        vec!["emergency", "custodians", "show"],
        vec!["emergency", "status"],
        vec!["emergency", "limit", "3"],
        vec!["custodian", "watch"],
        vec!["custodian", "watch", "--once"],
        vec!["audit"],
        vec!["watch"],
        vec![
            "notify",
            "register",
            "me@example.org",
            "--notifier",
            &silent,
        ],
        vec!["notify", "remove", "--notifier", &silent],
    ];
    // All at once: each waits on its own silent connection.
    let errors: Vec<(String, String)> = std::thread::scope(|s| {
        let runs: Vec<_> = commands
            .iter()
            .enumerate()
            .map(|(i, args)| {
                let mut cmd = careledger(d);
                cmd.env("CARELEDGER_RPC_URL", &silent)
                    .env("CARELEDGER_DEPLOYMENT", d.join("deployment.json"))
                    .env("CARELEDGER_PRIVATE_KEY", KEY)
                    .args(args);
                // The flag and the variable both set it.
                if i % 2 == 0 {
                    cmd.args(["--timeout", "1"]);
                } else {
                    cmd.env("CARELEDGER_TIMEOUT", "1");
                }
                let what = args.join(" ");
                s.spawn(move || {
                    let err = failed_within(cmd, Duration::from_secs(8), &what);
                    (what, err)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (what, err) in errors {
        assert!(
            err.contains(&format!("cannot reach the node at {silent}"))
                && err.contains("no answer within the time allowed (--timeout"),
            "{what}: {err}"
        );
    }
    assert!(
        !d.join("ipfs").exists(),
        "no store made by commands that failed"
    );
    assert!(!d.join("out.txt").exists());
}

#[test]
fn notifier_ipfs_node_and_pinning_service_calls_give_up_on_a_silent_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("r.txt"), b"a record").unwrap();
    let silent = silent_server();
    let cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    let commands: Vec<Vec<&str>> = vec![
        vec!["notify", "status", SOMEONE, "--notifier", &silent],
        vec!["notify", "confirm", "ABCD-EFGH", "--notifier", &silent],
        vec!["ipfs", "cat", cid, "-o", "out", "--ipfs-api", &silent],
        vec![
            "ipfs",
            "export",
            cid,
            "-o",
            "out.car",
            "--ipfs-api",
            &silent,
        ],
        vec!["ipfs", "add", "r.txt", "--ipfs-api", &silent],
        vec!["ipfs", "pin", cid, "--service", &silent],
    ];
    let errors: Vec<(String, String)> = std::thread::scope(|s| {
        let runs: Vec<_> = commands
            .iter()
            .map(|args| {
                let mut cmd = careledger(d);
                cmd.env("CARELEDGER_PRIVATE_KEY", KEY)
                    .env("CARELEDGER_PIN_TOKEN", "secret")
                    .args(args)
                    .args(["--timeout", "2"]);
                let what = args.join(" ");
                s.spawn(move || {
                    let err = failed_within(cmd, Duration::from_secs(8), &what);
                    (what, err)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (what, err) in errors {
        assert!(err.contains(&silent[7..]), "{what}: {err}");
        assert!(err.contains("no answer within 2 s"), "{what}: {err}");
    }
    assert!(!d.join("out").exists() && !d.join("out.car").exists());
}

/// A CAR section: the CID and its block behind their length.
fn section(cid: &Cid, block: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    careledger_vault::ipfs::car::write_section(&mut out, cid, block).unwrap();
    out
}

/// The `n`th of an endless supply of valid raw blocks of no DAG anyone asked for.
fn unrelated(n: u64) -> Vec<u8> {
    let block: Vec<u8> = (0..8192u64)
        .map(|i| (i.wrapping_mul(40_503) ^ n) as u8)
        .chain(n.to_le_bytes())
        .collect();
    let mut store = MemBlockStore::default();
    let cid = ipfs::add(&mut &block[..], &mut store).unwrap();
    section(&cid, &store.get(&cid).unwrap())
}

/// A stand-in IPFS node whose every answer is `head` then unrelated blocks,
/// without end, until the client hangs up.
fn streaming_node(head: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ipld.car\r\nConnection: close\r\n\r\n".to_vec();
            out.extend_from_slice(&head);
            let mut n = 0;
            while conn.write_all(&out).is_ok() {
                out = unrelated(n);
                n += 1;
            }
        }
    });
    url
}

#[test]
fn ipfs_cat_from_a_node_streaming_unrelated_blocks_fails_fast_and_stores_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data: Vec<u8> = (0..600_000u32).map(|i| (i % 199) as u8).collect();
    let mut dag = MemBlockStore::default();
    let root = ipfs::add(&mut &data[..], &mut dag).unwrap();
    let mut car = Vec::new();
    ipfs::export_car(&root, &dag, &mut car).unwrap();
    let header = car[..1 + car[0] as usize].to_vec();
    let root_section = section(&root, &dag.get(&root).unwrap());
    // Unrelated blocks from the start, and after the right root block.
    for (head, kept) in [(header.clone(), 0), ([header, root_section].concat(), 1)] {
        let node = streaming_node(head);
        let mut cmd = careledger(d);
        cmd.args([
            "ipfs",
            "cat",
            &root.to_string(),
            "-o",
            "out",
            "--ipfs-api",
            &node,
        ]);
        let err = failed_within(cmd, Duration::from_secs(6), "ipfs cat");
        assert!(err.contains("is not part of the DAG asked for"), "{err}");
        assert_eq!(
            files(&d.join("ipfs")).len(),
            kept,
            "only the root, if it came"
        );
        assert!(!d.join("out").exists());
    }
}

/// `ipfs add` of a 600 kB file into the store in `d`; returns its root and a leaf's file.
fn added(d: &Path) -> (String, PathBuf) {
    let data: Vec<u8> = (0..600_000u32).map(|i| (i % 211) as u8).collect();
    std::fs::write(d.join("file.bin"), &data).unwrap();
    let out = careledger(d)
        .args(["ipfs", "add", "file.bin", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        json["cid"].as_str().unwrap().to_string(),
        common::raw_leaf(&d.join("ipfs")),
    )
}

#[test]
#[cfg(unix)]
fn a_block_file_replaced_by_a_symlink_to_dev_zero_or_a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (root, leaf) = added(d);
    std::fs::remove_file(&leaf).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &leaf).unwrap();
    for args in [
        vec!["ipfs", "cat", &root, "-o", "out"],
        vec!["ipfs", "export", &root, "-o", "out.car"],
    ] {
        let mut cmd = careledger(d);
        cmd.args(&args);
        let err = failed_within(cmd, Duration::from_secs(5), &args.join(" "));
        assert!(err.contains("is a symbolic link: refused"), "{err}");
    }
    std::fs::remove_file(&leaf).unwrap();
    let made = Command::new("mkfifo").arg(&leaf).status().unwrap();
    assert!(made.success());
    let mut cmd = careledger(d);
    cmd.args(["ipfs", "cat", &root, "-o", "out"]);
    let err = failed_within(cmd, Duration::from_secs(5), "ipfs cat");
    assert!(err.contains("is not a regular file"), "{err}");
    assert!(!d.join("out").exists() && !d.join("out.car").exists());
}

/// A stand-in IPFS node that refuses every request.
fn refusing_node() -> String {
    common::serve(|_, _, _| {
        (
            500,
            r#"{"Message":"out of disk space","Code":0,"Type":"error"}"#.into(),
        )
    })
}

#[test]
fn a_record_that_never_reaches_the_chain_leaves_no_block_and_no_store_directory() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let u = deployed(&chain, d);
    let store = d.join("ipfs");
    std::fs::write(d.join("r.bin"), vec![7u8; 300_000]).unwrap();
    let nobody = User {
        chain: &chain,
        dir: d,
        key: Some(chain.keys[5].clone()),
    };
    // Not patients: refused before anything is encrypted or stored.
    for who in [&u[3], &nobody] {
        let err = who.fails(&["record", "add", "r.bin"]);
        assert!(err.contains("is not a registered patient"), "{err}");
    }
    // Failures that read from the store do not make it either.
    u[2].fails(&["record", "get", "1", "-o", "out.bin"]);
    u[2].fails(&[
        "ipfs",
        "cat",
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
        "-o",
        "out.bin",
    ]);
    assert!(!store.exists(), "no empty store directory");

    // Sealed, but the IPFS node refuses it: the blocks go again, and the directory.
    let node = refusing_node();
    let err = u[2].fails(&["record", "add", "r.bin", "--ipfs-api", &node]);
    assert!(err.contains("out of disk space"), "{err}");
    assert!(!store.exists(), "{:?}", files(&store));

    // Next to a record that did land, a failed one takes away only its own blocks.
    u[2].json(&["record", "add", "r.bin"]);
    let before = files(&store);
    assert!(!before.is_empty());
    u[2].fails(&["record", "add", "r.bin", "--ipfs-api", &node]);
    assert_eq!(files(&store), before);
    u[2].fails(&["record", "rekey", "1", "--ipfs-api", &node]);
    assert_eq!(files(&store), before);
    let listed = u[2].json(&["record", "list"]);
    assert_eq!(listed["records"].as_array().unwrap().len(), 1);
    let mut got = u[2].cmd();
    got.args(["record", "get", "1", "-o", "back.bin"]);
    got.assert().success();
    assert_eq!(
        std::fs::read(d.join("back.bin")).unwrap(),
        vec![7u8; 300_000]
    );
}

#[test]
fn record_get_refuses_an_existing_output_without_force_and_logs_no_read() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let u = deployed(&chain, d);
    let record = b"a lab result".to_vec();
    std::fs::write(d.join("r.txt"), &record).unwrap();
    u[2].json(&["record", "add", "r.txt"]);
    let reads = || {
        u[2].json(&["audit"])["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "RecordAccessed")
            .count()
    };
    let logged = reads();

    std::fs::write(d.join("mine.txt"), b"keep me").unwrap();
    let err = u[2].fails(&["record", "get", "1", "-o", "mine.txt"]);
    assert!(
        err.contains("mine.txt exists: pass --force to replace it"),
        "{err}"
    );
    assert_eq!(std::fs::read(d.join("mine.txt")).unwrap(), b"keep me");
    // A dangling symbolic link is a name taken all the same.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("link.txt")).unwrap();
        let err = u[2].fails(&["record", "get", "1", "-o", "link.txt"]);
        assert!(err.contains("exists"), "{err}");
        assert!(!d.join("nowhere").exists());
    }
    assert_eq!(reads(), logged, "a refused get logs no read");

    u[2].json(&["record", "get", "1", "-o", "mine.txt", "--force"]);
    assert_eq!(std::fs::read(d.join("mine.txt")).unwrap(), record);
    u[2].json(&["record", "get", "1", "-o", "new.txt"]);
    assert_eq!(std::fs::read(d.join("new.txt")).unwrap(), record);
    let partial = files(d)
        .into_iter()
        .filter(|f| f.contains("partial"))
        .count();
    assert_eq!(partial, 0, "no temporary file left");
}
