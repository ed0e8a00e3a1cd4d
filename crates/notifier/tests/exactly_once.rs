//! Each grant is mailed once: in bulk, through SIGKILLs at random moments, and
//! while the SMTP server is down. So is each token a grant burns to make room
//! (expired, its pair's 8 places taken): the AccessRevoked before the grant's
//! AccessGranted is mailed as the old token cleared for the new one.
//!
//! SMTP cannot tell a client whether a message arrived when the connection died
//! after the server's final "250": a mail the notifier was sending when killed is
//! sent again with the same Message-ID, which receivers use to drop copies. The
//! tests count such re-sends (the notifier reports them) and hold every other
//! copy to zero.

mod common;

use common::smtp::Mail;
use common::World;
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn grants(world: &World, n: usize, between: impl FnMut(usize)) {
    world.grant_many(2, 3, n, between).await;
}

/// Copies per Message-ID.
fn copies(mails: &[Mail]) -> HashMap<String, usize> {
    let mut by_id = HashMap::new();
    for m in mails {
        assert!(
            m.message_id.ends_with("@notifier.careledger>"),
            "{}",
            m.message_id
        );
        *by_id.entry(m.message_id.clone()).or_insert(0) += 1;
    }
    by_id
}

/// The notices the chain's events call for so far: (grants, burnt tokens).
async fn expected(world: &World) -> (usize, usize) {
    world.access_events().await
}

/// A burnt token's mail names the grant that burnt it, never a revocation.
fn assert_cleared_not_revoked(mails: &[Mail], ended: usize) {
    let cleared: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("cleared for a new one"))
        .collect();
    assert_eq!(cleared.len(), ended);
    assert!(mails.iter().all(|m| !m.subject.contains("revoked")));
    for m in cleared {
        let text = common::readable(&m.raw);
        assert!(
            text.contains("when the patient granted you the new access token #"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_grants_are_mailed_exactly_once() {
    let (world, smtp, notifier) = common::doctor3_subscribed(&[]).await;
    let start = Instant::now();
    grants(&world, 1000, |_| {}).await;
    let sent = start.elapsed();
    let (granted, ended) = expected(&world).await;
    assert_eq!(granted, 1000, "every grant was mined");
    let total = granted + ended;
    let mails = smtp.wait_for(total, Duration::from_secs(180));
    let h = notifier.wait_read(world.head(), Duration::from_secs(60));
    eprintln!(
        "1,000 grants ({ended} expired tokens burnt) in {sent:?}, all mailed {:?} after the first",
        start.elapsed()
    );
    assert_eq!(mails.len(), total, "{h}");
    let by_id = copies(&mails);
    assert_eq!(by_id.len(), total);
    assert!(mails.iter().all(|m| m.to == "doctor3@example.org"));
    let grant_notices = mails
        .iter()
        .filter(|m| m.subject.contains("access granted"))
        .count();
    assert_eq!(grant_notices, 1000);
    assert_cleared_not_revoked(&mails, ended);
    for token in [1, 500, 1000] {
        let needle = format!("access token #{token})");
        assert_eq!(
            mails.iter().filter(|m| m.raw.contains(&needle)).count(),
            1,
            "token {token}"
        );
    }
    // And doctor 3's confirmation.
    assert_eq!(h["outbox"]["sent"], total as u64 + 1);
    assert_eq!(h["counters"]["events"], total as u64, "{h}");
    assert_eq!(h["inDoubtResent"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_sigkills_lose_nothing_and_duplicate_nothing() {
    let (world, smtp, mut notifier) = common::doctor3_subscribed(&[]).await;
    const GRANTS: usize = 400;
    // Kill points spread over the run: some while the chain is being read, some
    // while mails are in flight, at pseudo-random grant counts.
    let mut seed = careledger_notifier::now_ms() | 1;
    let mut kill_at: Vec<usize> = (0..20)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            i * GRANTS / 20 + (seed as usize % (GRANTS / 20))
        })
        .collect();
    kill_at.sort();
    eprintln!("kill points (grant index): {kill_at:?}");
    let mut kills = 0;
    let mut pending_kills = kill_at.into_iter().peekable();
    let mut log = Vec::new();
    grants(&world, GRANTS, |i| {
        while pending_kills.peek() == Some(&i) {
            pending_kills.next();
            // A random moment within the next few milliseconds of mailing.
            std::thread::sleep(Duration::from_micros(seed % 7000));
            seed = seed.rotate_left(11) ^ i as u64;
            notifier.kill();
            kills += 1;
            log.push(smtp.mails().len());
            notifier.spawn();
        }
    })
    .await;
    assert_eq!(kills, 20);
    eprintln!("mails stored at each kill: {log:?}");
    let (granted, ended) = expected(&world).await;
    assert_eq!(granted, GRANTS);
    let total = granted + ended;
    let h = notifier.wait_read(world.head(), Duration::from_secs(120));
    let mails = smtp.wait_for(total, Duration::from_secs(60));
    let by_id = copies(&mails);
    let in_doubt = h["inDoubtResent"].as_u64().unwrap() as usize;
    let extra = mails.len() - by_id.len();
    eprintln!(
        "{} mails, {} distinct, {in_doubt} re-sent in doubt: {h}",
        mails.len(),
        by_id.len()
    );
    assert_eq!(by_id.len(), total, "0 lost: one Message-ID per event");
    assert_eq!(
        h["outbox"]["sent"],
        total as u64 + 1,
        "and the confirmation"
    );
    assert!(
        extra <= in_doubt,
        "{extra} copies beyond the first, but only {in_doubt} mails were in doubt"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mails_wait_for_the_smtp_server_to_come_back() {
    let (world, mut smtp, notifier) = common::doctor3_subscribed(&[]).await;
    smtp.stop();
    grants(&world, 20, |_| {}).await;
    let (granted, ended) = expected(&world).await;
    assert_eq!(granted, 20);
    let total = granted + ended;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = notifier.health();
        if h["outbox"]["pending"] == total as u64 && h["counters"]["smtpErrors"].as_u64() > Some(0)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never queued {total} with SMTP down: {h}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    smtp.resume();
    let mails = smtp.wait_for(total, Duration::from_secs(60));
    let h = notifier.wait_read(world.head(), Duration::from_secs(30));
    assert_eq!(mails.len(), total, "{h}");
    assert_eq!(copies(&mails).len(), total);
    assert_cleared_not_revoked(&mails, ended);
    assert_eq!(
        h["outbox"]["sent"],
        total as u64 + 1,
        "and the confirmation"
    );
}
