//! Bad input gets one line on stderr, exit status 1, no panic and no partial
//! output file, and leaves what is stored intact.

mod common;

use common::{deployed, Chain, User};

#[test]
fn malformed_arguments_are_named() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let patient = &u[2];
    let d = chain.addresses[3].clone();

    assert!(patient
        .fails(&["grant", "0x12zz", "--expires", "1d"])
        .contains("not an address"));
    assert!(patient
        .fails(&["grant", &d, "--expires", "2020-01-01"])
        .contains("not in the future"));
    assert!(patient
        .fails(&["grant", &d, "--expires", "someday"])
        .contains("--expires"));
    assert!(patient
        .fails(&["grant", &d, "--scope", "records:", "--expires", "1d"])
        .contains("--scope"));
    assert!(patient
        .fails(&["record", "add", "missing.pdf"])
        .contains("missing.pdf"));
    assert!(patient
        .fails(&["record", "get", "zero", "-o", "o"])
        .contains("not a record id"));
    assert!(patient
        .fails(&["record", "get", "99", "-o", "o"])
        .contains("no record 99"));
    assert!(patient.fails(&["revoke", "7"]).contains("no grant token 7"));
    assert!(patient
        .fails(&["ipfs", "cat", "not-a-cid", "-o", "o"])
        .contains("is not a CID"));
    // A CID that parses but whose blocks are not here.
    let missing = patient.fails(&[
        "ipfs",
        "cat",
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
        "-o",
        "o",
    ]);
    assert!(missing.contains("not in the store"), "{missing}");
    assert!(!dir.path().join("o").exists());
    // A Bundle that breaks R4's rules is refused before anything is stored, and
    // the error quotes none of it.
    std::fs::write(
        dir.path().join("bad.json"),
        br#"{"resourceType":"Bundle","type":"CANARY-7f3a","entry":[]}"#,
    )
    .unwrap();
    let bad = patient.fails(&["record", "add", "bad.json"]);
    assert!(bad.contains("not a valid FHIR R4 Bundle"), "{bad}");
    assert!(!bad.contains("CANARY"));
    assert_eq!(
        patient.json(&["record", "list"])["records"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Registering twice is refused by the contract, decoded from its custom error.
    assert!(patient
        .fails(&["patient", "register"])
        .contains("already registered"));
    // A doctor cannot verify anyone.
    assert!(u[3]
        .fails(&["doctor", "verify", &d])
        .contains("not an accredited verifier"));
}

#[test]
fn keys_deployments_and_nodes_that_are_wrong() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let nobody = User {
        chain: &chain,
        dir: dir.path(),
        key: None,
    };
    assert!(nobody
        .fails(&["record", "list", &chain.addresses[2]])
        .contains("run `careledger deploy` first"));
    std::fs::write(dir.path().join("deployment.json"), b"{ not json").unwrap();
    assert!(nobody
        .fails(&["record", "list", &chain.addresses[2]])
        .contains("malformed"));
    std::fs::remove_file(dir.path().join("deployment.json")).unwrap();
    let u = deployed(&chain, dir.path());
    assert!(nobody.fails(&["patient", "register"]).contains("no key"));

    let out = nobody
        .cmd()
        .args(["keys", "new", "k.json"])
        .env("CARELEDGER_PASSWORD", "right")
        .output()
        .unwrap();
    assert!(out.status.success());
    let wrong = nobody
        .cmd()
        .args(["keys", "show", "--keystore", "k.json"])
        .env("CARELEDGER_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("wrong password"), "{err}");
    // Refuses to overwrite an existing keystore.
    let again = nobody
        .cmd()
        .args(["keys", "new", "k.json"])
        .env("CARELEDGER_PASSWORD", "other")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));

    // The web key file: a short passphrase and an existing file are refused; the
    // file holds the key locked, never in the clear.
    let export = |out: &str, pass: &str| {
        nobody
            .cmd()
            .args(["keys", "export-web", out, "--keystore", "k.json", "--json"])
            .env("CARELEDGER_PASSWORD", "right")
            .env("CARELEDGER_WEB_PASSPHRASE", pass)
            .output()
            .unwrap()
    };
    let short = export("web.json", "short");
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));
    assert!(!dir.path().join("web.json").exists());
    let ok = export("web.json", "long enough");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("web.json")).unwrap()).unwrap();
    assert_eq!(file["kdf"], "scrypt");
    assert_eq!(export("web.json", "long enough").status.code(), Some(1));

    let bad_key = User {
        chain: &chain,
        dir: dir.path(),
        key: Some("0x1234".into()),
    };
    assert!(bad_key
        .fails(&["patient", "register"])
        .contains("CARELEDGER_PRIVATE_KEY"));

    // An unreachable node: an error, not a hang.
    let down = u[2]
        .cmd()
        .args(["record", "list"])
        .env("CARELEDGER_RPC_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("cannot reach"));
    let not_url = u[2].fails(&["record", "list", "--rpc-url", "not a url"]);
    assert!(not_url.contains("not a URL"), "{not_url}");
    let ws = u[2].fails(&["record", "list", "--rpc-url", "ws://127.0.0.1:8547"]);
    assert!(ws.contains("not an http(s) JSON-RPC endpoint"), "{ws}");
    // The default build has no TLS: an https endpoint is refused in words, not by a
    // transport error after a timeout.
    let https = u[2].fails(&[
        "record",
        "list",
        "--rpc-url",
        "https://sepolia-rollup.arbitrum.io/rpc",
    ]);
    assert!(https.contains("--features tls"), "{https}");
}

#[test]
fn a_tampered_ciphertext_is_refused_and_nothing_is_written() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let original: Vec<u8> = (0..300_000u32).map(|i| (i % 13) as u8).collect();
    std::fs::write(dir.path().join("r.bin"), &original).unwrap();
    u[2].json(&["record", "add", "r.bin"]);
    u[2].json(&["grant", &chain.addresses[3], "--expires", "1d"]);

    // Flip one bit in one raw leaf block of the store.
    let leaf = common::raw_leaf(&dir.path().join("ipfs"));
    let mut bytes = std::fs::read(&leaf).unwrap();
    bytes[100] ^= 0x10;
    std::fs::write(&leaf, &bytes).unwrap();
    let err = u[3].fails(&["record", "get", "1", "-o", "out.bin"]);
    assert!(err.contains("does not match its CID"), "{err}");
    assert!(!dir.path().join("out.bin").exists());

    // A block that hashes right but is not the ciphertext on chain: replace the
    // whole DAG's root with another file's root is caught by the on-chain hash.
    bytes[100] ^= 0x10;
    std::fs::write(&leaf, &bytes).unwrap();
    u[3].json(&["record", "get", "1", "-o", "out.bin"]);
    assert!(std::fs::read(dir.path().join("out.bin")).unwrap() == original);
    // Leftover temporary files: none.
    let partial = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial")
        })
        .count();
    assert_eq!(partial, 0);
}

/// A node that, like public RPC providers, refuses `eth_getLogs` over wide
/// ranges: the CLI reads the history in smaller windows instead of failing.
#[test]
fn a_node_that_caps_log_ranges_is_read_in_windows() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static ASKED: AtomicUsize = AtomicUsize::new(0);
    let node = common::serve(|_, _, body| {
        let req: serde_json::Value = serde_json::from_str(body).unwrap();
        let id = req["id"].clone();
        let hex = |v: &serde_json::Value| {
            u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        };
        let result = match req["method"].as_str().unwrap() {
            "eth_chainId" => serde_json::json!("0x64aba"),
            "eth_blockNumber" => serde_json::json!("0x9c40"),
            "eth_getLogs" => {
                ASKED.fetch_add(1, Ordering::Relaxed);
                let f = &req["params"][0];
                if hex(&f["toBlock"]) - hex(&f["fromBlock"]) > 2_000 {
                    let err = serde_json::json!({"jsonrpc": "2.0", "id": id,
                        "error": {"code": -32005, "message": "query exceeds max block range 2000"}});
                    return (200, err.to_string());
                }
                serde_json::json!([])
            }
            _ => serde_json::json!(null),
        };
        (
            200,
            serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deployment.json"),
        br#"{"chainId":412346,"patientRegistry":"0x0000000000000000000000000000000000000001","accessToken":"0x0000000000000000000000000000000000000002","recordRegistry":"0x0000000000000000000000000000000000000003","deployBlock":0}"#,
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("careledger")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "audit",
            "0x00000000000000000000000000000000000000aa",
            "--json",
        ])
        .args(["--rpc-url", &node, "--deployment", "deployment.json"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit["events"], serde_json::json!([]));
    // 40,001 blocks in windows of at most 1,250 after halving: dozens of asks.
    assert!(ASKED.load(Ordering::Relaxed) > 30);
}

/// `keys new` writes a keystore at geth's scrypt cost (n = 2^18), private from the
/// first byte; an older, weaker keystore still opens, with one warning; a file
/// asking for a huge scrypt cost is refused at once, not run.
#[test]
fn keystores_are_costly_private_and_bounded() {
    use alloy::signers::local::PrivateKeySigner;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("careledger")
            .unwrap()
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CARELEDGER_PASSWORD", "right")
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap()
    };
    let new = run(&["keys", "new", "k.json", "--json"]);
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    let address = serde_json::from_slice::<serde_json::Value>(&new.stdout).unwrap()["address"]
        .as_str()
        .unwrap()
        .to_string();
    let path = dir.path().join("k.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let params = &doc["crypto"]["kdfparams"];
    assert_eq!(doc["version"], 3);
    assert_eq!(doc["crypto"]["kdf"], "scrypt");
    assert_eq!(params["n"], 262_144);
    assert_eq!(
        (params["r"].clone(), params["p"].clone()),
        (8.into(), 1.into())
    );
    // No temporary file is left next to it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // What keys new wrote opens, without a warning, as the same account; alloy
    // (eth-keystore, what cast reads) opens it too.
    let show = run(&["keys", "show", "--keystore", "k.json", "--json"]);
    assert!(
        show.status.success(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
    assert!(
        show.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["address"], address.as_str());
    let alloy_signer = PrivateKeySigner::decrypt_keystore(&path, "right").unwrap();
    assert!(alloy_signer
        .address()
        .to_string()
        .eq_ignore_ascii_case(&address));

    // A keystore at eth-keystore's old default, n = 2^13: opens, one warning line
    // that says how to re-encrypt.
    let (weak, _) = PrivateKeySigner::new_keystore(
        dir.path(),
        &mut rand::rngs::OsRng,
        "right",
        Some("weak.json"),
    )
    .unwrap();
    let weak_doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("weak.json")).unwrap()).unwrap();
    assert_eq!(weak_doc["crypto"]["kdfparams"]["n"], 8192);
    let opened = run(&["keys", "show", "--keystore", "weak.json", "--json"]);
    assert!(opened.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert!(shown["address"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(&weak.address().to_string()));
    let warning = String::from_utf8_lossy(&opened.stderr);
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(warning.starts_with("warning: "), "{warning}");
    assert!(warning.contains("2^13"), "{warning}");
    assert!(warning.contains("re-encrypt"), "{warning}");
    assert!(warning.contains("careledger keys new"), "{warning}");

    // Hostile costs are refused before scrypt runs: fast, one line, exit 1.
    for (key, value, says) in [
        ("n", 1u64 << 30, "n = 2^30"),
        ("r", 1 << 20, "r = 1048576"),
        ("p", 1 << 20, "p = 1048576"),
        ("n", 3, "not a power of two"),
    ] {
        let mut hostile = doc.clone();
        hostile["crypto"]["kdfparams"][key] = value.into();
        std::fs::write(dir.path().join("hostile.json"), hostile.to_string()).unwrap();
        let started = std::time::Instant::now();
        let refused = run(&["keys", "show", "--keystore", "hostile.json"]);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(refused.status.code(), Some(1));
        let err = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("refusing to open it"), "{err}");
        assert!(err.contains(says), "{err}");
        if key != "n" || value != 3 {
            assert!(err.contains("accepts n up to 2^20"), "{err}");
        }
    }
}
