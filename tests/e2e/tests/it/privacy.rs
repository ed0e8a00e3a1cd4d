//! The privacy scan: a canary inside two records, the whole story around them,
//! then every place the system writes searched for it. Nothing may hold it but the
//! patient's originals and the doctor's decrypted copies.

use careledger_e2e::cli::World;
use careledger_e2e::notifier::Notifier;
use careledger_e2e::scan::Scan;
use careledger_e2e::smtp::Smtp;
use careledger_e2e::Net;
use std::time::{Duration, Instant};

#[test]
fn no_trace_of_a_record_outside_its_readers() {
    // A fresh canary per run: no earlier run's copy can hide a leak or fake one.
    let canary = format!(
        "CANARY-{}-ANAEMIA-FOLLOW-UP",
        alloy::hex::encode(rand_bytes())
    );
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let smtp = Smtp::start(dir.path());
    let notifier = Notifier::start(&world, smtp.port);
    let patient = world.patient();
    let doctor = world.doctor("GMC-PRIV-1");
    let medic = world.doctor("GMC-PRIV-2");
    for (u, email) in [
        (&patient, "patient@example.org"),
        (&doctor, "doctor@example.org"),
        (&medic, "medic@example.org"),
    ] {
        notifier.register(u, email);
    }

    // The canary in a FHIR Bundle, and in a text file wrapped as a DocumentReference
    // (base64 inside the Bundle).
    let originals = dir.path().join("originals");
    std::fs::create_dir(&originals).unwrap();
    let bundle = serde_json::json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [{"resource": {"resourceType": "Observation", "status": "final",
            "code": {"text": "Ferritin"}, "note": [{"text": canary}]}}]
    });
    std::fs::write(originals.join("labs.json"), bundle.to_string()).unwrap();
    std::fs::write(
        originals.join("letter.txt"),
        format!("Dear colleague,\n{canary}\nRegards\n"),
    )
    .unwrap();
    let r1 = patient.json(&["record", "add", "originals/labs.json", "--category", "lab"]);
    let r2 = patient.json(&["record", "add", "originals/letter.txt", "--as-fhir"]);
    // A sensitive category: only the patient's own code of it may reach the chain.
    patient.json(&[
        "record",
        "add",
        "originals/letter.txt",
        "--as-fhir",
        "--category",
        "HIV",
    ]);
    let (id1, id2) = (
        r1["recordId"].as_str().unwrap().to_string(),
        r2["recordId"].as_str().unwrap().to_string(),
    );

    // The whole story around them.
    let token = patient.json(&["grant", &doctor.addr(), "--expires", "30d"])["tokenId"]
        .as_str()
        .unwrap()
        .to_string();
    let copies = dir.path().join("copies");
    std::fs::create_dir(&copies).unwrap();
    doctor.json(&["record", "get", &id1, "-o", "copies/labs.json"]);
    doctor.json(&["record", "get", &id2, "-o", "copies/letter.json"]);
    doctor.json(&["record", "list", &patient.addr()]);
    let relative = world.patient();
    patient.json(&["emergency", "custodians", "set", &relative.addr()]);
    medic.json(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "unconscious",
    ]);
    relative.json(&["custodian", "watch", "--once"]);
    medic.json(&["record", "get", &id1, "-o", "copies/medic-labs.json"]);
    patient.json(&["emergency", "close", &medic.addr()]);
    patient.json(&["revoke", &token]);
    patient.json(&["record", "rekey", &id1]);
    patient.json(&["audit"]);
    patient.json(&["audit", "--fhir"]);
    patient.json(&["grants", "list", "--fhir"]);
    doctor.json(&["grants", "list", "--received"]);
    patient.json(&[
        "grant",
        &medic.addr(),
        "--scope",
        "category:psychiatry",
        "--expires",
        "30d",
    ]);
    // Mails for: grant, two new records (the grant came after them: none), the
    // emergency, the revocation.
    smtp.wait_for_to("doctor@example.org", 2);
    smtp.wait_for_to("patient@example.org", 1);
    wait_idle(&notifier);

    // The scanner finds the canary where it must be: a positive control.
    let mut control = Scan::new(&canary);
    control.dir(&copies);
    assert!(
        control.hits.len() >= 3,
        "the decrypted copies hold the canary: {:?}",
        control.hits
    );

    let mut scan = Scan::new(&canary);
    scan.chain(&net, &world.contracts());
    if let Some(data_dir) = net.data_dir() {
        scan.dir(data_dir);
    }
    scan.dir(&world.store());
    scan.dir(&smtp.maildir);
    scan.bytes("careledger's output", &std::fs::read(&world.log).unwrap());
    scan.bytes("notifier log", &std::fs::read(&notifier.log).unwrap());
    for f in ["notifier.sqlite", "notifier.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            scan.bytes(f, &bytes);
        }
    }
    println!("privacy scan read {}", scan.summary());
    assert!(scan.hits.is_empty(), "the canary leaked: {:#?}", scan.hits);
    for kind in ["blocks", "logs", "storage slots", "files"] {
        assert!(
            scan.read.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} read"
        );
    }
    assert!(smtp.mails().len() >= 3);

    // A dictionary of category names recovers nothing from the chain: no name's
    // keccak-256 (the old codes) and no name as a bytes32 in any block, calldata,
    // log or storage slot.
    let mut dictionary = Scan::words(DICTIONARY.iter().copied());
    dictionary.chain(&net, &world.contracts());
    assert!(
        dictionary.hits.is_empty(),
        "category names are recoverable from the chain: {:#?}",
        dictionary.hits
    );
}

/// The category names the tests use, and careledger-vault's COMMON_CATEGORIES.
const DICTIONARY: &[&str] = &[
    "lab",
    "imaging",
    "cardio",
    "HIV",
    "hiv",
    "psychiatry",
    "prescription",
    "letter",
    "vaccination",
    "allergy",
    "genetics",
    "discharge",
    "referral",
    "surgery",
    "oncology",
    "cardiology",
    "pregnancy",
    "sexual-health",
    "mental-health",
    "dental",
];

fn wait_idle(notifier: &Notifier) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let h = notifier.health();
        if h["outbox"]["pending"] == 0 && h["outbox"]["sending"] == 0 && h["lagBlocks"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the notifier is not idle: {h}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn rand_bytes() -> [u8; 8] {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let mut b = [0u8; 8];
    b.copy_from_slice(&(t.as_nanos() as u64 ^ std::process::id() as u64).to_le_bytes());
    b
}
