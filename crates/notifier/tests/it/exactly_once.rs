//! Each grant is mailed once: in bulk, through SIGKILLs at random moments, and
//! while the SMTP server is down. So is each token a grant burns to make room
//! (expired, its pair's 8 places taken): the AccessRevoked before the grant's
//! AccessGranted is mailed as the old token cleared for the new one.
//!
//! SMTP cannot tell a client whether a server holds a message once the end of
//! its data has left: a mail past its end of data when the notifier is killed is
//! sent again with the same Message-ID, which receivers use to drop copies. The
//! notifier lets one mail at a time be there, and counts such re-sends. The
//! tests hold every copy to a counted re-send, the re-sends to one per kill, and
//! every copy of a Message-ID to the same notice.

use crate::common;

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

/// A pseudo-random sequence (xorshift) seeded from the clock: kill moments
/// differ from run to run, and the seed is printed to replay one.
struct Moments(u64);

impl Moments {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below.max(1)
    }
}

/// Every copy of a Message-ID is the same notice (recipient, subject and body;
/// the Date header is the send's own), and tells how many copies beyond the
/// first arrived.
fn duplicates_of_the_same_notice(mails: &[Mail]) -> usize {
    let mut first: HashMap<&str, (&str, &str, String)> = HashMap::new();
    let mut extra = 0;
    for m in mails {
        let text = m.raw.replace("\r\n", "\n");
        let body = text.split_once("\n\n").map_or("", |(_, b)| b).to_string();
        let notice = (m.to.as_str(), m.subject.as_str(), body);
        match first.get(m.message_id.as_str()) {
            None => {
                first.insert(&m.message_id, notice);
            }
            Some(seen) => {
                assert_eq!(*seen, notice, "two notices share {}", m.message_id);
                extra += 1;
            }
        }
    }
    extra
}

/// SIGKILLs at random moments, half while grants arrive and half while a
/// backlog drains (every SMTP lane busy, the worst case): no notice is lost,
/// and a kill re-sends at most one mail the server may already hold.
#[tokio::test(flavor = "multi_thread")]
async fn sigkills_lose_nothing_and_resend_at_most_one_mail_each() {
    let (world, smtp, mut notifier) = common::doctor3_subscribed(&[]).await;
    const LIVE_GRANTS: usize = 300;
    const BACKLOG_GRANTS: usize = 200;
    const KILLS_EACH: usize = 12;
    let seed = careledger_notifier::now_ms() | 1;
    eprintln!("seed {seed}");
    let mut moments = Moments(seed);
    let mut kills = 0;
    let mut stored_at_kill = Vec::new();

    // 1. While grants arrive: kill points spread over the run.
    let mut kill_at: Vec<usize> = (0..KILLS_EACH)
        .map(|i| {
            let span = LIVE_GRANTS / KILLS_EACH;
            i * span + moments.next(span as u64) as usize
        })
        .collect();
    kill_at.sort();
    let mut pending_kills = kill_at.into_iter().peekable();
    grants(&world, LIVE_GRANTS, |i| {
        while pending_kills.peek() == Some(&i) {
            pending_kills.next();
            std::thread::sleep(Duration::from_micros(moments.next(7000)));
            notifier.kill();
            kills += 1;
            stored_at_kill.push(smtp.mails().len());
            notifier.spawn();
        }
    })
    .await;

    // 2. While a backlog drains: the mailer is never idle between kills.
    notifier.kill();
    kills += 1;
    stored_at_kill.push(smtp.mails().len());
    grants(&world, BACKLOG_GRANTS, |_| {}).await;
    for _ in 1..KILLS_EACH {
        notifier.spawn();
        std::thread::sleep(Duration::from_micros(100_000 + moments.next(150_000)));
        notifier.kill();
        kills += 1;
        stored_at_kill.push(smtp.mails().len());
    }
    notifier.spawn();
    assert_eq!(kills, 2 * KILLS_EACH);
    eprintln!("mails stored at each kill: {stored_at_kill:?}");

    let (granted, ended) = expected(&world).await;
    assert_eq!(granted, LIVE_GRANTS + BACKLOG_GRANTS);
    let total = granted + ended;
    let h = notifier.wait_read(world.head(), Duration::from_secs(120));
    let mails = smtp.wait_for(total, Duration::from_secs(60));
    let by_id = copies(&mails);
    let in_doubt = h["inDoubtResent"].as_u64().unwrap() as usize;
    let extra = duplicates_of_the_same_notice(&mails);
    eprintln!(
        "{kills} kills: {} mails, {} distinct, {extra} duplicates, {in_doubt} re-sent in doubt: {h}",
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
    assert!(
        in_doubt <= kills,
        "{in_doubt} mails in doubt after {kills} kills: more than one per kill"
    );
    // And per kill: each start logs how many it found in doubt.
    let log = notifier.log_text();
    let found: Vec<u64> = log
        .lines()
        .filter(|l| l.contains("sending it again with the same Message-ID"))
        .filter_map(|l| l.split("in_doubt=").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(found.iter().sum::<u64>(), in_doubt as u64, "{found:?}");
    assert!(found.iter().all(|&n| n == 1), "{found:?}");
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
