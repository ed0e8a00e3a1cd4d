//! The notifier's durable state in one SQLite file: the chain cursor with the
//! hashes that detect a reorg, the grants it has seen, the outbox (which is also
//! the sent log) and the contact directory.
//!
//! Exactly-once rests on two rules. A block range's mails and the cursor that
//! passes it are committed in one transaction, so a crash re-reads the range and
//! the outbox's primary key (the Message-ID) drops what is already queued. And a
//! mail is marked `sending` before its SMTP transaction and `sent` after it, so a
//! crash in between leaves it "in doubt": it is sent again with the same
//! Message-ID (receivers drop a Message-ID they already hold) and counted.

use crate::error::Result;
use alloy::primitives::{Address, B256};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Block hashes kept for reorg detection: deeper reorgs stop the notifier.
const KEPT_BLOCKS: u64 = 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS grants (
    token_id TEXT PRIMARY KEY, patient BLOB NOT NULL, doctor BLOB NOT NULL,
    block INTEGER NOT NULL, revoked_block INTEGER);
CREATE INDEX IF NOT EXISTS grants_patient ON grants (patient);
CREATE TABLE IF NOT EXISTS emergencies (
    patient BLOB NOT NULL, doctor BLOB NOT NULL, block INTEGER NOT NULL,
    PRIMARY KEY (patient, doctor, block));
CREATE TABLE IF NOT EXISTS outbox (
    message_id TEXT PRIMARY KEY, block INTEGER NOT NULL, recipient BLOB NOT NULL,
    kind TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL, queued_at INTEGER NOT NULL, sent_at INTEGER);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_at);
CREATE TABLE IF NOT EXISTS contacts (
    account BLOB PRIMARY KEY, email TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (account BLOB PRIMARY KEY, last_nonce INTEGER NOT NULL);
";

/// One mail to queue: rendered when its event is read, sent later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub message_id: String,
    pub block: u64,
    pub recipient: Address,
    pub kind: &'static str,
    pub subject: String,
    pub body: String,
}

/// A mail due now, with the recipient's current address.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message_id: String,
    pub email: String,
    pub subject: String,
    pub body: String,
    pub attempts: u32,
}

/// What one block range changes, committed with the cursor that passes it.
#[derive(Debug, Default)]
pub struct Batch {
    pub to_block: u64,
    pub to_hash: B256,
    pub grants: Vec<(String, Address, Address, u64)>,
    pub revokes: Vec<(String, u64)>,
    pub emergencies: Vec<(Address, Address, u64)>,
    pub mails: Vec<Mail>,
}

/// Outbox totals by status, for the health endpoint.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: u64,
    pub sending: u64,
    pub sent: u64,
    pub dropped: u64,
    pub failed: u64,
}

/// Why a directory request was refused by the store.
#[derive(Debug, PartialEq, Eq)]
pub enum NonceError {
    /// The nonce was used already (or a later one was): a replay.
    Replayed { last: u64 },
}

pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        // WAL + NORMAL: a commit survives the process being killed (it is in the
        // OS's cache); only a power loss can take the last commits, and then the
        // range is read again and the outbox key keeps it exactly-once.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (its
        // transactions roll back), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The last block whose events are committed, if any.
    pub fn cursor(&self) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(|v| v as u64))
    }

    /// The remembered block hashes, newest first.
    pub fn recent_blocks(&self, limit: usize) -> Result<Vec<(u64, B256)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT number, hash FROM blocks ORDER BY number DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
        })?;
        rows.map(|r| {
            r.map(|(n, h)| (n, B256::left_padding_from(&h)))
                .map_err(Into::into)
        })
        .collect()
    }

    /// Commits one range: state changes, mails (a Message-ID already queued is
    /// kept as it is) and the cursor. Returns how many mails were new.
    pub fn apply(&self, batch: &Batch, now: u64) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (token, patient, doctor, block) in &batch.grants {
            tx.execute(
                "INSERT OR IGNORE INTO grants (token_id, patient, doctor, block) VALUES (?1, ?2, ?3, ?4)",
                params![token, patient.as_slice(), doctor.as_slice(), *block as i64],
            )?;
        }
        for (token, block) in &batch.revokes {
            tx.execute(
                "UPDATE grants SET revoked_block = ?2 WHERE token_id = ?1 AND revoked_block IS NULL",
                params![token, *block as i64],
            )?;
        }
        for (patient, doctor, block) in &batch.emergencies {
            tx.execute(
                "INSERT OR IGNORE INTO emergencies (patient, doctor, block) VALUES (?1, ?2, ?3)",
                params![patient.as_slice(), doctor.as_slice(), *block as i64],
            )?;
        }
        let mut new = 0;
        for m in &batch.mails {
            new += tx.execute(
                "INSERT OR IGNORE INTO outbox (message_id, block, recipient, kind, subject, body, status, next_at, queued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7)",
                params![m.message_id, m.block as i64, m.recipient.as_slice(), m.kind, m.subject, m.body, now as i64],
            )?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO blocks (number, hash) VALUES (?1, ?2)",
            params![batch.to_block as i64, batch.to_hash.as_slice()],
        )?;
        tx.execute(
            "DELETE FROM blocks WHERE number < ?1",
            [batch.to_block.saturating_sub(KEPT_BLOCKS) as i64],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?1)",
            [batch.to_block as i64],
        )?;
        tx.commit()?;
        Ok(new)
    }

    /// Undoes everything read above block `keep` after a reorg. Mails not yet
    /// sent are withdrawn; returns (withdrawn, already sent).
    pub fn rewind(&self, keep: u64) -> Result<(usize, usize)> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let k = keep as i64;
        let sent: i64 = tx.query_row(
            "SELECT COUNT(*) FROM outbox WHERE block > ?1 AND status IN ('sent', 'sending')",
            [k],
            |r| r.get(0),
        )?;
        let withdrawn = tx.execute(
            "DELETE FROM outbox WHERE block > ?1 AND status IN ('pending', 'dropped', 'failed')",
            [k],
        )?;
        tx.execute("DELETE FROM grants WHERE block > ?1", [k])?;
        tx.execute(
            "UPDATE grants SET revoked_block = NULL WHERE revoked_block > ?1",
            [k],
        )?;
        tx.execute("DELETE FROM emergencies WHERE block > ?1", [k])?;
        tx.execute("DELETE FROM blocks WHERE number > ?1", [k])?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?1)",
            [k],
        )?;
        tx.commit()?;
        Ok((withdrawn, sent as usize))
    }

    /// Doctors who may have access to `patient`'s records: unrevoked grants and
    /// emergency windows (the contract has the last word on each).
    pub fn candidates(&self, patient: Address) -> Result<Vec<Address>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT doctor FROM grants WHERE patient = ?1 AND revoked_block IS NULL
             UNION SELECT doctor FROM emergencies WHERE patient = ?1",
        )?;
        let rows = stmt.query_map([patient.as_slice()], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| r.map(|b| Address::from_slice(&b)).map_err(Into::into))
            .collect()
    }

    pub fn has_contact(&self, account: Address) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM contacts WHERE account = ?1",
                [account.as_slice()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Sets `sending` mails back to `pending` (after a crash): returns how many.
    pub fn recover_in_doubt(&self) -> Result<u64> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE outbox SET status = 'pending', next_at = 0 WHERE status = 'sending'",
            [],
        )? as u64;
        if n > 0 {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('in_doubt', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = value + ?1",
                [n as i64],
            )?;
        }
        Ok(n)
    }

    /// Mails in doubt after crashes, over the database's life.
    pub fn in_doubt_total(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'in_doubt'", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .unwrap_or(0) as u64)
    }

    /// Mails due at `now`, oldest first. A mail whose recipient has left the
    /// directory since it was queued is dropped here.
    pub fn due(&self, now: u64, limit: usize) -> Result<Vec<Outgoing>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET status = 'dropped' WHERE status = 'pending'
             AND recipient NOT IN (SELECT account FROM contacts)",
            [],
        )?;
        let out = {
            let mut stmt = tx.prepare_cached(
                "SELECT o.message_id, c.email, o.subject, o.body, o.attempts
                 FROM outbox o JOIN contacts c ON c.account = o.recipient
                 WHERE o.status = 'pending' AND o.next_at <= ?1
                 ORDER BY o.block, o.message_id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now as i64, limit as i64], |r| {
                Ok(Outgoing {
                    message_id: r.get(0)?,
                    email: r.get(1)?,
                    subject: r.get(2)?,
                    body: r.get(3)?,
                    attempts: r.get::<_, i64>(4)? as u32,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        tx.commit()?;
        Ok(out)
    }

    /// The earliest retry time of a pending mail, if any.
    pub fn next_retry(&self) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT MIN(next_at) FROM outbox WHERE status = 'pending'",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .map(|v| v as u64))
    }

    pub fn mark(&self, message_id: &str, status: &str, at: u64) -> Result<()> {
        let sent_at = (status == "sent").then_some(at as i64);
        self.conn().execute(
            "UPDATE outbox SET status = ?2, sent_at = COALESCE(?3, sent_at) WHERE message_id = ?1",
            params![message_id, status, sent_at],
        )?;
        Ok(())
    }

    pub fn retry_at(&self, message_id: &str, next_at: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_at = ?2 WHERE message_id = ?1",
            params![message_id, next_at as i64],
        )?;
        Ok(())
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT status, COUNT(*) FROM outbox GROUP BY status")?;
        let mut counts = OutboxCounts::default();
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            let (status, n) = row?;
            match status.as_str() {
                "pending" => counts.pending = n,
                "sending" => counts.sending = n,
                "sent" => counts.sent = n,
                "dropped" => counts.dropped = n,
                _ => counts.failed += n,
            }
        }
        Ok(counts)
    }

    /// The last nonce `account` used. Nonces are u64 (the EIP-712 type is
    /// uint64); SQLite integers are i64, so a nonce is stored as the i64 with
    /// the same 64 bits and compared only after it is read back as u64.
    fn last_nonce(conn: &Connection, account: Address) -> Result<Option<u64>> {
        Ok(conn
            .query_row(
                "SELECT last_nonce FROM nonces WHERE account = ?1",
                [account.as_slice()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|v| v as u64))
    }

    /// Registers or replaces `account`'s address if `nonce` is above every nonce
    /// it used before (checked and recorded in one transaction).
    pub fn set_contact(
        &self,
        account: Address,
        email: Option<&str>,
        nonce: u64,
        now: u64,
    ) -> Result<Result<(), NonceError>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Some(last) = Self::last_nonce(&tx, account)? {
            if nonce <= last {
                return Ok(Err(NonceError::Replayed { last }));
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO nonces (account, last_nonce) VALUES (?1, ?2)",
            params![account.as_slice(), nonce as i64],
        )?;
        match email {
            Some(email) => tx.execute(
                "INSERT OR REPLACE INTO contacts (account, email, updated_at) VALUES (?1, ?2, ?3)",
                params![account.as_slice(), email, now as i64],
            )?,
            None => tx.execute(
                "DELETE FROM contacts WHERE account = ?1",
                [account.as_slice()],
            )?,
        };
        tx.commit()?;
        Ok(Ok(()))
    }

    /// The smallest nonce `account`'s next request may use; `None` once it used
    /// u64::MAX, the largest (its entry can no longer change).
    pub fn next_nonce(&self, account: Address) -> Result<Option<u64>> {
        Ok(match Self::last_nonce(&self.conn(), account)? {
            None => Some(0),
            Some(last) => last.checked_add(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(id: &str, block: u64, to: Address) -> Mail {
        Mail {
            message_id: id.into(),
            block,
            recipient: to,
            kind: "grant",
            subject: "s".into(),
            body: "b".into(),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("n.sqlite")).unwrap();
        (dir, s)
    }

    #[test]
    fn a_range_read_twice_queues_each_mail_once() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        s.set_contact(doc, Some("d@example.org"), 0, 1)
            .unwrap()
            .unwrap();
        let batch = Batch {
            to_block: 5,
            to_hash: B256::repeat_byte(5),
            mails: vec![mail("<a>", 5, doc)],
            ..Batch::default()
        };
        assert_eq!(s.apply(&batch, 1).unwrap(), 1);
        assert_eq!(s.apply(&batch, 2).unwrap(), 0);
        assert_eq!(s.due(10, 10).unwrap().len(), 1);
        assert_eq!(s.cursor().unwrap(), Some(5));
    }

    #[test]
    fn a_crash_while_sending_leaves_the_mail_in_doubt_and_due_again() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        s.set_contact(doc, Some("d@example.org"), 0, 1)
            .unwrap()
            .unwrap();
        let batch = Batch {
            to_block: 1,
            mails: vec![mail("<a>", 1, doc), mail("<b>", 1, doc)],
            ..Batch::default()
        };
        s.apply(&batch, 1).unwrap();
        s.mark("<a>", "sending", 2).unwrap();
        s.mark("<b>", "sending", 2).unwrap();
        s.mark("<b>", "sent", 3).unwrap();
        assert_eq!(s.recover_in_doubt().unwrap(), 1);
        assert_eq!(s.in_doubt_total().unwrap(), 1);
        let due = s.due(10, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].message_id, "<a>");
    }

    #[test]
    fn a_rewind_withdraws_unsent_mails_and_restores_grants() {
        let (_d, s) = store();
        let (p, doc) = (Address::repeat_byte(2), Address::repeat_byte(1));
        s.set_contact(doc, Some("d@example.org"), 0, 1)
            .unwrap()
            .unwrap();
        s.apply(
            &Batch {
                to_block: 3,
                grants: vec![("1".into(), p, doc, 3)],
                ..Batch::default()
            },
            1,
        )
        .unwrap();
        s.apply(
            &Batch {
                to_block: 6,
                revokes: vec![("1".into(), 5)],
                grants: vec![("2".into(), p, Address::repeat_byte(9), 6)],
                mails: vec![mail("<x>", 5, doc), mail("<y>", 6, doc)],
                ..Batch::default()
            },
            1,
        )
        .unwrap();
        assert_eq!(s.candidates(p).unwrap(), vec![Address::repeat_byte(9)]);
        s.mark("<x>", "sent", 2).unwrap();
        assert_eq!(s.rewind(4).unwrap(), (1, 1));
        assert_eq!(s.cursor().unwrap(), Some(4));
        assert_eq!(s.candidates(p).unwrap(), vec![doc]);
        assert_eq!(s.recent_blocks(10).unwrap(), vec![(3, B256::ZERO)]);
    }

    #[test]
    fn nonces_only_go_up_and_unregistered_recipients_are_dropped() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        assert_eq!(s.next_nonce(doc).unwrap(), Some(0));
        s.set_contact(doc, Some("d@example.org"), 4, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            s.set_contact(doc, Some("evil@example.org"), 4, 1).unwrap(),
            Err(NonceError::Replayed { last: 4 })
        );
        assert_eq!(s.next_nonce(doc).unwrap(), Some(5));
        s.apply(
            &Batch {
                to_block: 1,
                mails: vec![mail("<a>", 1, doc)],
                ..Batch::default()
            },
            1,
        )
        .unwrap();
        s.set_contact(doc, None, 5, 2).unwrap().unwrap();
        assert!(s.due(10, 10).unwrap().is_empty());
        assert_eq!(s.outbox_counts().unwrap().dropped, 1);
    }

    /// Nonces are u64: above 2^53 (where a JSON number stops being exact in
    /// JavaScript) and up to u64::MAX (above i64::MAX, SQLite's largest
    /// integer) they are stored, compared and read back unchanged.
    #[test]
    fn nonces_above_2_pow_53_and_near_u64_max_round_trip() {
        let (dir, s) = store();
        let doc = Address::repeat_byte(1);
        let big = (1u64 << 53) + 1;
        s.set_contact(doc, Some("d@example.org"), big, 1)
            .unwrap()
            .unwrap();
        assert_eq!(s.next_nonce(doc).unwrap(), Some(big + 1));
        assert_eq!(
            s.set_contact(doc, None, big, 2).unwrap(),
            Err(NonceError::Replayed { last: big })
        );
        // Across i64::MAX: a signed comparison would take u64::MAX - 1 as -2.
        for n in [i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX - 1] {
            s.set_contact(doc, Some("d@example.org"), n, 3)
                .unwrap()
                .unwrap();
            assert_eq!(s.next_nonce(doc).unwrap(), Some(n + 1));
            for old in [0, big, n] {
                assert_eq!(
                    s.set_contact(doc, Some("evil@example.org"), old, 4)
                        .unwrap(),
                    Err(NonceError::Replayed { last: n }),
                    "{old} after {n}"
                );
            }
        }
        s.set_contact(doc, Some("d@example.org"), u64::MAX, 5)
            .unwrap()
            .unwrap();
        assert_eq!(s.next_nonce(doc).unwrap(), None, "no nonce is left");
        assert_eq!(
            s.set_contact(doc, None, u64::MAX, 6).unwrap(),
            Err(NonceError::Replayed { last: u64::MAX })
        );
        // A reopened database reads the same.
        drop(s);
        let s = Store::open(&dir.path().join("n.sqlite")).unwrap();
        assert_eq!(s.next_nonce(doc).unwrap(), None);
        assert!(s.has_contact(doc).unwrap());
    }
}
