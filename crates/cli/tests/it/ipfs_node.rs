//! Records through a real IPFS node (js-ipfs, kubo's RPC API), CAR files, a node
//! that lies about what it stored, and a pinning service.

use crate::common;

use common::{deployed, serve, Chain, JsIpfs, ServedStore};

#[test]
fn a_doctor_with_an_empty_store_reads_through_the_node() {
    let ipfs = JsIpfs::start();
    reads_through(&ipfs.api);
}

/// The same through `careledger ipfs serve` on a store of its own: its
/// dag/import and dag/export are what the CLI's kubo client calls.
#[test]
fn a_doctor_with_an_empty_store_reads_through_another_clis_ipfs_serve() {
    let served = ServedStore::start();
    reads_through(&served.api);
}

/// Patient adds through the node at `api`; a doctor with an empty store reads
/// through it, and again after losing a block.
fn reads_through(api: &str) {
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    let original: Vec<u8> = (0..600_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(dir.path().join("r.bin"), &original).unwrap();
    let added = u[2].json(&["record", "add", "r.bin", "--ipfs-api", api]);
    u[2].json(&["grant", &chain.addresses[3], "--expires", "1d"]);
    // The doctor's machine has nothing locally: everything comes from the node.
    let got = u[3].json(&[
        "record",
        "get",
        "1",
        "-o",
        "copy.bin",
        "--ipfs-api",
        api,
        "--store",
        "doctor-store",
    ]);
    assert_eq!(got["cid"], added["cid"]);
    assert!(std::fs::read(dir.path().join("copy.bin")).unwrap() == original);
    // A store that lost a block below the root fetches the DAG again.
    let leaf = common::raw_leaf(&dir.path().join("doctor-store"));
    std::fs::remove_file(leaf).unwrap();
    u[3].json(&[
        "record",
        "get",
        "1",
        "-o",
        "copy2.bin",
        "--ipfs-api",
        api,
        "--store",
        "doctor-store",
    ]);
    assert!(std::fs::read(dir.path().join("copy2.bin")).unwrap() == original);

    // CAR out of one store and into another gives the same DAG.
    let cid = added["cid"].as_str().unwrap();
    u[2].json(&["ipfs", "export", cid, "-o", "r.car"]);
    let imported = u[2].json(&["ipfs", "import", "r.car", "--store", "other-store"]);
    assert_eq!(imported["roots"][0], cid);
}

#[test]
fn a_node_that_reports_another_root_stops_the_record_before_the_chain() {
    let liar = serve(|_, path, _| {
        if path.starts_with("/api/v0/dag/import") {
            // Claims to have stored "hello world" whatever it was sent.
            (200, r#"{"Root":{"Cid":{"/":"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"},"PinErrorMsg":""}}"#.into())
        } else {
            (
                404,
                r#"{"Message":"no such endpoint","Code":0,"Type":"error"}"#.into(),
            )
        }
    });
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    std::fs::write(dir.path().join("r.txt"), b"synthetic").unwrap();
    let err = u[2].fails(&["record", "add", "r.txt", "--ipfs-api", &liar]);
    assert!(err.contains("reported roots"), "{err}");
    let listed = u[2].json(&["record", "list"]);
    assert_eq!(
        listed["records"].as_array().unwrap().len(),
        0,
        "nothing on chain"
    );
    assert!(u[2]
        .fails(&[
            "ipfs",
            "cat",
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
            "-o",
            "x",
            "--ipfs-api",
            &liar
        ])
        .contains("dag/export"));
}

#[test]
fn a_pinning_service_is_asked_to_keep_a_record() {
    let service = serve(|method, path, body| match (method, path) {
        ("POST", "/pins") => {
            let pin: serde_json::Value = serde_json::from_str(body).unwrap();
            let answer = serde_json::json!({"requestid": "r-1", "status": "pinned",
                "created": "2026-11-25T00:00:00Z", "pin": pin, "delegates": []});
            (202, answer.to_string())
        }
        _ => (404, r#"{"error":{"reason":"NOT_FOUND"}}"#.into()),
    });
    let chain = Chain::start();
    let dir = tempfile::tempdir().unwrap();
    let u = deployed(&chain, dir.path());
    std::fs::write(dir.path().join("r.txt"), b"synthetic").unwrap();
    let added = u[2].json(&["record", "add", "r.txt"]);
    let cid = added["cid"].as_str().unwrap();
    let pinned = u[2]
        .cmd()
        .args(["ipfs", "pin", cid, "--service", &service, "--json"])
        .env("CARELEDGER_PIN_TOKEN", "secret-token")
        .output()
        .unwrap();
    assert!(
        pinned.status.success(),
        "{}",
        String::from_utf8_lossy(&pinned.stderr)
    );
    let pinned: serde_json::Value = serde_json::from_slice(&pinned.stdout).unwrap();
    assert_eq!(pinned["status"], "pinned");
    assert!(
        !String::from_utf8_lossy(&serde_json::to_vec(&pinned).unwrap()).contains("secret-token")
    );
    assert!(u[2]
        .fails(&["ipfs", "pin", cid, "--service", &service])
        .contains("CARELEDGER_PIN_TOKEN"));
}
