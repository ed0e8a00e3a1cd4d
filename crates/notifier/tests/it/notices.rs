//! Each kind of event reaches the right person with the right words, and
//! nothing from a record reaches a mail or a log; the directory refuses what
//! its owner did not sign.

use crate::common;

use common::smtp::Smtp;
use common::{
    http, post_json, readable, register_request, remove_request, request, Notifier, World,
};
use std::time::Duration;

const CANARY: &str = "CANARY-7f3a9c-HIV-POSITIVE";

#[tokio::test(flavor = "multi_thread")]
async fn grant_record_revoke_and_emergency_mail_the_right_people() {
    let world = World::start().await;
    let smtp = Smtp::start(world.dir.path());
    let mut notifier = Notifier::start(&world, smtp.port, &[]);
    // Through the CLI's `notify register` and `notify confirm`, as a user would.
    let notifier_url: careledger_cli::cli::NotifierUrl = notifier.url.parse().unwrap();
    let mut codes = Vec::new();
    for (i, email) in [
        (2, "patient@example.org"),
        (3, "doctor3@example.org"),
        (4, "doctor4@example.org"),
    ] {
        let pending =
            careledger_cli::cmd::notify::contact(&world.as_user(i), &notifier_url, Some(email))
                .await
                .unwrap();
        assert_eq!(pending.json["status"], "pending", "{}", pending.json);
        let code = smtp.take_code(email);
        let confirmed = careledger_cli::cmd::notify::confirm(
            &world.as_user(i),
            &notifier_url,
            &code.parse().unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(confirmed.json["status"], "confirmed");
        codes.push(code);
    }
    let refused =
        careledger_cli::cmd::notify::contact(&world.as_user(3), &notifier_url, Some("nope"))
            .await
            .unwrap_err()
            .to_string();
    assert!(
        refused.contains("HTTP 400") && refused.contains("not an email address"),
        "{refused}"
    );
    let (patient, doctor3, doctor4) = (
        world.chain.address(2),
        world.chain.address(3),
        world.chain.address(4),
    );

    use alloy::primitives::U256;
    use careledger_cli::cli::{Expiry, Scope};
    use careledger_cli::cmd::{grants, record};
    grants::grant(
        &world.as_user(2),
        doctor3,
        &Scope::All,
        Expiry::In(30 * 86_400),
    )
    .await
    .unwrap();
    let mails = smtp.wait_for(1, Duration::from_secs(30));
    assert_eq!(mails[0].to, "doctor3@example.org");
    assert!(
        mails[0].subject.contains(&patient.to_string()),
        "{}",
        mails[0].subject
    );
    let text = readable(&mails[0].raw);
    assert!(text.contains("access token #1"), "{text}");
    assert!(text.contains("to all of the patient's records"), "{text}");
    assert!(text.contains("careledger grants list --received"));

    // A record with a canary inside: the grantee hears of it, doctor 4 does not.
    let file = world.dir.path().join("labs.txt");
    std::fs::write(&file, format!("haemoglobin 13.1 g/dL\n{CANARY}\n")).unwrap();
    record::add(
        &world.as_user(2),
        &file,
        Some(&"lab".parse().unwrap()),
        false,
    )
    .await
    .unwrap();
    let mails = smtp.wait_for(2, Duration::from_secs(30));
    let new = mails
        .iter()
        .find(|m| m.subject.contains("new record"))
        .expect("a record notice");
    assert_eq!(new.to, "doctor3@example.org");
    assert!(
        readable(&new.raw).contains("careledger record get 1"),
        "{}",
        new.raw
    );

    grants::revoke(&world.as_user(2), U256::from(1))
        .await
        .unwrap();
    let mails = smtp.wait_for(3, Duration::from_secs(30));
    let revoked = mails
        .iter()
        .find(|m| m.subject.contains("revoked"))
        .expect("a revoke notice");
    assert_eq!(revoked.to, "doctor3@example.org");

    // Break-glass needs a custodian; naming one mails nobody.
    world.name_custodians(2, &[5]).await;
    // Reason 2: careledger_common::emergency_reason::LIFE_THREATENING.
    world.open_emergency(4, 2, 2).await;
    let mails = smtp.wait_for(4, Duration::from_secs(30));
    let alert = mails
        .iter()
        .find(|m| m.subject.contains("emergency"))
        .expect("an emergency alert");
    assert_eq!(alert.to, "patient@example.org");
    assert!(alert.subject.contains(&doctor4.to_string()));
    let text = readable(&alert.raw);
    assert!(
        text.contains("The stated reason: a life-threatening condition."),
        "{text}"
    );
    assert!(text.contains("only through your emergency custodians"));
    assert!(text.contains(&format!("careledger emergency close {doctor4}")));

    // A patient who never registered still causes a mail to a registered doctor.
    grants::grant(&world.as_user(5), doctor4, &Scope::All, Expiry::In(86_400))
        .await
        .unwrap();
    let mails = smtp.wait_for(5, Duration::from_secs(30));
    let h = notifier.wait_idle(5, Duration::from_secs(30));
    assert_eq!(mails.len(), 5, "{h}");
    assert_eq!(
        h["outbox"]["sent"],
        5 + 3,
        "five notices, three confirmations: {h}"
    );
    assert_eq!(h["websocket"], true, "{h}");
    let mut ids: Vec<_> = mails.iter().map(|m| m.message_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);

    for m in &mails {
        let text = readable(&m.raw);
        assert!(!text.contains(CANARY), "canary in a mail: {text}");
        assert!(!text.contains("haemoglobin"), "record content in a mail");
    }
    assert!(notifier.terminate().success(), "SIGTERM is a clean stop");
    let log = notifier.log_text();
    assert!(log.contains("stopped"), "{log}");
    assert!(!log.contains(CANARY) && !log.contains("haemoglobin"));
    assert!(
        !log.contains("doctor3@example.org"),
        "addresses stay out of the log"
    );
    for code in &codes {
        assert!(
            !log.contains(code.as_str()),
            "a confirmation code in the log"
        );
    }
}

/// A custodian's `wrapKeys` for an emergency opener: the patient hears, once,
/// which custodian released which record to which doctor, and nothing of the
/// record (no CID, no category, no content).
#[tokio::test(flavor = "multi_thread")]
async fn a_custodians_key_release_mails_the_patient_once_without_the_cid() {
    let world = World::start().await;
    let smtp = Smtp::start(world.dir.path());
    let mut notifier = Notifier::start(&world, smtp.port, &[]);
    let keys = &world.chain.keys;
    for (i, email) in [
        (2, "patient@example.org"),
        (4, "doctor4@example.org"),
        (5, "custodian@example.org"),
    ] {
        notifier.subscribe(&world, &smtp, &keys[i], email);
    }
    let (patient, doctor4, custodian) = (
        world.chain.address(2),
        world.chain.address(4),
        world.chain.address(5),
    );
    world.name_custodians(2, &[5]).await;
    let file = world.dir.path().join("allergies.txt");
    std::fs::write(&file, format!("penicillin: anaphylaxis\n{CANARY}\n")).unwrap();
    careledger_cli::cmd::record::add(
        &world.as_user(2),
        &file,
        Some(&"allergy".parse().unwrap()),
        false,
    )
    .await
    .unwrap();
    // Reason 1: careledger_common::emergency_reason::UNCONSCIOUS.
    world.open_emergency(4, 2, 1).await;
    world.release_key(5, 1, 1, 4).await;

    let mails = smtp.wait_for(2, Duration::from_secs(30));
    let h = notifier.wait_idle(2, Duration::from_secs(30));
    assert_eq!(smtp.mails().len(), 2, "the opening and the release: {h}");
    let alert = mails
        .iter()
        .find(|m| m.subject.contains("emergency access opened"))
        .expect("the emergency alert");
    assert_eq!(alert.to, "patient@example.org");
    assert!(readable(&alert.raw)
        .contains("The stated reason: the patient is unconscious or unable to consent."));
    let release = mails
        .iter()
        .find(|m| m.subject.contains("released a record key"))
        .expect("the key-release notice");
    assert_eq!(release.to, "patient@example.org", "the patient alone hears");
    assert!(release.subject.contains(&doctor4.to_string()));
    let text = readable(&release.raw);
    for words in [
        format!("Your emergency custodian {custodian} released the key"),
        "(record #1, version 1)".to_string(),
        format!("to doctor {doctor4} under emergency"),
        format!("careledger emergency close {doctor4}"),
    ] {
        assert!(text.contains(&words), "{words:?}: {text}");
    }

    // Nothing of the record: its CID (as text or bytes), its category, its content.
    use alloy::providers::ProviderBuilder;
    let provider = ProviderBuilder::new().connect_http(world.chain.url.parse().unwrap());
    let record =
        careledger_bindings::IRecordRegistry::new(world.deployment.record_registry, &provider)
            .getRecord(alloy::primitives::U256::from(1))
            .from(patient)
            .call()
            .await
            .unwrap();
    let cid = careledger_vault::ipfs::Cid::try_from(record._2.as_ref()).unwrap();
    let category = alloy::hex::encode(record._4);
    // The patient's HMAC code of "allergy", not a dictionary hash of it.
    assert!(!record._4.is_zero());
    assert_ne!(record._4, alloy::primitives::keccak256("allergy"));
    for m in &mails {
        let raw = readable(&m.raw).to_lowercase();
        assert!(
            !raw.contains(&cid.to_string().to_lowercase()),
            "a CID in {}",
            m.raw
        );
        assert!(
            !raw.contains(&alloy::hex::encode(&record._2)),
            "CID bytes in {}",
            m.raw
        );
        assert!(
            !raw.contains(&category) && !raw.contains("allerg"),
            "{}",
            m.raw
        );
        assert!(!raw.contains("categor"), "{}", m.raw);
        assert!(!raw.contains(&CANARY.to_lowercase()) && !raw.contains("penicillin"));
    }

    // Exactly once: a restart re-reads nothing into a second mail.
    notifier.kill();
    notifier.spawn();
    world.rpc("evm_mine", serde_json::json!([]));
    let h = notifier.wait_idle(0, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(smtp.mails().len(), 2, "{h}");
    let mut ids: Vec<_> = smtp.mails().into_iter().map(|m| m.message_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_refuses_forged_replayed_and_expired_requests() {
    let world = World::start().await;
    let smtp = Smtp::start(world.dir.path());
    let notifier = Notifier::start(&world, smtp.port, &[]);
    let keys = &world.chain.keys;
    let doctor = world.chain.address(3);
    let url = format!("{}/v1/contacts", notifier.url);
    let now = careledger_notifier::now();

    let good = register_request(
        &world,
        &keys[3],
        doctor,
        "doctor3@example.org",
        0,
        now + 300,
    );
    assert_eq!(post_json(&url, &good).0, 202);
    let (status, body) = post_json(&url, &good);
    assert_eq!(status, 409, "a replay is refused: {body}");
    let code = smtp.take_code("doctor3@example.org");
    assert_eq!(notifier.confirm(doctor, &code).0, 200);

    // Signed by doctor 4 in doctor 3's name: the hijack of someone's notices.
    let forged = register_request(&world, &keys[4], doctor, "thief@example.org", 1, now + 300);
    assert_eq!(post_json(&url, &forged).0, 401);
    // A valid signature over other words.
    let mut tampered = register_request(
        &world,
        &keys[3],
        doctor,
        "doctor3@example.org",
        1,
        now + 300,
    );
    tampered["email"] = "thief@example.org".into();
    assert_eq!(post_json(&url, &tampered).0, 401);
    let expired = register_request(&world, &keys[3], doctor, "doctor3@example.org", 1, now - 1);
    assert_eq!(post_json(&url, &expired).0, 400);
    let far = register_request(
        &world,
        &keys[3],
        doctor,
        "doctor3@example.org",
        1,
        now + 86_400 * 30,
    );
    assert_eq!(post_json(&url, &far).0, 400);
    let bad_email = register_request(&world, &keys[3], doctor, "not-an-address", 1, now + 300);
    let (status, body) = post_json(&url, &bad_email);
    assert_eq!(status, 400);
    assert!(
        !body.to_string().contains("not-an-address"),
        "input is not echoed: {body}"
    );
    let (status, _) = post_json(&url, &serde_json::json!({"account": "0x12"}));
    assert_eq!(status, 400);
    assert_eq!(
        http(
            "GET",
            &format!("{}/v1/contacts/0xzz/nonce", notifier.url),
            None
        )
        .0,
        400
    );
    assert_eq!(notifier.next_nonce(doctor), 1);

    // The forged registration did not take: the grant's mail goes to the doctor.
    careledger_cli::cmd::grants::grant(
        &world.as_user(2),
        doctor,
        &careledger_cli::cli::Scope::All,
        careledger_cli::cli::Expiry::In(86_400),
    )
    .await
    .unwrap();
    let mails = smtp.wait_for(1, Duration::from_secs(30));
    assert_eq!(mails[0].to, "doctor3@example.org");

    // Unregistered, the doctor gets nothing more; a replayed removal is refused.
    let remove = remove_request(&world, &keys[3], 1, now + 300);
    assert_eq!(post_json(&format!("{url}/remove"), &remove).0, 200);
    assert_eq!(post_json(&format!("{url}/remove"), &remove).0, 409);
    careledger_cli::cmd::grants::grant(
        &world.as_user(2),
        doctor,
        &careledger_cli::cli::Scope::All,
        careledger_cli::cli::Expiry::In(2 * 86_400),
    )
    .await
    .unwrap();
    let h = notifier.wait_idle(2, Duration::from_secs(30));
    assert_eq!(smtp.mails().len(), 1, "{h}");
    assert_eq!(h["counters"]["rejectedRequests"], 9, "{h}");

    // Nonces are u64 end to end: above 2^53 and up to u64::MAX, through the
    // JSON (a number, or a decimal string), the signature and the store.
    let big = (1u64 << 53) + 1;
    let req = register_request(
        &world,
        &keys[3],
        doctor,
        "doctor3@example.org",
        big,
        now + 300,
    );
    assert_eq!(post_json(&url, &req).0, 202);
    assert_eq!(notifier.next_nonce(doctor), big + 1);
    let near = u64::MAX - 1;
    let mut req = register_request(
        &world,
        &keys[3],
        doctor,
        "doctor3@example.org",
        near,
        now + 300,
    );
    req["nonce"] = near.to_string().into();
    assert_eq!(post_json(&url, &req).0, 202);
    assert_eq!(notifier.next_nonce(doctor), u64::MAX);
    let older = register_request(
        &world,
        &keys[3],
        doctor,
        "doctor3@example.org",
        big + 1,
        now + 300,
    );
    assert_eq!(post_json(&url, &older).0, 409, "an older nonce is a replay");
    let last = remove_request(&world, &keys[3], u64::MAX, now + 300);
    assert_eq!(post_json(&format!("{url}/remove"), &last).0, 200);
    let (status, body) = http(
        "GET",
        &format!("{}/v1/contacts/{doctor}/nonce", notifier.url),
        None,
    );
    assert_eq!(status, 409, "no nonce is left: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_answers_cors_for_the_configured_origins_only() {
    let world = World::start().await;
    let smtp = Smtp::start(world.dir.path());
    let app = "http://127.0.0.1:8080";
    let notifier = Notifier::start(
        &world,
        smtp.port,
        &[(
            "cors_origins",
            "http://127.0.0.1:8080, http://localhost:5173",
        )],
    );
    let url = format!("{}/v1/contacts", notifier.url);
    let allow = |headers: &[(String, String)]| {
        headers
            .iter()
            .find(|(k, _)| k == "access-control-allow-origin")
            .map(|(_, v)| v.clone())
    };
    let preflight = |origin: &str| {
        request(
            "OPTIONS",
            &url,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
            None,
        )
    };

    let (status, headers, _) = preflight(app);
    assert_eq!(status, 200);
    assert_eq!(allow(&headers).as_deref(), Some(app));
    let methods = headers
        .iter()
        .find(|(k, _)| k == "access-control-allow-methods")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{headers:?}");
    let (_, headers, _) = preflight("http://evil.example");
    assert_eq!(allow(&headers), None, "{headers:?}");

    let doctor = &world.chain.keys[3];
    let now = careledger_notifier::now();
    let req = register_request(
        &world,
        doctor,
        doctor.address(),
        "doctor3@example.org",
        0,
        now + 300,
    );
    let (status, headers, body) = request("POST", &url, &[("Origin", app)], Some(&req));
    assert_eq!(status, 202, "{body}");
    assert_eq!(allow(&headers).as_deref(), Some(app));
    // The double opt-in's routes: confirm (POST, preflighted) and status (GET).
    let confirm = format!("{url}/confirm");
    let (status, headers, _) = request(
        "OPTIONS",
        &confirm,
        &[
            ("Origin", app),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(allow(&headers).as_deref(), Some(app));
    let code = smtp.take_code("doctor3@example.org");
    let body = serde_json::json!({ "account": doctor.address(), "code": code });
    let (status, headers, answer) = request("POST", &confirm, &[("Origin", app)], Some(&body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(allow(&headers).as_deref(), Some(app));
    let status_url = format!("{}/v1/contacts/{}/status", notifier.url, doctor.address());
    let (status, headers, answer) = request("GET", &status_url, &[("Origin", app)], None);
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("confirmed"))
    );
    assert_eq!(allow(&headers).as_deref(), Some(app));
    let (_, headers, _) = request(
        "GET",
        &status_url,
        &[("Origin", "http://evil.example")],
        None,
    );
    assert_eq!(allow(&headers), None, "{headers:?}");
    let nonce = format!("{}/v1/contacts/{}/nonce", notifier.url, doctor.address());
    let (status, headers, body) =
        request("GET", &nonce, &[("Origin", "http://localhost:5173")], None);
    assert_eq!((status, body["nextNonce"].as_u64()), (200, Some(1)));
    assert_eq!(allow(&headers).as_deref(), Some("http://localhost:5173"));
    let (_, headers, _) = request("GET", &nonce, &[("Origin", "http://evil.example")], None);
    assert_eq!(allow(&headers), None, "{headers:?}");
    let remove = remove_request(&world, doctor, 1, now + 300);
    let (status, headers, _) = request(
        "POST",
        &format!("{url}/remove"),
        &[("Origin", "http://evil.example")],
        Some(&remove),
    );
    assert_eq!(
        status, 200,
        "a signed request is served; the browser hides the answer"
    );
    assert_eq!(allow(&headers), None, "{headers:?}");
}

/// Double opt-in: an address gets its confirmation mail and nothing else until
/// the code comes back; a wrong code changes nothing; a new address takes over
/// the notices only once confirmed.
#[tokio::test(flavor = "multi_thread")]
async fn only_a_confirmed_address_receives_notices() {
    let world = World::start().await;
    let smtp = Smtp::start(world.dir.path());
    let notifier = Notifier::start(&world, smtp.port, &[]);
    let signer = &world.chain.keys[3];
    let doctor = signer.address();
    assert_eq!(notifier.status(doctor), "none");
    let (status, body) = notifier.register(&world, signer, "doctor3@example.org");
    assert_eq!(status, 202, "{body}");
    assert_eq!(notifier.status(doctor), "pending");

    // A grant while the address is pending: the confirmation arrives, no notice.
    world.grant(2, 3, 3600).await;
    let h = notifier.wait_idle(1, Duration::from_secs(30));
    let mails = smtp.wait_for(1, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(smtp.mails().len(), 1, "{h}");
    let confirmation = &mails[0];
    assert_eq!(confirmation.to, "doctor3@example.org");
    assert!(
        confirmation.subject.contains("confirm"),
        "{}",
        confirmation.subject
    );
    let text = readable(&confirmation.raw);
    assert!(text.contains("careledger notify confirm"), "{text}");
    assert!(!text.contains("access granted") && !text.contains("access token"));
    assert_eq!(h["outbox"]["sent"], 1, "{h}");
    let code = common::smtp::code_in(&text).expect("a code");

    // A wrong code is refused; the right one, typed loosely, confirms.
    let wrong = if code == "AAAAAAAA" {
        "BBBBBBBB"
    } else {
        "AAAAAAAA"
    };
    let (status, body) = notifier.confirm(doctor, wrong);
    assert_eq!(status, 403, "{body}");
    assert_eq!(notifier.status(doctor), "pending");
    let (status, body) = notifier.confirm(
        doctor,
        &format!("{}-{}", &code[..4], code[4..].to_lowercase()),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(notifier.status(doctor), "confirmed");
    assert_eq!(notifier.confirm(doctor, &code).0, 404, "a code works once");

    // The next grant's notice arrives.
    world.grant(2, 3, 7200).await;
    let mails = smtp.wait_for(2, Duration::from_secs(30));
    let notice = mails
        .iter()
        .find(|m| m.subject.contains("access granted"))
        .expect("the notice");
    assert_eq!(notice.to, "doctor3@example.org");
    assert!(
        readable(&notice.raw).contains("access token #2"),
        "{}",
        notice.raw
    );

    // A new address: the old one keeps the notices until the new one is confirmed.
    let (status, _) = notifier.register(&world, signer, "doctor3-new@example.org");
    assert_eq!(status, 202);
    let new_code = smtp.take_code("doctor3-new@example.org");
    world.grant(2, 3, 10_800).await;
    let old = smtp.wait_for_to("doctor3@example.org", 3);
    assert_eq!(
        old.iter()
            .filter(|m| m.subject.contains("access granted"))
            .count(),
        2
    );
    assert_eq!(notifier.confirm(doctor, &new_code).0, 200);
    world.grant(2, 3, 14_400).await;
    let new = smtp.wait_for_to("doctor3-new@example.org", 1);
    assert!(
        readable(&new[0].raw).contains("access token #4"),
        "{}",
        new[0].raw
    );
    let h = notifier.wait_idle(4, Duration::from_secs(30));
    assert_eq!(smtp.wait_for_to("doctor3@example.org", 3).len(), 3, "{h}");
    assert_eq!(h["counters"]["confirmations"], 2, "{h}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mails_wait_for_their_confirmations() {
    // Polling only: the WebSocket is optional.
    let (world, smtp, notifier) =
        common::doctor3_subscribed(&[("confirmations", "2"), ("ws_url", "")]).await;
    world.grant(2, 3, 3600).await;
    std::thread::sleep(Duration::from_secs(2));
    assert!(smtp.mails().is_empty(), "mailed before two confirmations");
    world.rpc("evm_mine", serde_json::json!([]));
    std::thread::sleep(Duration::from_millis(800));
    assert!(smtp.mails().is_empty(), "mailed after one confirmation");
    world.rpc("evm_mine", serde_json::json!([]));
    let mails = smtp.wait_for(1, Duration::from_secs(30));
    assert_eq!(mails[0].to, "doctor3@example.org");
    assert_eq!(notifier.health()["websocket"], false);
}

#[test]
fn bad_configuration_is_one_line_and_exit_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let run = |file: Option<&str>, env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_careledger-notifier"));
        cmd.env_clear();
        if let Some(text) = file {
            let path = dir.path().join("notifier.toml");
            std::fs::write(&path, text).unwrap();
            cmd.arg("--config").arg(path);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr.lines().last().unwrap_or_default().to_string()
    };
    let base = "rpc_url = \"http://127.0.0.1:1\"\ndeployment = \"missing.json\"\n\
                smtp_security = \"none\"\nmail_from = \"n@example.org\"\n";
    let e = run(Some(base), &[]);
    assert!(
        e.starts_with("error: configuration:") && e.contains("smtp_host"),
        "{e}"
    );
    let e = run(Some("rpc_url = [\n"), &[]);
    assert!(
        e.starts_with("error:") && e.contains("notifier.toml"),
        "{e}"
    );
    let e = run(
        Some(base),
        &[("CARELEDGER_NOTIFIER_SMTP_HOST", "smtp.example.org")],
    );
    assert!(e.contains("only allowed for a loopback"), "{e}");
    let e = run(
        Some(base),
        &[("CARELEDGER_NOTIFIER_SMTP_HOST", "127.0.0.1")],
    );
    assert!(e.contains("missing.json"), "{e}");
    let password = "hunter2-secret";
    let e = run(
        Some(base),
        &[
            ("CARELEDGER_NOTIFIER_SMTP_HOST", "127.0.0.1"),
            ("CARELEDGER_NOTIFIER_SMTP_PASSWORD", password),
        ],
    );
    assert!(
        e.contains("smtp_user and smtp_password go together") && !e.contains(password),
        "{e}"
    );
}
