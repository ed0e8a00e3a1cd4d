//! Double opt-in end to end: an address registered with `careledger notify
//! register` gets its confirmation mail and no notice until `careledger notify
//! confirm CODE` sends the mailed code back; a wrong code is refused.

use careledger_e2e::cli::World;
use careledger_e2e::notifier::Notifier;
use careledger_e2e::smtp::{self, Smtp, CONFIRMATION_SUBJECT};
use careledger_e2e::Net;
use std::time::{Duration, Instant};

/// Waits until the notifier read `events` chain events and sent what it queued.
fn idle(notifier: &Notifier, events: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let h = notifier.health();
        let o = &h["outbox"];
        if h["counters"]["events"].as_u64().unwrap_or(0) >= events
            && o["pending"] == 0
            && o["sending"] == 0
            && h["lagBlocks"] == 0
        {
            return h;
        }
        assert!(Instant::now() < deadline, "the notifier is not idle: {h}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn notices_go_to_an_address_only_once_its_code_came_back() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let smtp = Smtp::start(dir.path());
    let notifier = Notifier::start(&world, smtp.port);
    let patient = world.patient();
    let doctor = world.doctor("GMC-OPT-IN");
    let url = notifier.url.clone();
    let to = "doctor@example.org";

    assert_eq!(notifier.status(&doctor), "none");
    let pending = notifier.register_pending(&doctor, to);
    assert!(pending["expiresAt"].as_u64().is_some(), "{pending}");
    assert_eq!(notifier.status(&doctor), "pending");

    // A grant while the address waits for its code: only the confirmation arrives.
    patient.json(&["grant", &doctor.addr(), "--expires", "30d"]);
    let h = idle(&notifier, 1);
    let mails = smtp.wait_for_to(to, 1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(smtp.mails().len(), 1, "the confirmation only: {h}");
    let confirmation = &mails[0];
    assert_eq!(confirmation.subject, CONFIRMATION_SUBJECT);
    let code = smtp::code_in(&confirmation.raw).expect("a code in the mail");
    assert!(
        confirmation
            .raw
            .contains(&format!("careledger notify confirm {code}")),
        "{}",
        confirmation.raw
    );
    assert!(!confirmation.raw.contains("access granted"));
    assert!(
        !confirmation.raw.contains(&patient.addr()),
        "no other account"
    );

    // Refused: a malformed code (by the CLI) and a wrong one (by the notifier).
    let err = doctor.misuses(&["notify", "confirm", "0OIL", "--notifier", &url]);
    assert!(err.contains("8 letters and digits"), "{err}");
    let wrong = if code == "AAAAAAAA" {
        "BBBBBBBB"
    } else {
        "AAAAAAAA"
    };
    let err = doctor.fails(&["notify", "confirm", wrong, "--notifier", &url]);
    assert!(
        err.contains("wrong code") && err.contains("4 attempt(s) left"),
        "{err}"
    );
    assert_eq!(notifier.status(&doctor), "pending");

    // The right code, as a person may type it.
    let typed = format!("{}-{}", &code[..4], code[4..].to_lowercase());
    notifier.confirm(&doctor, &typed);
    assert_eq!(notifier.status(&doctor), "confirmed");
    let err = doctor.fails(&["notify", "confirm", &code, "--notifier", &url]);
    assert!(err.contains("no registration"), "a code works once: {err}");

    // The next event's notice arrives; the first grant's never does.
    patient.json(&["grant", &doctor.addr(), "--expires", "60d"]);
    let mails = smtp.wait_for_to(to, 2);
    let h = idle(&notifier, 2);
    let notices: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("access granted by patient"))
        .collect();
    assert_eq!(notices.len(), 1, "{h}");
    assert!(notices[0].subject.contains(&patient.addr()));
    assert_eq!(smtp.mails().len(), 2, "{h}");
    assert_eq!(h["outbox"]["sent"], 2, "{h}");
    assert_eq!(h["outbox"]["failed"], 0, "{h}");
    assert_eq!(h["counters"]["confirmations"], 1, "{h}");
    // The code stays out of the notifier's log.
    let log = std::fs::read_to_string(&notifier.log).unwrap();
    assert!(!log.contains(&code) && !log.contains(to), "the log");
}
