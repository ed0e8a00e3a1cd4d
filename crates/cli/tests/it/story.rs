//! The whole patient / doctor / verifier story through the `careledger` binary,
//! against a devnode executing the contracts' WASM.

use crate::common;

use common::{deployed, Chain, User};
use serde_json::Value;

fn kinds(audit: &Value) -> Vec<String> {
    audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_record_travels_from_patient_to_doctor_and_stops_at_revocation() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let (patient, doctor, medic) = (&u[2], &u[3], &u[4]);
    let (p, d, m) = (
        &chain.addresses[2],
        &chain.addresses[3],
        &chain.addresses[4],
    );

    // A record that spans several encryption chunks and UnixFS blocks.
    let original: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join("scan.bin"), &original).unwrap();
    let added = patient.json(&["record", "add", "scan.bin", "--category", "imaging"]);
    assert_eq!(added["recordId"], "1");
    assert_eq!(
        added["readers"].as_array().unwrap().len(),
        1,
        "only the patient so far"
    );
    assert!(
        added["cid"].as_str().unwrap().starts_with("bafy"),
        "a dag-pb root"
    );

    // Before any grant the doctor sees the record exists but cannot read it.
    let listed = doctor.json(&["record", "list", p]);
    assert_eq!(listed["records"][0]["readable"], false);
    assert!(doctor
        .fails(&["record", "get", "1", "-o", "x.bin"])
        .contains("access denied"));

    let granted = patient.json(&[
        "grant",
        d,
        "--scope",
        "category:imaging",
        "--expires",
        "30d",
    ]);
    assert_eq!(granted["tokenId"], "1");
    assert_eq!(granted["sharedRecords"], serde_json::json!(["1"]));
    let got = doctor.json(&["record", "get", "1", "-o", "copy.bin"]);
    assert_eq!(got["bytes"], original.len());
    assert!(std::fs::read(dir.path().join("copy.bin")).unwrap() == original);

    // A record in another category is not wrapped for the doctor.
    std::fs::write(
        dir.path().join("lab.json"),
        br#"{"resourceType":"Bundle","type":"collection","entry":[]}"#,
    )
    .unwrap();
    let lab = patient.json(&["record", "add", "lab.json", "--category", "lab"]);
    assert_eq!(lab["readers"].as_array().unwrap().len(), 1);
    assert!(doctor
        .fails(&["record", "get", "2", "-o", "lab.out"])
        .contains("access denied"));
    assert!(!dir.path().join("lab.out").exists());

    let grants = patient.json(&["grants", "list"]);
    assert_eq!(grants["grants"][0]["status"], "active");
    let received = doctor.json(&["grants", "list", "--received"]);
    assert_eq!(
        received["grants"][0]["patient"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        p.to_lowercase()
    );

    patient.json(&["revoke", "1"]);
    let err = doctor.fails(&["record", "get", "1", "-o", "again.bin"]);
    assert!(err.contains("access denied"), "{err}");
    assert!(!dir.path().join("again.bin").exists(), "no partial output");
    assert_eq!(
        patient.json(&["grants", "list"])["grants"][0]["status"],
        "revoked"
    );

    // Rekey: a new version under a fresh key, for the patient alone.
    let rekeyed = patient.json(&["record", "rekey", "1"]);
    assert_eq!(rekeyed["version"], 2);
    assert_eq!(rekeyed["readers"].as_array().unwrap().len(), 1);
    let own = patient.json(&["record", "get", "1", "-o", "own.bin"]);
    assert_eq!(own["version"], 2);
    assert!(std::fs::read(dir.path().join("own.bin")).unwrap() == original);

    // Break-glass needs a custodian; keys come from the custodian's agent, not
    // silently from the patient's client.
    let err = medic.fails(&["emergency", "open", p, "--reason", "unconscious"]);
    assert!(err.contains("named no emergency custodian"), "{err}");
    let (relative, r) = (&u[5], &chain.addresses[5]);
    relative.json(&["patient", "register"]);
    let named = patient.json(&["emergency", "custodians", "set", r]);
    assert_eq!(named["sharedRecords"], serde_json::json!(["1", "2"]));
    let opened = medic.json(&["emergency", "open", p, "--reason", "unconscious"]);
    assert_eq!(opened["reason"], 1);
    let err = medic.fails(&["record", "get", "2", "-o", "e.json"]);
    assert!(err.contains("no key for record 2"), "{err}");
    let synced = patient.json(&["grants", "sync"]);
    assert_eq!(synced["sharedRecords"], serde_json::json!([]));
    assert_eq!(
        synced["openEmergencyNotShared"][0]
            .as_str()
            .unwrap()
            .to_lowercase(),
        m.to_lowercase()
    );
    let released = relative.json(&["custodian", "watch", "--once"]);
    assert_eq!(
        released["releases"][0]["released"],
        serde_json::json!(["1", "2"])
    );
    medic.json(&["record", "get", "2", "-o", "e.json"]);
    patient.json(&["emergency", "close", m]);
    assert!(medic
        .fails(&["record", "get", "2", "-o", "e2.json"])
        .contains("access denied"));
    let err = medic.fails(&["emergency", "open", p, "--reason", "unconscious"]);
    assert!(err.contains("barred"), "{err}");
    let status = patient.json(&["emergency", "status"]);
    assert_eq!(status["bars"].as_array().unwrap().len(), 1);
    assert_eq!(status["openWindows"].as_array().unwrap().len(), 0);
    let after = relative.json(&["custodian", "watch", "--once"]);
    assert_eq!(after["releases"], serde_json::json!([]));

    let audit = patient.json(&["audit"]);
    let k = kinds(&audit);
    for kind in [
        "RecordAdded",
        "KeyWrapped",
        "AccessGranted",
        "RecordAccessed",
        "AccessRevoked",
        "EmergencyAccess",
        "EmergencyAccessClosed",
    ] {
        assert!(k.iter().any(|x| x == kind), "{kind} missing from {k:?}");
    }
    let reads = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "RecordAccessed")
        .count();
    assert_eq!(reads, 3, "doctor once, patient once, medic once");
}

#[test]
fn an_expired_grant_reads_nothing() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    std::fs::write(dir.path().join("note.txt"), b"synthetic note").unwrap();
    u[2].json(&["record", "add", "note.txt"]);
    u[2].json(&["grant", &chain.addresses[3], "--expires", "1h"]);
    u[3].json(&["record", "get", "1", "-o", "ok.txt"]);
    chain.rpc("evm_increaseTime", serde_json::json!([7200]));
    chain.rpc("evm_mine", serde_json::json!([]));
    let err = u[3].fails(&["record", "get", "1", "-o", "late.txt"]);
    assert!(err.contains("access denied"), "{err}");
    assert!(!dir.path().join("late.txt").exists());
    assert_eq!(
        u[2].json(&["grants", "list"])["grants"][0]["status"],
        "expired"
    );
}

#[test]
fn watch_prints_events_as_they_are_mined() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let head = chain
        .rpc("eth_blockNumber", serde_json::json!([]))
        .as_str()
        .map(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).unwrap())
        .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("careledger");
    let watcher = std::process::Command::new(bin)
        .args(["watch", "--count", "3", "--json", "--from-block"])
        .arg((head + 1).to_string())
        .env("CARELEDGER_RPC_URL", &chain.url)
        .env("CARELEDGER_DEPLOYMENT", dir.path().join("deployment.json"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::fs::write(dir.path().join("n.txt"), b"synthetic").unwrap();
    u[2].json(&["record", "add", "n.txt"]);
    u[2].json(&["grant", &chain.addresses[3], "--expires", "1d"]);
    let out = watcher.wait_with_output().unwrap();
    assert!(out.status.success());
    let kinds: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["RecordAdded", "KeyWrapped", "AccessGranted"]);
}

#[test]
fn a_keystore_signs_and_its_secret_never_shows() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let user = User {
        chain: &chain,
        dir: dir.path(),
        key: None,
    };
    let out = user
        .cmd()
        .args(["keys", "new", "me.json", "--json"])
        .env("CARELEDGER_PASSWORD", "correct horse")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let shown = user
        .cmd()
        .args(["keys", "show", "--json", "--keystore", "me.json"])
        .env("CARELEDGER_PASSWORD", "correct horse")
        .output()
        .unwrap();
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(created["address"], shown["address"]);
    assert_eq!(created["x25519PublicKey"], shown["x25519PublicKey"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("me.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let keystore = std::fs::read_to_string(dir.path().join("me.json")).unwrap();
    assert!(keystore.contains("scrypt") || keystore.contains("pbkdf2"));
    // Nothing printed contains anything resembling a 32-byte secret other than the public key.
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    let hexes: Vec<&str> = printed
        .split(|c: char| !c.is_ascii_hexdigit() && c != 'x')
        .filter(|w| w.len() == 66)
        .collect();
    assert_eq!(hexes, [created["x25519PublicKey"].as_str().unwrap()]);
}

#[test]
fn the_demo_tells_the_whole_story_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("careledger")
        .unwrap()
        .args(["demo", "--json", "--dir"])
        .arg(dir.path())
        .arg("--contracts")
        .arg(common::contracts())
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 22);
    assert!(steps.iter().all(|s| s["ok"] == true));
    // The demo's record is in the store only as ciphertext.
    let needle = b"Hemoglobin A1c";
    for block in std::fs::read_dir(dir.path().join("ipfs")).unwrap() {
        let bytes = std::fs::read(block.unwrap().path()).unwrap();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
}

#[test]
fn fhir_records_consents_and_audit_events() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let (patient, doctor) = (&u[2], &u[3]);
    std::fs::write(dir.path().join("note.txt"), b"synthetic discharge note").unwrap();
    let added = patient.json(&["record", "add", "note.txt", "--as-fhir"]);
    assert_eq!(added["kind"], "FHIR DocumentReference attachment");
    std::fs::write(
        dir.path().join("obs.json"),
        br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}}}]}"#,
    )
    .unwrap();
    let bundle = patient.json(&["record", "add", "obs.json"]);
    assert_eq!(bundle["kind"], "FHIR collection Bundle of 1 entries");

    patient.json(&["grant", &chain.addresses[3], "--expires", "7d"]);
    doctor.json(&["record", "get", "1", "-o", "note.fhir.json"]);
    let wrapped: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("note.fhir.json")).unwrap()).unwrap();
    assert_eq!(wrapped["resourceType"], "Bundle");
    let doc = &wrapped["entry"][0]["resource"];
    assert_eq!(doc["resourceType"], "DocumentReference");
    assert_eq!(doc["content"][0]["attachment"]["contentType"], "text/plain");

    let consents = patient.json(&["grants", "list", "--fhir"]);
    assert_eq!(consents["resourceType"], "Bundle");
    assert_eq!(consents["entry"][0]["resource"]["resourceType"], "Consent");
    assert_eq!(consents["entry"][0]["resource"]["status"], "active");
    let audit = patient.json(&["audit", "--fhir"]);
    let events = audit["entry"].as_array().unwrap();
    assert!(events
        .iter()
        .all(|e| e["resource"]["resourceType"] == "AuditEvent"));
    assert!(
        events.len() >= 6,
        "2 records, 2+2 keys, a grant, a read: {}",
        events.len()
    );
}

/// An account set up in the web app keeps its record key in a key file (the
/// app's backup, made by the vault's keyfile module compiled to WebAssembly): with
/// `--web-key` the CLI registers, adds and reads records with that key.
#[test]
fn an_account_from_the_web_app_reads_its_records_with_its_key_file() {
    use careledger_vault::{keyfile, ReaderKeypair};
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let web = ReaderKeypair::generate();
    let locked = keyfile::lock(&web.secret_bytes(), "correct horse").unwrap();
    std::fs::write(dir.path().join("backup.json"), locked).unwrap();
    let me = User {
        chain: &chain,
        dir: dir.path(),
        key: Some(chain.keys[5].clone()),
    };
    let with_key = |args: &[&str], passphrase: &str| {
        me.cmd()
            .args(args)
            .args(["--web-key", "backup.json", "--json"])
            .env("CARELEDGER_WEB_PASSPHRASE", passphrase)
            .output()
            .unwrap()
    };
    let json = |args: &[&str]| -> Value {
        let out = with_key(args, "correct horse");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };

    let public = format!("0x{}", alloy::hex::encode(web.public_key()));
    assert_eq!(json(&["keys", "show"])["x25519PublicKey"], public);
    json(&["patient", "register"]);
    std::fs::write(
        dir.path().join("note.txt"),
        "web-made account, CLI-read note",
    )
    .unwrap();
    let added = json(&["record", "add", "note.txt"]);
    let id = added["recordId"].as_str().unwrap().to_string();
    json(&["record", "get", &id, "-o", "back.txt"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("back.txt")).unwrap(),
        "web-made account, CLI-read note"
    );
    // A doctor granted from the CLI reads it with their own (derived) key.
    json(&["grant", &chain.addresses[3], "--expires", "1d"]);
    u[3].json(&["record", "get", &id, "-o", "doctor.txt"]);

    // Without the key file the derived key opens nothing; a wrong passphrase is a
    // clear error. Neither panics, and neither writes an output file.
    let err = me.fails(&["record", "get", &id, "-o", "nokey.txt"]);
    assert!(err.contains("--web-key"), "{err}");
    let out = with_key(&["record", "get", &id, "-o", "wrong.txt"], "not the one");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--web-key") && stderr.contains("passphrase"),
        "{stderr}"
    );
    assert!(!dir.path().join("nokey.txt").exists());
    assert!(!dir.path().join("wrong.txt").exists());
}

#[test]
fn a_verifier_checks_the_salted_licence_commitment() {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let (verifier, newcomer) = (&u[1], &u[5]);
    let n = &chain.addresses[5];

    // A fresh salt: only the salted commitment is on chain, the salt is printed.
    let reg = newcomer.json(&["doctor", "register", "--licence", "GMC-4242424"]);
    let salt = reg["licenceSalt"]
        .as_str()
        .expect("licenceSalt")
        .to_string();
    assert_eq!(salt.len(), 66, "{reg}");
    let on_chain: alloy::primitives::B256 = reg["licenceHash"].as_str().unwrap().parse().unwrap();
    assert_ne!(on_chain, alloy::primitives::keccak256("GMC-4242424"));
    assert_eq!(
        on_chain,
        careledger_cli::cmd::roles::licence_commitment(&salt.parse().unwrap(), "GMC-4242424")
    );

    // The verifier, handed licence and salt off chain, checks them against the chain.
    let ok = verifier.json(&[
        "doctor",
        "check-licence",
        n,
        "--licence",
        "gmc-4242424 ",
        "--salt",
        &salt,
    ]);
    assert_eq!(ok["matches"], true, "{ok}");
    let wrong_licence = verifier.fails(&[
        "doctor",
        "check-licence",
        n,
        "--licence",
        "GMC-4242425",
        "--salt",
        &salt,
    ]);
    assert!(wrong_licence.contains("does not match"), "{wrong_licence}");
    let other_salt = format!("0x{}", "5a".repeat(32));
    let wrong_salt = verifier.fails(&[
        "doctor",
        "check-licence",
        n,
        "--licence",
        "GMC-4242424",
        "--salt",
        &other_salt,
    ]);
    assert!(wrong_salt.contains("does not match"), "{wrong_salt}");
    // A stranger has no commitment at all; a malformed salt is refused before any read.
    let stranger = verifier.fails(&[
        "doctor",
        "check-licence",
        &chain.addresses[2],
        "--licence",
        "GMC-4242424",
        "--salt",
        &salt,
    ]);
    assert!(
        stranger.contains("not registered as a doctor"),
        "{stranger}"
    );
    assert!(common::refused_by_clap(
        verifier,
        &[
            "doctor",
            "check-licence",
            n,
            "--licence",
            "GMC-4242424",
            "--salt",
            "0x12"
        ]
    )
    .contains("32 bytes"));

    // A reused salt gives the same commitment for the same licence.
    let again = u[0].json(&[
        "doctor",
        "register",
        "--licence",
        "GMC-1000",
        "--licence-salt",
        &other_salt,
    ]);
    assert_eq!(again["licenceSalt"], other_salt.as_str());
    assert_eq!(
        again["licenceHash"].as_str().unwrap(),
        careledger_cli::cmd::roles::licence_commitment(&other_salt.parse().unwrap(), "GMC-1000")
            .to_string()
    );
}
