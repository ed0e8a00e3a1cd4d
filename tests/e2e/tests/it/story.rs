//! CareLedger end to end: the real `careledger` and `careledger-notifier` binaries,
//! the contracts' WASM on a devnode (or the chain `STYLUS_RPC_URL` names), the
//! embedded IPFS store and aiosmtpd. Nothing here knows which chain it runs on.

use careledger_e2e::cli::{User, World};
use careledger_e2e::notifier::Notifier;
use careledger_e2e::smtp::{Mail, Smtp};
use careledger_e2e::Net;
use serde_json::Value;
use std::time::Duration;

/// A FHIR R4 Bundle with one Observation (synthetic data).
fn lab_bundle(value: &str) -> Vec<u8> {
    serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "Haemoglobin"},
            "valueQuantity": {"value": 13.1, "unit": "g/dL"},
            "note": [{"text": value}]
        }}]
    })
    .to_string()
    .into_bytes()
}

/// Writes `bytes` into the world's dir as `name` and adds it as a record.
fn add(u: &User, name: &str, bytes: &[u8], category: &str) -> Value {
    std::fs::write(u.world.dir.join(name), bytes).unwrap();
    u.json(&["record", "add", name, "--category", category])
}

fn kinds(audit: &Value) -> Vec<String> {
    audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Mails carry who and when, never what: no CID, no record content.
fn assert_no_content(mails: &[Mail], forbidden: &[&str]) {
    for m in mails {
        for f in forbidden {
            assert!(!m.raw.contains(f), "{f:?} in a mail: {}", m.raw);
        }
    }
}

#[test]
fn a_patient_shares_with_a_verified_doctor_who_is_told_by_mail() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let smtp = Smtp::start(dir.path());
    let notifier = Notifier::start(&world, smtp.port);
    let patient = world.patient();
    let doctor = world.doctor("GMC-7000001");
    let medic = world.doctor("GMC-7000002");
    for (u, email) in [
        (&patient, "patient@example.org"),
        (&doctor, "doctor@example.org"),
        (&medic, "medic@example.org"),
    ] {
        notifier.register(u, email);
    }
    // The verifier's work is on chain for anyone to see.
    let status = patient.json(&["doctor", "status", &doctor.addr()]);
    assert_eq!(status["status"], "verified", "{status}");

    let labs = lab_bundle("fasting sample");
    let first = add(&patient, "labs.json", &labs, "lab");
    assert_eq!(first["readers"].as_array().unwrap().len(), 1);
    let cid = first["cid"].as_str().unwrap().to_string();
    let id = first["recordId"].as_str().unwrap().to_string();

    // Before a grant: listed, unreadable, and nobody is mailed.
    assert!(doctor.refused(&id));
    let granted = patient.json(&[
        "grant",
        &doctor.addr(),
        "--scope",
        "category:lab",
        "--expires",
        "30d",
    ]);
    assert_eq!(granted["sharedRecords"], serde_json::json!([id]));
    let mail = &smtp.wait_for_to("doctor@example.org", 1)[0];
    assert!(
        mail.subject
            .contains(&format!("access granted by patient {}", patient.addr())),
        "{}",
        mail.subject
    );
    assert!(mail.raw.contains("careledger grants list --received"));
    assert_eq!(doctor.read(&id, "doctor-labs.json"), labs);

    // A new record in the granted category: wrapped for the doctor, who hears of it.
    let second = add(&patient, "labs-2.json", &lab_bundle("second sample"), "lab");
    let second_id = second["recordId"].as_str().unwrap().to_string();
    assert_eq!(second["readers"].as_array().unwrap().len(), 2);
    let mails = smtp.wait_for_to("doctor@example.org", 2);
    assert!(mails.iter().any(|m| m.subject.contains("new record")));
    assert_eq!(
        doctor.read(&second_id, "doctor-labs-2.json"),
        lab_bundle("second sample")
    );

    // Break-glass by a doctor without a grant, on a patient who named a relative as
    // emergency custodian: the patient is alerted at once, and the keys come from
    // the custodian's agent, not from the patient's client.
    assert!(medic.refused(&id));
    let relative = world.patient();
    patient.json(&["emergency", "custodians", "set", &relative.addr()]);
    medic.json(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "unconscious",
    ]);
    let alert = &smtp.wait_for_to("patient@example.org", 1)[0];
    assert!(
        alert.subject.contains(&format!(
            "emergency access opened by doctor {}",
            medic.addr()
        )),
        "{}",
        alert.subject
    );
    relative.json(&["custodian", "watch", "--once"]);
    assert_eq!(medic.read(&id, "medic-labs.json"), labs);
    patient.json(&["emergency", "close", &medic.addr()]);
    assert!(medic.refused(&id));

    // Revocation: refused at once, and told.
    patient.json(&["revoke", granted["tokenId"].as_str().unwrap()]);
    assert!(doctor.refused(&id));
    let mails = smtp.wait_for_to("doctor@example.org", 3);
    assert!(mails.iter().any(|m| m.subject.contains("revoked")));

    let audit = patient.json(&["audit"]);
    let k = kinds(&audit);
    for kind in [
        "RecordAdded",
        "AccessGranted",
        "RecordAccessed",
        "EmergencyAccess",
        "EmergencyAccessClosed",
        "AccessRevoked",
    ] {
        assert!(k.iter().any(|x| x == kind), "{kind} missing from {k:?}");
    }
    let all = smtp.mails();
    assert_no_content(&all, &[&cid, "fasting", "Haemoglobin", "13.1"]);
    let h = notifier.health();
    assert_eq!(h["outbox"]["failed"], 0, "{h}");
}

#[test]
fn a_grant_ends_when_the_chain_passes_its_expiry() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let patient = world.patient();
    let doctor = world.doctor("GMC-1");
    let labs = lab_bundle("expiry");
    let id = add(&patient, "labs.json", &labs, "lab")["recordId"]
        .as_str()
        .unwrap()
        .to_string();
    patient.json(&["grant", &doctor.addr(), "--expires", "40s"]);
    assert_eq!(doctor.read(&id, "before.json"), labs);
    let listed = doctor.json(&["grants", "list", "--received"]);
    assert_eq!(listed["grants"][0]["status"], "active", "{listed}");

    net.advance(Duration::from_secs(45));
    assert!(doctor.refused(&id));
    let listed = patient.json(&["grants", "list"]);
    assert_eq!(listed["grants"][0]["status"], "expired", "{listed}");
    // A new grant opens it again: expiry is not a ban.
    patient.json(&["grant", &doctor.addr(), "--expires", "1d"]);
    assert_eq!(doctor.read(&id, "after.json"), labs);
}

#[test]
fn revocation_mid_session_then_rekey_for_the_remaining_readers() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let patient = world.patient();
    let gp = world.doctor("GMC-GP");
    let cardio = world.doctor("GMC-CARDIO");
    let ecg: Vec<u8> = (0..600_000u32).map(|i| (i * 31 % 253) as u8).collect();
    let id = add(&patient, "ecg.bin", &ecg, "cardio")["recordId"]
        .as_str()
        .unwrap()
        .to_string();
    let gp_grant = patient.json(&["grant", &gp.addr(), "--expires", "30d"]);
    patient.json(&[
        "grant",
        &cardio.addr(),
        "--scope",
        "category:cardio",
        "--expires",
        "30d",
    ]);

    // The GP is in the middle of reading when the patient revokes.
    assert_eq!(gp.read(&id, "gp-1.bin"), ecg);
    patient.json(&["revoke", gp_grant["tokenId"].as_str().unwrap()]);
    assert!(gp.refused(&id));
    let later = add(&patient, "ecg-2.bin", &ecg[..1000], "cardio");
    let readers: Vec<String> = later["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_lowercase())
        .collect();
    assert!(!readers.contains(&gp.addr().to_lowercase()), "{later}");
    assert!(readers.contains(&cardio.addr().to_lowercase()), "{later}");

    // Rekey: a new version under a fresh key for the patient and the cardiologist.
    let rekeyed = patient.json(&["record", "rekey", &id]);
    assert_eq!(rekeyed["version"], 2);
    assert_eq!(rekeyed["readers"].as_array().unwrap().len(), 2, "{rekeyed}");
    let got = cardio.json(&["record", "get", &id, "-o", "cardio.bin"]);
    assert_eq!(got["version"], 2);
    assert_eq!(std::fs::read(dir.path().join("cardio.bin")).unwrap(), ecg);
    assert!(gp.refused(&id));
}

#[test]
fn two_patients_three_doctors_with_overlapping_grants() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let (p1, p2) = (world.patient(), world.patient());
    let d = [world.doctor("D1"), world.doctor("D2"), world.doctor("D3")];

    // Records in the order their ids are assigned: r1, r2 by p1; r3, r4 by p2.
    let bodies: Vec<Vec<u8>> = (1..=4)
        .map(|i| lab_bundle(&format!("record {i}")))
        .collect();
    let records = [(&p1, "lab"), (&p1, "imaging"), (&p2, "lab"), (&p2, "notes")];
    let mut ids = Vec::new();
    for (i, (owner, category)) in records.iter().enumerate() {
        let r = add(owner, &format!("r{}.json", i + 1), &bodies[i], category);
        ids.push(r["recordId"].as_str().unwrap().to_string());
    }
    let grant = |p: &User, doc: &User, scope: &str| {
        p.json(&["grant", &doc.addr(), "--scope", scope, "--expires", "30d"])["tokenId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    grant(&p1, &d[0], "all");
    grant(&p1, &d[1], "category:lab");
    grant(&p2, &d[1], &format!("records:{}", ids[3]));
    let p2_d3 = grant(&p2, &d[2], "all");
    grant(&p2, &d[0], "category:lab");

    // Who may read what: rows are doctors, columns records r1..r4.
    let check = |expected: [[bool; 4]; 3], round: &str| {
        for (di, row) in expected.iter().enumerate() {
            for (ri, &may) in row.iter().enumerate() {
                if may {
                    let file = format!("{round}-d{}-r{}.json", di + 1, ri + 1);
                    assert_eq!(
                        d[di].read(&ids[ri], &file),
                        bodies[ri],
                        "D{} r{}",
                        di + 1,
                        ri + 1
                    );
                } else {
                    assert!(
                        d[di].refused(&ids[ri]),
                        "{round}: D{} must not read r{}",
                        di + 1,
                        ri + 1
                    );
                }
            }
        }
    };
    check(
        [
            [true, true, true, false],
            [true, false, false, true],
            [false, false, true, true],
        ],
        "first",
    );

    // p2 revokes D3: D3 loses both of p2's records; D1 still reads r3 by its own grant.
    p2.json(&["revoke", &p2_d3]);
    check(
        [
            [true, true, true, false],
            [true, false, false, true],
            [false, false, false, false],
        ],
        "after",
    );

    // Each patient's audit holds only their own history.
    let a1 = p1.json(&["audit"]);
    let a2 = p2.json(&["audit"]);
    let grants = |a: &Value| kinds(a).iter().filter(|k| *k == "AccessGranted").count();
    assert_eq!((grants(&a1), grants(&a2)), (2, 3));
}
