//! Bad input gets one line on stderr, exit status 1, no panic and no partial
//! output file, and leaves what is stored intact. A malformed argument (an
//! address, an expiry, an interval) is refused by clap first, with status 2.

use crate::common;

use common::{deployed, Chain, User};

#[test]
fn malformed_arguments_are_named() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let patient = &u[2];
    let d = chain.addresses[3].clone();

    assert!(
        common::refused_by_clap(patient, &["grant", "0x12zz", "--expires", "1d"])
            .contains("not an address")
    );
    assert!(patient
        .fails(&["grant", &d, "--expires", "2020-01-01"])
        .contains("not in the future"));
    assert!(
        common::refused_by_clap(patient, &["grant", &d, "--expires", "someday"])
            .contains("--expires")
    );
    assert!(common::refused_by_clap(
        patient,
        &["grant", &d, "--scope", "records:", "--expires", "1d"]
    )
    .contains("--scope"));
    assert!(patient
        .fails(&["record", "add", "missing.pdf"])
        .contains("missing.pdf"));
    assert!(
        common::refused_by_clap(patient, &["record", "get", "zero", "-o", "o"])
            .contains("not a record id")
    );
    assert!(patient
        .fails(&["record", "get", "99", "-o", "o"])
        .contains("no record 99"));
    assert!(patient.fails(&["revoke", "7"]).contains("no grant token 7"));
    assert!(
        common::refused_by_clap(patient, &["ipfs", "cat", "not-a-cid", "-o", "o"])
            .contains("is not a CID")
    );
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
    // A malformed endpoint is a usage error: clap refuses it before any work.
    let not_url = common::refused_by_clap(&u[2], &["record", "list", "--rpc-url", "not a url"]);
    assert!(not_url.contains("not a URL"), "{not_url}");
    let ws = common::refused_by_clap(
        &u[2],
        &["record", "list", "--rpc-url", "ws://127.0.0.1:8547"],
    );
    assert!(ws.contains("not an http(s) JSON-RPC endpoint"), "{ws}");
    // The default build has no TLS: an https endpoint is refused in words, not by a
    // transport error after a timeout.
    let https = common::refused_by_clap(
        &u[2],
        &[
            "record",
            "list",
            "--rpc-url",
            "https://sepolia-rollup.arbitrum.io/rpc",
        ],
    );
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
    common::fake_deployment(dir.path());
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

/// Issue 16: the contracts take any u64 as an expiry, so one raw transaction can
/// put a grant ending in the year 584 billion on any doctor. Every view of it
/// still prints (`grants list` on both sides, `audit`, `watch`, the FHIR forms),
/// and the CLI itself refuses to write an expiry more than 100 years ahead.
#[test]
fn a_grant_ending_after_the_year_9999_is_listed_audited_and_watched_without_a_panic() {
    use alloy::sol_types::SolCall;
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let (patient, doctor) = (&u[2], &u[3]);
    let deployment: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("deployment.json")).unwrap())
            .unwrap();
    let call = careledger_bindings::IAccessToken::grantCall {
        doctor: chain.addresses[3].parse().unwrap(),
        expires_at: u64::MAX,
        scope_kind: 0,
        category: Default::default(),
        record_ids: vec![],
    };
    let sent = chain.rpc(
        "eth_sendTransaction",
        serde_json::json!([{
            "from": chain.addresses[2],
            "to": deployment["accessToken"],
            "data": format!("0x{}", alloy::hex::encode(call.abi_encode())),
        }]),
    );
    let tx = sent.clone();
    assert!(tx.is_string(), "{sent}");
    let receipt = chain
        .rpc("eth_getTransactionReceipt", serde_json::json!([tx]))
        .clone();
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let block = u64::from_str_radix(
        receipt["blockNumber"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();

    let human = |user: &User, args: &[&str]| {
        let out = user.cmd().args(args).output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        assert!(out.status.success(), "careledger {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stdout
    };
    let far = "unix time 18446744073709551615 (after the year 9999)";
    for (user, args) in [
        (patient, &["grants", "list"][..]),
        (doctor, &["grants", "list", "--received"][..]),
        (patient, &["audit"][..]),
    ] {
        let text = human(user, args);
        assert!(text.contains(far), "{args:?}: {text}");
    }
    let listed = patient.json(&["grants", "list"]);
    assert_eq!(listed["grants"][0]["expiresAt"], u64::MAX);
    assert_eq!(listed["grants"][0]["status"], "active");
    let received = doctor.json(&["grants", "list", "--received"]);
    assert_eq!(received["grants"][0]["expiresAt"], u64::MAX);
    // FHIR instants have four-digit years: the last one they can say.
    let consent = patient.json(&["grants", "list", "--fhir"]).to_string();
    assert!(consent.contains("9999-12-31T23:59:59Z"), "{consent}");
    patient.json(&["audit", "--fhir"]);
    let watched = human(
        patient,
        &["watch", "--from-block", &block.to_string(), "--count", "1"],
    );
    assert!(watched.contains(far), "{watched}");
    let line = human(
        patient,
        &[
            "watch",
            "--from-block",
            &block.to_string(),
            "--count",
            "1",
            "--json",
        ],
    );
    let event: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(event["expiresAt"], u64::MAX);

    // The CLI writes no such expiry: refused as written, or against the chain's clock.
    let head = chain.rpc("eth_blockNumber", serde_json::json!([])).clone();
    let d = &chain.addresses[3];
    let err = common::refused_by_clap(patient, &["grant", d, "--expires", "99999999999d"]);
    assert!(err.contains("100 years"), "{err}");
    for expires in ["18446744073709551615", "1800000000000", "9999-12-31"] {
        let err = patient.fails(&["grant", d, "--expires", expires]);
        assert!(err.contains("100 years"), "{expires}: {err}");
    }
    assert_eq!(chain.rpc("eth_blockNumber", serde_json::json!([])), head);
}

/// Issue 16: one grammar for a duration, `<whole number><s|m|h|d|w>`, and bounds
/// on the other intervals, all refused by clap before any work.
#[test]
fn expiries_and_intervals_are_refused_unless_written_one_strict_way() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let patient = User {
        chain: &chain,
        dir: dir.path(),
        key: Some(chain.keys[2].clone()),
    };
    let d = &chain.addresses[3];
    for bad in [
        "30d30d", "30 d", "0d", "1.5d", "30D", "-1d", "+1d", "1y", "", "30days", "2030-1-1",
    ] {
        // `=`: a value that starts with `-` is not taken for an option.
        let arg = format!("--expires={bad}");
        let err = common::refused_by_clap(&patient, &["grant", d, &arg]);
        assert!(err.contains("--expires"), "{bad:?}: {err}");
    }
    let zero = common::refused_by_clap(&patient, &["grant", d, "--expires", "0d"]);
    assert!(zero.contains("zero"), "{zero}");
    let overflow = common::refused_by_clap(
        &patient,
        &["grant", d, "--expires", "99999999999999999999d"],
    );
    assert!(overflow.contains("too long"), "{overflow}");
    for (args, what) in [
        (
            &["custodian", "watch", "--poll-secs", "0"][..],
            "--poll-secs",
        ),
        (
            &["custodian", "watch", "--poll-secs", "99999999999"][..],
            "--poll-secs",
        ),
        (
            &[
                "ipfs",
                "pin",
                "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
                "--service",
                "http://127.0.0.1:9",
                "--wait",
                "9999999",
            ][..],
            "--wait",
        ),
    ] {
        let err = common::refused_by_clap(&patient, args);
        assert!(err.contains(what), "{args:?}: {err}");
    }
}

/// Issue 16: a mixed-case address is an EIP-55 checksum; a wrong one is refused
/// (nothing is sent), while all-lowercase and all-uppercase hex, which carry no
/// checksum, are taken, as cast takes them.
#[test]
fn addresses_with_a_wrong_eip55_checksum_are_refused_before_any_transaction() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    // One letter's case flipped: the checksum no longer matches.
    let mistyped = |address: &str| {
        let at = address[2..]
            .find(|c: char| c.is_ascii_alphabetic())
            .expect("a letter")
            + 2;
        let mut s = address.to_string();
        let c = s.as_bytes()[at] as char;
        let flipped = if c.is_ascii_uppercase() {
            c.to_ascii_lowercase()
        } else {
            c.to_ascii_uppercase()
        };
        s.replace_range(at..=at, &flipped.to_string());
        s
    };
    let (verifier, patient) = (&chain.addresses[5], &chain.addresses[2]);
    assert_ne!(
        verifier.to_lowercase(),
        *verifier,
        "alloy prints checksummed"
    );
    let head = chain.rpc("eth_blockNumber", serde_json::json!([])).clone();
    let cases: Vec<(&User, Vec<String>)> = vec![
        (
            &u[0],
            vec!["verifier".into(), "add".into(), mistyped(verifier)],
        ),
        (
            &u[4],
            vec![
                "emergency".into(),
                "open".into(),
                mistyped(patient),
                "--reason".into(),
                "unconscious".into(),
            ],
        ),
        (
            &u[2],
            vec![
                "grant".into(),
                mistyped(&chain.addresses[3]),
                "--expires".into(),
                "1d".into(),
            ],
        ),
        (
            &u[2],
            vec![
                "emergency".into(),
                "custodians".into(),
                "set".into(),
                mistyped(verifier),
            ],
        ),
        (
            &u[1],
            vec![
                "doctor".into(),
                "verify".into(),
                mistyped(&chain.addresses[3]),
            ],
        ),
        (&u[2], vec!["audit".into(), mistyped(patient)]),
        (
            &u[2],
            vec!["record".into(), "list".into(), mistyped(patient)],
        ),
        (
            &u[2],
            vec![
                "grants".into(),
                "sync".into(),
                "--confirm-emergency".into(),
                mistyped(verifier),
            ],
        ),
    ];
    for (user, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = common::refused_by_clap(user, &args);
        assert!(err.contains("EIP-55"), "{args:?}: {err}");
    }
    assert_eq!(
        chain.rpc("eth_blockNumber", serde_json::json!([])),
        head,
        "nothing was sent"
    );
    // No checksum to check: taken as they are.
    u[0].json(&["verifier", "add", &verifier.to_lowercase()]);
    let upper = format!("0x{}", verifier[2..].to_uppercase());
    u[0].json(&["verifier", "remove", &upper]);
}

/// Issue 16: a node that answers garbage gets one short line naming what came
/// back, its size and its first characters escaped, never the bytes themselves.
#[test]
fn a_node_answering_binary_garbage_is_summarised_in_one_short_printable_line() {
    let mut garbage: Vec<u8> = (0u8..=255).cycle().take(4_000).collect();
    garbage.extend_from_slice(b"\n\x1b[2J\x1b[31mline\nline\nline\nline\nline\nline\n");
    let garbage: &'static [u8] = Box::leak(garbage.into_boxed_slice());
    let dir = tempfile::tempdir().unwrap();
    common::fake_deployment(dir.path());
    for (status, says) in [(200, "not a JSON-RPC response"), (502, "HTTP status 502")] {
        let node = common::serve_raw(status, garbage);
        let out = assert_cmd::Command::cargo_bin("careledger")
            .unwrap()
            .current_dir(dir.path())
            .env_clear()
            .args(["audit", "0x00000000000000000000000000000000000000aa"])
            .args(["--rpc-url", &node, "--deployment", "deployment.json"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.len() < 400, "{} bytes: {err}", err.len());
        assert!(
            out.stderr[..out.stderr.len() - 1]
                .iter()
                .all(|b| (b' '..=b'~').contains(b)),
            "{err}"
        );
        assert!(err.contains(says), "{err}");
        assert!(err.contains("characters starting"), "{err}");
    }
}

/// Issue 16: a keystore's every field is checked before anything is derived from
/// it: the kdf's cost and output length, the cipher, the lengths of salt, iv,
/// ciphertext and mac, and that it is a small regular file. Decryption uses what
/// was checked, from the one read of the file.
#[test]
fn keystores_with_odd_fields_are_refused_before_any_derivation() {
    use alloy::signers::local::PrivateKeySigner;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let started = std::time::Instant::now();
        let out = assert_cmd::Command::cargo_bin("careledger")
            .unwrap()
            .current_dir(dir.path())
            .env_clear()
            .env("CARELEDGER_PASSWORD", "right")
            .args(args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{args:?}"
        );
        out
    };
    let (signer, _) =
        PrivateKeySigner::new_keystore(dir.path(), &mut rand::rngs::OsRng, "right", Some("k.json"))
            .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("k.json")).unwrap()).unwrap();
    let refused = |args: &[&str], says: &str| {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    type Edit = fn(&mut serde_json::Value);
    let edits: [(Edit, &str); 10] = [
        (
            |d| d["crypto"]["kdfparams"]["dklen"] = 1.into(),
            "dklen must be 32",
        ),
        (
            |d| d["crypto"]["kdfparams"]["n"] = (1u64 << 30).into(),
            "n = 2^30",
        ),
        (
            |d| d["crypto"]["cipherparams"]["iv"] = "0011223344556677".into(),
            "iv is 8 bytes",
        ),
        (
            |d| d["crypto"]["ciphertext"] = "00".repeat(31).into(),
            "ciphertext is 31 bytes",
        ),
        (|d| d["crypto"]["mac"] = "abcd".into(), "mac is 2 bytes"),
        (|d| d["crypto"]["mac"] = "not hex".into(), "mac is not hex"),
        (
            |d| d["crypto"]["cipher"] = "aes-256-gcm".into(),
            "aes-128-ctr",
        ),
        (
            |d| d["crypto"]["kdfparams"]["salt"] = "".into(),
            "salt is 0 bytes",
        ),
        (|d| d["version"] = 4.into(), "version 3"),
        (
            |d| {
                d["crypto"]["kdf"] = "pbkdf2".into();
                d["crypto"]["kdfparams"] = serde_json::json!({"c": 262144, "dklen": 32, "prf": "hmac-sha512", "salt": "00".repeat(32)});
            },
            "hmac-sha256",
        ),
    ];
    for (edit, says) in edits {
        let mut hostile = doc.clone();
        edit(&mut hostile);
        std::fs::write(dir.path().join("hostile.json"), hostile.to_string()).unwrap();
        refused(&["keys", "show", "--keystore", "hostile.json"], says);
    }
    // A pbkdf2 count beside scrypt's parameters: eth-keystore would have run
    // pbkdf2 with it (it picks the kdf by the fields present), four billion
    // rounds; the file says scrypt, and scrypt is what runs.
    let mut mixed = doc.clone();
    mixed["crypto"]["kdfparams"]["c"] = u32::MAX.into();
    mixed["crypto"]["kdfparams"]["prf"] = "hmac-sha256".into();
    std::fs::write(dir.path().join("mixed.json"), mixed.to_string()).unwrap();
    let out = run(&["keys", "show", "--keystore", "mixed.json", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(shown["address"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(&signer.address().to_string()));

    // Not a keystore by its size or kind: refused without reading it all.
    std::fs::write(dir.path().join("big.json"), vec![b' '; 100 * 1024]).unwrap();
    refused(&["keys", "show", "--keystore", "big.json"], "under 64 KiB");
    std::fs::create_dir(dir.path().join("a-dir")).unwrap();
    refused(
        &["keys", "show", "--keystore", "a-dir"],
        "not a regular file",
    );
    #[cfg(unix)]
    {
        refused(
            &["keys", "show", "--keystore", "/dev/zero"],
            "not a regular file",
        );
        refused(
            &[
                "keys",
                "show",
                "--keystore",
                "k.json",
                "--password-file",
                "/dev/zero",
            ],
            "not a password",
        );
    }
}

/// Issue 16: `demo --dir NEW` that fails before its story (no contracts) removes
/// the directory it created, and leaves alone one that was there before.
#[test]
fn a_demo_that_cannot_start_removes_only_the_directory_it_created() {
    let dir = tempfile::tempdir().unwrap();
    let demo = |target: &std::path::Path| {
        let out = assert_cmd::Command::cargo_bin("careledger")
            .unwrap()
            .current_dir(dir.path())
            .env_clear()
            .arg("demo")
            .arg("--dir")
            .arg(target)
            .args(["--contracts", "/nonexistent"])
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("/nonexistent"), "{err}");
    };
    demo(&dir.path().join("new/deeper"));
    assert!(!dir.path().join("new").exists());
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("keep.txt"), b"mine").unwrap();
    demo(&mine.join("demo"));
    assert!(!mine.join("demo").exists());
    assert_eq!(std::fs::read(mine.join("keep.txt")).unwrap(), b"mine");
    demo(&mine);
    assert_eq!(std::fs::read(mine.join("keep.txt")).unwrap(), b"mine");
}
