//! Issue 15's attacks, one test each, named after the attack, each showing it fail:
//! the real `careledger` and `careledger-notifier` binaries, the contracts' WASM on
//! a devnode (or the chain `STYLUS_RPC_URL` names), the embedded store, aiosmtpd.
//!
//! The attacker is a rogue doctor (a stolen doctor key), a rogue verifier or a
//! rogue owner. What must hold: the patient decides who reads.
//!
//! The attacks this file does not hold, because they need their own harness:
//! - a dictionary over public chain data (categories, licence numbers):
//!   `dictionary.rs` `enumerated_licence_numbers_do_not_reveal_a_doctors_licence`
//!   and `privacy.rs` `no_trace_of_a_record_outside_its_readers`;
//! - an owner that is a contract: `contract_owner.rs`
//!   `a_two_of_three_multisig_owns_careledger`;
//! - notices to an address nobody confirmed: `opt_in.rs`
//!   `notices_go_to_an_address_only_once_its_code_came_back`;
//! - keystores, the page's headers, `cat`'s bound: `crates/cli/tests`
//!   (`keystores_are_costly_private_and_bounded`,
//!   `ipfs_serve_web_sends_the_security_headers`,
//!   `ipfs_serve_cat_refuses_a_file_over_its_bound`); u64 nonces and the scope
//!   words of mails: `crates/notifier` unit tests.

use careledger_e2e::cli::{User, World};
use careledger_e2e::notifier::Notifier;
use careledger_e2e::smtp::Smtp;
use careledger_e2e::Net;
use serde_json::{json, Value};
use std::time::Duration;

/// A patient with one record (returned: its id) and `custodian` named.
fn patient_with_custodian<'w, 'n>(
    world: &'w World<'n>,
    custodian: &User,
) -> (User<'w, 'n>, String) {
    let patient = world.patient();
    let id = add(
        &patient,
        "note.txt",
        b"synthetic note for the attack tests\n",
    );
    patient.json(&["emergency", "custodians", "set", &custodian.addr()]);
    (patient, id)
}

fn add(u: &User, name: &str, bytes: &[u8]) -> String {
    std::fs::write(u.world.dir.join(name), bytes).unwrap();
    u.json(&["record", "add", name])["recordId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn open(doctor: &User, patient: &User) -> Value {
    doctor.json(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "unconscious",
    ])
}

fn released(custodian: &User) -> Vec<Value> {
    custodian.json(&["custodian", "watch", "--once"])["releases"]
        .as_array()
        .unwrap()
        .clone()
}

fn lower(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_lowercase()
}

// ---------------------------------------------------------------- 1. break-glass

/// A stolen doctor key opens on one patient after another: the 4th opening in a
/// rolling day reverts, whatever the patient; a day later it may open again.
#[test]
fn a_doctor_cannot_open_a_fourth_emergency_window_in_a_day() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let rogue = world.doctor("GMC-ROGUE");
    let relative = world.patient();
    let patients: Vec<User> = (0..10)
        .map(|_| {
            let p = world.patient();
            p.json(&["emergency", "custodians", "set", &relative.addr()]);
            p
        })
        .collect();
    for p in &patients[..3] {
        assert_eq!(open(&rogue, p)["reason"], 1);
    }
    for p in &patients[3..] {
        let err = rogue.fails(&["emergency", "open", &p.addr(), "--reason", "unconscious"]);
        assert!(err.contains("the most allowed"), "{err}");
    }
    // Rolling, not calendar: a day after the first openings, the doctor may open again.
    net.advance(Duration::from_secs(24 * 3600 + 60));
    open(&rogue, &patients[3]);
}

/// The patient closes the window; re-opening at once would undo the close. It
/// reverts until the patient lifts the bar.
#[test]
fn a_closed_window_cannot_be_reopened_until_the_patient_lifts_the_bar() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let relative = world.patient();
    let (patient, _) = patient_with_custodian(&world, &relative);
    let rogue = world.doctor("GMC-ROGUE");
    let other = world.doctor("GMC-OTHER");
    open(&rogue, &patient);
    let closed = patient.json(&["emergency", "close", &rogue.addr()]);
    assert!(closed["barredUntil"].as_u64().unwrap() > 0);
    let err = rogue.fails(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "life-threatening",
    ]);
    assert!(err.contains("barred"), "{err}");
    // The bar is on that doctor alone.
    open(&other, &patient);
    // Still barred a week later.
    net.advance(Duration::from_secs(7 * 24 * 3600));
    let err = rogue.fails(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "unconscious",
    ]);
    assert!(err.contains("barred"), "{err}");
    patient.json(&["emergency", "lift", &rogue.addr()]);
    open(&rogue, &patient);
}

/// A patient who named no custodian cannot be opened at all: no key could reach
/// the doctor, and the window would only tell who was looking.
#[test]
fn a_patient_without_custodians_cannot_be_opened() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let patient = world.patient();
    let rogue = world.doctor("GMC-ROGUE");
    let err = rogue.fails(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "unconscious",
    ]);
    assert!(err.contains("named no emergency custodian"), "{err}");
    // Naming one and clearing the list turns break-glass off again.
    let relative = world.patient();
    patient.json(&["emergency", "custodians", "set", &relative.addr()]);
    patient.json(&["emergency", "custodians", "clear"]);
    let err = rogue.fails(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "unconscious",
    ]);
    assert!(err.contains("named no emergency custodian"), "{err}");
}

/// The patient's own client must not hand keys to whoever opened a window:
/// `grants sync` wraps nothing for an opener unless the patient names it.
#[test]
fn grants_sync_without_confirmation_wraps_nothing_for_the_opener() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let relative = world.patient();
    let (patient, id) = patient_with_custodian(&world, &relative);
    let rogue = world.doctor("GMC-ROGUE");
    open(&rogue, &patient);
    let synced = patient.json(&["grants", "sync"]);
    assert_eq!(synced["sharedRecords"], json!([]));
    assert_eq!(
        lower(&synced["openEmergencyNotShared"][0]),
        rogue.addr().to_lowercase()
    );
    // A record added during the window is not wrapped for the opener either.
    let later = add(&patient, "later.txt", b"a later synthetic note\n");
    for rid in [&id, &later] {
        let err = rogue.fails(&["record", "get", rid, "-o", "stolen.txt"]);
        assert!(err.contains("no key for record"), "{err}");
    }
    assert!(!world.dir.join("stolen.txt").exists());
    // Naming the doctor is the confirmation: then, and only then, it gets keys.
    let confirmed = patient.json(&["grants", "sync", "--confirm-emergency", &rogue.addr()]);
    assert_eq!(confirmed["sharedRecords"], json!([id, later]));
    rogue.read(&id, "confirmed.txt");
    // A doctor without an open window cannot be confirmed.
    let stranger = world.doctor("GMC-STRANGER");
    let err = patient.fails(&["grants", "sync", "--confirm-emergency", &stranger.addr()]);
    assert!(err.contains("no open emergency window"), "{err}");
}

/// The custodian's agent releases keys only while the chain shows the window
/// open and the opener verified; the patient is mailed; after the window the
/// doctor is refused and nothing more is released.
#[test]
fn the_custodian_releases_keys_only_inside_the_window() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let smtp = Smtp::start(dir.path());
    let notifier = Notifier::start(&world, smtp.port);
    let relative = world.patient();
    let (patient, id) = patient_with_custodian(&world, &relative);
    notifier.register(&patient, "patient@example.org");
    let medic = world.doctor("GMC-MEDIC");

    // Before any window: nothing to release, and the chain refuses a release.
    assert!(released(&relative).is_empty());

    open(&medic, &patient);
    let alert = &smtp.wait_for_to("patient@example.org", 1)[0];
    assert!(
        alert.subject.contains("emergency access"),
        "{}",
        alert.subject
    );
    let r = released(&relative);
    assert_eq!(r.len(), 1);
    assert_eq!(lower(&r[0]["doctor"]), medic.addr().to_lowercase());
    assert_eq!(r[0]["released"], json!([id]));
    assert_eq!(
        std::fs::read(world.dir.join("note.txt")).unwrap(),
        medic.read(&id, "medic-copy.txt")
    );
    // The patient hears of the release too (one mail for the opening, one for the key).
    let mails = smtp.wait_for_to("patient@example.org", 2);
    assert!(
        mails.iter().any(|m| m.raw.contains(&relative.addr())),
        "no release mail"
    );
    // A second pass releases nothing new.
    assert_eq!(released(&relative)[0]["released"], json!([]));

    // The window ends (4 hours): refused, and nothing more is released, not even
    // a record added afterwards (wrapped for the custodian, as every record is).
    net.advance(Duration::from_secs(4 * 3600 + 60));
    assert!(medic.refused(&id));
    let later = add(&patient, "after.txt", b"a note after the window\n");
    assert!(released(&relative).is_empty());
    let err = medic.fails(&["record", "get", &later, "-o", "after-copy.txt"]);
    assert!(err.contains("access denied"), "{err}");

    // A custodian of another patient, or one removed, releases nothing either.
    open(&medic, &patient);
    patient.json(&["emergency", "custodians", "clear"]);
    assert!(released(&relative).is_empty());
    let h = notifier.health();
    assert_eq!(h["outbox"]["failed"], 0, "{h}");
}

/// `pause` (the owner's) stops new emergency windows and new grants, while the
/// patient's own protections (revoke, close) go on.
#[test]
fn pause_stops_new_windows_and_new_grants() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let owner = world.user(world.owner.clone());
    let relative = world.patient();
    let (patient, _) = patient_with_custodian(&world, &relative);
    let doctor = world.doctor("GMC-1");
    let token = patient.json(&["grant", &doctor.addr(), "--expires", "30d"])["tokenId"]
        .as_str()
        .unwrap()
        .to_string();
    open(&doctor, &patient);
    owner.json(&["pause"]);
    let err = doctor.fails(&[
        "emergency",
        "open",
        &patient.addr(),
        "--reason",
        "unconscious",
    ]);
    assert!(err.contains("paused"), "{err}");
    let err = patient.fails(&["grant", &doctor.addr(), "--expires", "30d"]);
    assert!(err.contains("paused"), "{err}");
    patient.json(&["emergency", "close", &doctor.addr()]);
    patient.json(&["revoke", &token]);
    owner.json(&["unpause"]);
    patient.json(&["grant", &doctor.addr(), "--expires", "30d"]);
}

// ---------------------------------------------------------------- 2. verification

/// A rogue verifier vouches for a fake doctor alone: under a quorum of two it
/// stays pending, and no grant can reach it.
#[test]
fn one_verifier_cannot_verify_a_doctor_alone_under_a_quorum() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let owner = world.user(world.owner.clone());
    let second = world.user(net.account(false));
    owner.json(&["verifier", "add", &second.addr()]);
    owner.json(&["verifier", "threshold", "2"]);
    let fake = world.user(net.account(false));
    fake.json(&["doctor", "register", "--licence", "FAKE-1"]);
    let rogue = world.user(world.verifier.clone());
    let v = rogue.json(&["doctor", "verify", &fake.addr()]);
    assert_eq!(v["status"], "pending verification");
    let err = rogue.fails(&["doctor", "verify", &fake.addr()]);
    assert!(err.contains("already approved"), "{err}");
    let patient = world.patient();
    let err = patient.fails(&["grant", &fake.addr(), "--expires", "30d"]);
    assert!(err.contains("not a verified doctor"), "{err}");
    // A second, distinct verifier completes it.
    assert_eq!(
        second.json(&["doctor", "verify", &fake.addr()])["status"],
        "verified"
    );
}

/// A rogue verifier reinstates a doctor another verifier suspended: under a
/// quorum of two, it cannot do it alone.
#[test]
fn one_verifier_cannot_undo_another_verifiers_suspension() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let owner = world.user(world.owner.clone());
    let (a, b) = (
        world.user(world.verifier.clone()),
        world.user(net.account(false)),
    );
    owner.json(&["verifier", "add", &b.addr()]);
    owner.json(&["verifier", "threshold", "2"]);
    let doctor = world.user(net.account(false));
    doctor.json(&["doctor", "register", "--licence", "GMC-9"]);
    a.json(&["doctor", "verify", &doctor.addr()]);
    b.json(&["doctor", "verify", &doctor.addr()]);
    b.json(&["doctor", "suspend", &doctor.addr()]);
    assert_eq!(
        a.json(&["doctor", "verify", &doctor.addr()])["status"],
        "suspended"
    );
    assert_eq!(
        doctor.json(&["doctor", "status", &doctor.addr()])["status"],
        "suspended"
    );
    let patient = world.patient();
    let err = patient.fails(&["grant", &doctor.addr(), "--expires", "30d"]);
    assert!(err.contains("not a verified doctor"), "{err}");
}

/// A rogue owner appoints itself verifier to vouch for its own doctors.
#[test]
fn the_owner_cannot_make_itself_a_verifier() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let owner = world.user(world.owner.clone());
    let err = owner.fails(&["verifier", "add", &owner.addr()]);
    assert!(err.contains("one account cannot do both"), "{err}");
}

// ---------------------------------------------------------------- 4. smaller holes

alloy::sol! {
    function hasAccess(address patient, address doctor, uint256 recordId) external view returns (bool);
}

/// `AccessToken.hasAccess`, as an integrator's contract or client asks it.
fn has_access(world: &World, patient: &User, reader: &User, record: &str) -> bool {
    use alloy::sol_types::SolCall;
    let call = hasAccessCall {
        patient: patient.addr().parse().unwrap(),
        doctor: reader.addr().parse().unwrap(),
        recordId: record.parse().unwrap(),
    };
    let token = &world.contracts()[1];
    let out = world.net.rpc(
        "eth_call",
        json!([{"to": token, "data": alloy::hex::encode_prefixed(call.abi_encode())}, "latest"]),
    );
    let bytes = alloy::hex::decode(out.as_str().unwrap()).unwrap();
    hasAccessCall::abi_decode_returns(&bytes).unwrap()
}

/// A rogue doctor's sock-puppet patient grants it everything; an integrator
/// that gates on `hasAccess(puppet, doctor, victim's record)` must hear no.
#[test]
fn a_grant_from_a_sock_puppet_patient_does_not_open_another_patients_record() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let rogue = world.doctor("GMC-ROGUE");
    let puppet = world.patient();
    let victim = world.patient();
    let theirs = add(&victim, "victim.txt", b"the victim's synthetic note\n");
    let own = add(&puppet, "puppet.txt", b"the puppet's synthetic note\n");
    puppet.json(&["grant", &rogue.addr(), "--expires", "30d"]);
    puppet.json(&[
        "grant",
        &rogue.addr(),
        "--expires",
        "30d",
        "--scope",
        &format!("records:{own},{theirs}"),
    ]);
    assert!(
        has_access(&world, &puppet, &rogue, &own),
        "the puppet's own record"
    );
    assert!(
        !has_access(&world, &puppet, &rogue, &theirs),
        "the victim's record"
    );
    assert!(!has_access(&world, &puppet, &puppet, &theirs));
    assert!(!has_access(&world, &victim, &rogue, &theirs));
    assert!(has_access(&world, &victim, &victim, &theirs));
    assert!(rogue.refused(&theirs));
}

/// Expired grants burnt to make room for a new one each say so on chain: the
/// patient's and the doctor's lists show them ended, none vanishes or fails.
#[test]
fn an_expired_grant_burnt_for_a_new_one_is_reported_ended() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let patient = world.patient();
    let doctor = world.doctor("GMC-1");
    for _ in 0..8 {
        patient.json(&["grant", &doctor.addr(), "--expires", "1h"]);
    }
    net.advance(Duration::from_secs(2 * 3600));
    patient.json(&["grant", &doctor.addr(), "--expires", "30d"]);
    for (who, args) in [
        (&patient, vec!["grants", "list"]),
        (&doctor, vec!["grants", "list", "--received"]),
    ] {
        let rows = who.json(&args)["grants"].as_array().unwrap().clone();
        let status: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(status.len(), 9, "{rows:?}");
        assert_eq!(
            status.iter().filter(|s| **s == "expired").count(),
            8,
            "{status:?}"
        );
        assert_eq!(
            status.iter().filter(|s| **s == "active").count(),
            1,
            "{status:?}"
        );
    }
}
