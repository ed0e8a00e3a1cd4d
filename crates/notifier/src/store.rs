//! The notifier's durable state in one SQLite file: the chain cursor with the
//! hashes that detect a reorg, the grants it has seen, the outbox (which is also
//! the sent log) and the contact directory.
//!
//! The directory has two tables. `contacts` holds confirmed addresses only:
//! notices are queued for, and sent to, nothing else. `pending_contacts` holds
//! at most one registration per account waiting for its code (see optin.rs): a
//! salted hash of the code, the expiry, the attempts left and the Message-ID
//! of its confirmation mail. A new registration replaces the pending one and
//! leaves the confirmed address as it is, so notices go on to the old address
//! until the new one is confirmed.
//!
//! No notice is lost and none gets two Message-IDs. A block range's mails and
//! the cursor that passes it are committed in one transaction, so a crash
//! re-reads the range and the outbox's primary key (the Message-ID, fixed by the
//! event) drops what is already queued. A mail is marked `sending` just before
//! the end of its SMTP data and `sent` when the server's 250 comes back, so a
//! crash in between leaves it "in doubt": it is sent again with the same
//! Message-ID (receivers drop a Message-ID they already hold) and counted. The
//! mailer lets one mail at a time be in that state (see mailer.rs).
//!
//! The file holds email addresses in clear, so it and SQLite's files beside it
//! (`-wal`, `-shm`, `-journal`) are the owner's only (0600); see
//! docs/security.md for what it holds.

use crate::error::{Error, Result};
use crate::optin;
use alloy::primitives::{Address, B256};
use rusqlite::{params, Connection, OptionalExtension};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
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
    next_at INTEGER NOT NULL, queued_at INTEGER NOT NULL, sent_at INTEGER, email TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_at);
CREATE TABLE IF NOT EXISTS contacts (
    account BLOB PRIMARY KEY, email TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending_contacts (
    account BLOB PRIMARY KEY, email TEXT NOT NULL, salt BLOB NOT NULL, code_hash BLOB NOT NULL,
    expires_at INTEGER NOT NULL, attempts_left INTEGER NOT NULL, mail_id TEXT NOT NULL,
    created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (account BLOB PRIMARY KEY, last_nonce INTEGER NOT NULL);
";

/// The schema's version (`PRAGMA user_version`): 0 before double opt-in, 1 with it.
const SCHEMA_VERSION: i64 = 1;

/// One mail to queue: rendered when its event is read, sent later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Fixed by the event and recipient (or the registration): the outbox's key,
    /// so a range read twice queues the mail once.
    pub message_id: String,
    /// The event's block, 0 for a confirmation: a reorg below it withdraws the
    /// mail if still unsent.
    pub block: u64,
    /// The account it is for: a notice goes to its confirmed address, looked up
    /// when the mail is due.
    pub recipient: Address,
    /// What it is: a notice's [`Notice::kind`](crate::notice::Notice::kind), or
    /// [`optin::KIND`] for a confirmation.
    pub kind: &'static str,
    /// The Subject: header.
    pub subject: String,
    /// The plain-text body; a confirmation's is blanked once no longer needed.
    pub body: String,
}

/// A mail due now, with the address it goes to: the recipient's confirmed
/// address for a notice, the address being registered for a confirmation.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The outbox's key, sent as the Message-ID header.
    pub message_id: String,
    /// The address it goes to.
    pub email: String,
    /// The Subject: header.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// Attempts that ended without a 250 so far: the retry backoff grows with them.
    pub attempts: u32,
}

/// What one block range changes, committed with the cursor that passes it.
#[derive(Debug, Default)]
pub struct Batch {
    /// The range's last block: the cursor once the batch is committed.
    pub to_block: u64,
    /// `to_block`'s hash, remembered to detect a reorg.
    pub to_hash: B256,
    /// Grants read: (token id in decimal, patient, doctor, block).
    pub grants: Vec<(String, Address, Address, u64)>,
    /// Revocations read: (token id in decimal, block).
    pub revokes: Vec<(String, u64)>,
    /// Emergency windows opened: (patient, doctor, block).
    pub emergencies: Vec<(Address, Address, u64)>,
    /// The range's mails, to recipients with a confirmed address.
    pub mails: Vec<Mail>,
}

/// Outbox totals by status, for the health endpoint.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct OutboxCounts {
    /// Waiting for their first attempt or a retry.
    pub pending: u64,
    /// Marked just before their end of data, the server's reply not yet
    /// recorded: in doubt, at most one.
    pub sending: u64,
    /// Taken by the SMTP server (its 250).
    pub sent: u64,
    /// Not sent, and never will be: no confirmed address when due, or the
    /// registration a confirmation was for is gone.
    pub dropped: u64,
    /// Refused for good (a 5xx) or impossible to build.
    pub failed: u64,
}

/// Why a directory request was refused by the store.
#[derive(Debug, PartialEq, Eq)]
pub enum NonceError {
    /// The nonce was used already (or a later one was): a replay.
    Replayed {
        /// The highest nonce the account used.
        last: u64,
    },
}

/// Where an account stands in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactStatus {
    /// No address: nothing is mailed.
    None,
    /// A registration waits for its code. Notices still go to the confirmed
    /// address, if the account has one from before.
    Pending,
    /// A confirmed address and nothing pending.
    Confirmed,
}

impl ContactStatus {
    /// The word `GET /v1/contacts/{account}/status` answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
        }
    }
}

/// What one confirmation attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// The code was right: the address is the account's confirmed address.
    Confirmed,
    /// A wrong code; the registration survives this many more wrong ones
    /// (the last of them deletes it).
    Wrong {
        /// Codes the registration still takes; the last, if wrong, deletes it.
        attempts_left: u32,
    },
    /// A wrong code and no attempt left: the registration is deleted.
    Exhausted,
    /// No registration waits (none was made, or it expired and is now deleted).
    NotPending,
}

/// The database, one connection behind a lock: the follower, the mailer and
/// the directory share it, and every change is one transaction.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens the database at `path`, creating it 0600 (or tightening it to
    /// 0600), and brings its schema up to date. Fails with [`Error::File`] if
    /// its mode cannot be set, [`Error::Db`] if SQLite fails.
    pub fn open(path: &Path) -> Result<Self> {
        make_private(path)?;
        let mut conn = Connection::open(path)?;
        // WAL + NORMAL: a commit survives the process being killed (it is in the
        // OS's cache); only a power loss can take the last commits, and then the
        // range is read again and the outbox key keeps it exactly-once.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // What is deleted or overwritten (a confirmation mail's code) is zeroed
        // in the pages SQLite writes anyway.
        conn.pragma_update(None, "secure_delete", "FAST")?;
        conn.execute_batch(SCHEMA)?;
        Self::migrate(&mut conn)?;
        // SQLite gives the files it creates the database's mode; this catches
        // anything that did not come from it.
        for file in sidecars(path) {
            tighten(&file)?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Brings a database written by an earlier version to [`SCHEMA_VERSION`].
    ///
    /// Version 1 (double opt-in) adds the outbox's `email` column and the
    /// pending registrations (created by SCHEMA), and empties `contacts`:
    /// addresses registered before it were never proven to be their owners'
    /// mailboxes (anyone holding the account's key could name any address), and
    /// `contacts` now means "confirmed". Rather than keep mailing such addresses,
    /// with account names and times of access, the notifier stops: each account
    /// registers again and confirms the code (its nonces are kept, so no request
    /// signed before can be replayed). Notices already queued to them are
    /// dropped when due. The count is logged at the upgrade.
    fn migrate(conn: &mut Connection) -> Result<()> {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version >= SCHEMA_VERSION {
            return Ok(());
        }
        let tx = conn.transaction()?;
        let has_email: i64 = tx.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'email'",
            [],
            |r| r.get(0),
        )?;
        if has_email == 0 {
            tx.execute("ALTER TABLE outbox ADD COLUMN email TEXT", [])?;
        }
        let unconfirmed = tx.execute("DELETE FROM contacts", [])?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        if unconfirmed > 0 {
            tracing::warn!(
                unconfirmed,
                "addresses registered before double opt-in were removed: \
                 their accounts must register again and confirm the mailed code"
            );
        }
        Ok(())
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

    /// Whether `account` has a confirmed address: notices are queued for no one
    /// else (a pending registration does not count).
    pub fn has_contact(&self, account: Address) -> Result<bool> {
        Self::confirmed(&self.conn(), account)
    }

    /// Sets `sending` mails back to `pending` (after a crash): returns how many.
    pub fn recover_in_doubt(&self) -> Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE outbox SET status = 'pending', next_at = 0 WHERE status = 'sending'",
            [],
        )? as u64;
        if n > 0 {
            Self::count_in_doubt(&tx, n)?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Mails sent again while in doubt (after a crash, or a connection lost
    /// after the end of their data), over the database's life.
    pub fn in_doubt_total(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'in_doubt'", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .unwrap_or(0) as u64)
    }

    /// Mails due at `now`, oldest first (confirmations, block 0, before
    /// notices). A notice whose recipient has no confirmed address any more is
    /// dropped here, and so is a confirmation whose registration is gone
    /// (confirmed, replaced, removed or expired).
    pub fn due(&self, now: u64, limit: usize) -> Result<Vec<Outgoing>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET status = 'dropped' WHERE status = 'pending' AND email IS NULL
             AND recipient NOT IN (SELECT account FROM contacts)",
            [],
        )?;
        tx.execute(
            "UPDATE outbox SET status = 'dropped', body = ?2
             WHERE status = 'pending' AND email IS NOT NULL
             AND message_id NOT IN (SELECT mail_id FROM pending_contacts WHERE expires_at > ?1)",
            params![now as i64, optin::SCRUBBED],
        )?;
        let out = {
            let mut stmt = tx.prepare_cached(
                "SELECT o.message_id, COALESCE(o.email, c.email), o.subject, o.body, o.attempts
                 FROM outbox o LEFT JOIN contacts c ON o.email IS NULL AND c.account = o.recipient
                 WHERE o.status = 'pending' AND o.next_at <= ?1
                 AND COALESCE(o.email, c.email) IS NOT NULL
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

    /// Sets a mail's status. A confirmation's code leaves its body once the
    /// mail is `sent` (or `failed`): only the mailbox keeps it.
    pub fn mark(&self, message_id: &str, status: &str, at: u64) -> Result<()> {
        let sent_at = (status == "sent").then_some(at as i64);
        self.conn().execute(
            "UPDATE outbox SET status = ?2, sent_at = COALESCE(?3, sent_at),
             body = CASE WHEN email IS NOT NULL AND ?2 IN ('sent', 'failed') THEN ?4 ELSE body END
             WHERE message_id = ?1",
            params![message_id, status, sent_at, optin::SCRUBBED],
        )?;
        Ok(())
    }

    /// Puts a mail back in line for `next_at`. `in_doubt`: the attempt ended
    /// after the end of its data (a broken connection, no reply), so the server
    /// may hold it; the retry is counted with the re-sends after a crash.
    pub fn retry_at(&self, message_id: &str, next_at: u64, in_doubt: bool) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_at = ?2 WHERE message_id = ?1",
            params![message_id, next_at as i64],
        )?;
        if in_doubt {
            Self::count_in_doubt(&tx, 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn count_in_doubt(conn: &Connection, n: u64) -> Result<()> {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('in_doubt', ?1)
             ON CONFLICT (key) DO UPDATE SET value = value + ?1",
            [n as i64],
        )?;
        Ok(())
    }

    /// The outbox's mails by status, for `/health`.
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

    /// Checks that `nonce` is above every nonce `account` used and records it
    /// (inside the caller's transaction).
    fn use_nonce(tx: &Connection, account: Address, nonce: u64) -> Result<Result<(), NonceError>> {
        if let Some(last) = Self::last_nonce(tx, account)? {
            if nonce <= last {
                return Ok(Err(NonceError::Replayed { last }));
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO nonces (account, last_nonce) VALUES (?1, ?2)",
            params![account.as_slice(), nonce as i64],
        )?;
        Ok(Ok(()))
    }

    /// Withdraws the confirmation mail `mail_id` (if it still waits) and blanks
    /// its code. One in an SMTP transaction is left to the mailer, which blanks
    /// it once sent.
    fn scrub_confirmation(tx: &Connection, mail_id: &str) -> Result<()> {
        tx.execute(
            "UPDATE outbox SET body = ?2,
             status = CASE status WHEN 'pending' THEN 'dropped' ELSE status END
             WHERE message_id = ?1 AND email IS NOT NULL AND status != 'sending'",
            params![mail_id, optin::SCRUBBED],
        )?;
        Ok(())
    }

    /// Deletes `account`'s pending registration, if any, with its mail's code.
    fn drop_pending(tx: &Connection, account: Address) -> Result<()> {
        let mail_id: Option<String> = tx
            .query_row(
                "SELECT mail_id FROM pending_contacts WHERE account = ?1",
                [account.as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(mail_id) = mail_id {
            Self::scrub_confirmation(tx, &mail_id)?;
            tx.execute(
                "DELETE FROM pending_contacts WHERE account = ?1",
                [account.as_slice()],
            )?;
        }
        Ok(())
    }

    /// Deletes every registration expired at `now`, with its mail's code.
    fn purge_expired(tx: &Connection, now: u64) -> Result<()> {
        tx.execute(
            "UPDATE outbox SET body = ?2,
             status = CASE status WHEN 'pending' THEN 'dropped' ELSE status END
             WHERE email IS NOT NULL AND status != 'sending'
             AND message_id IN (SELECT mail_id FROM pending_contacts WHERE expires_at <= ?1)",
            params![now as i64, optin::SCRUBBED],
        )?;
        tx.execute(
            "DELETE FROM pending_contacts WHERE expires_at <= ?1",
            [now as i64],
        )?;
        Ok(())
    }

    /// Registers `email` for `account`, pending its code, if `nonce` is above
    /// every nonce the account used (checked and recorded in the same
    /// transaction): the registration (the code's salted hash, never the code),
    /// replacing a pending one, and its confirmation `mail` in the outbox. A
    /// confirmed address is left as it is until the code comes back. Returns
    /// the registration's expiry.
    pub fn register_pending(
        &self,
        account: Address,
        email: &str,
        nonce: u64,
        code: &str,
        now: u64,
        mail: &Mail,
    ) -> Result<Result<u64, NonceError>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Err(e) = Self::use_nonce(&tx, account, nonce)? {
            return Ok(Err(e));
        }
        Self::purge_expired(&tx, now)?;
        Self::drop_pending(&tx, account)?;
        let salt = optin::new_salt();
        let expires_at = now + optin::TTL_SECS;
        tx.execute(
            "INSERT INTO pending_contacts
             (account, email, salt, code_hash, expires_at, attempts_left, mail_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                account.as_slice(),
                email,
                salt.as_slice(),
                optin::hash(&salt, account, code).as_slice(),
                expires_at as i64,
                optin::ATTEMPTS,
                mail.message_id,
                now as i64
            ],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO outbox
             (message_id, block, recipient, kind, subject, body, status, next_at, queued_at, email)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8)",
            params![
                mail.message_id,
                mail.block as i64,
                account.as_slice(),
                mail.kind,
                mail.subject,
                mail.body,
                now as i64,
                email
            ],
        )?;
        tx.commit()?;
        Ok(Ok(expires_at))
    }

    /// Checks `code` (normalized: see careledger_contact::normalize_code)
    /// against `account`'s pending registration. A right code makes its address
    /// the confirmed one (replacing an earlier one); a wrong one uses an
    /// attempt, and the last attempt deletes the registration.
    pub fn confirm(&self, account: Address, code: &str, now: u64) -> Result<Confirmation> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        Self::purge_expired(&tx, now)?;
        let pending = tx
            .query_row(
                "SELECT email, salt, code_hash, attempts_left FROM pending_contacts
                 WHERE account = ?1",
                [account.as_slice()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((email, salt, code_hash, attempts_left)) = pending else {
            tx.commit()?;
            return Ok(Confirmation::NotPending);
        };
        // Hashes are compared, never codes: the time a comparison takes says
        // nothing about the code.
        let outcome = if optin::hash(&salt, account, code).as_slice() == code_hash.as_slice() {
            tx.execute(
                "INSERT OR REPLACE INTO contacts (account, email, updated_at) VALUES (?1, ?2, ?3)",
                params![account.as_slice(), email, now as i64],
            )?;
            Self::drop_pending(&tx, account)?;
            Confirmation::Confirmed
        } else if attempts_left <= 1 {
            Self::drop_pending(&tx, account)?;
            Confirmation::Exhausted
        } else {
            tx.execute(
                "UPDATE pending_contacts SET attempts_left = ?2 WHERE account = ?1",
                params![account.as_slice(), attempts_left - 1],
            )?;
            Confirmation::Wrong {
                attempts_left: (attempts_left - 1) as u32,
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// Removes `account`'s addresses, confirmed and pending, if `nonce` is above
    /// every nonce it used (checked and recorded in one transaction).
    pub fn remove_contact(
        &self,
        account: Address,
        nonce: u64,
        now: u64,
    ) -> Result<Result<(), NonceError>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Err(e) = Self::use_nonce(&tx, account, nonce)? {
            return Ok(Err(e));
        }
        Self::purge_expired(&tx, now)?;
        Self::drop_pending(&tx, account)?;
        tx.execute(
            "DELETE FROM contacts WHERE account = ?1",
            [account.as_slice()],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    /// `account`'s standing at `now`: pending while an unexpired registration
    /// waits for its code (even if an earlier address is confirmed and still
    /// receives the notices), else confirmed or none. Reads only.
    pub fn contact_status(&self, account: Address, now: u64) -> Result<ContactStatus> {
        let conn = self.conn();
        let pending = conn
            .query_row(
                "SELECT 1 FROM pending_contacts WHERE account = ?1 AND expires_at > ?2",
                params![account.as_slice(), now as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        Ok(if pending {
            ContactStatus::Pending
        } else if Self::confirmed(&conn, account)? {
            ContactStatus::Confirmed
        } else {
            ContactStatus::None
        })
    }

    fn confirmed(conn: &Connection, account: Address) -> Result<bool> {
        Ok(conn
            .query_row(
                "SELECT 1 FROM contacts WHERE account = ?1",
                [account.as_slice()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
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

/// The files SQLite may keep beside the database: they hold its pages too.
fn sidecars(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    ["-wal", "-shm", "-journal"].into_iter().map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// Creates the database 0600, or tightens an existing one (and its sidecars)
/// to 0600, before SQLite opens it: SQLite gives its -wal, -shm and -journal
/// files the database's mode, so they follow.
fn make_private(path: &Path) -> Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        // The umask may have taken bits away from 0600 (even the owner's): set
        // the mode itself, so it is 0600 whatever the umask.
        Ok(file) => file
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::file(path, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::file(path, e)),
    }
    tighten(path)?;
    for file in sidecars(path) {
        tighten(&file)?;
    }
    Ok(())
}

/// Sets `path` to 0600 if anyone but its owner may read or write it (an
/// earlier version created the database 0644), and says so.
fn tighten(path: &Path) -> Result<()> {
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::file(path, e)),
    };
    if mode & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::file(path, e))?;
    tracing::warn!(
        path = %path.display(),
        was = %format!("{mode:04o}"),
        "the notifier's database file was readable by others (it holds email addresses): now 0600"
    );
    Ok(())
}

#[cfg(test)]
impl Store {
    /// Gives `account` the confirmed address `email` the way the directory
    /// does: a registration, its mail sent, the right code.
    pub(crate) fn confirm_for_tests(&self, account: Address, email: &str) {
        let nonce = self.next_nonce(account).unwrap().unwrap();
        let mail = optin::mail(1, account, nonce, "ABCDEFGH", 0);
        self.register_pending(account, email, nonce, "ABCDEFGH", crate::now(), &mail)
            .unwrap()
            .unwrap();
        self.mark(&mail.message_id, "sent", 1).unwrap();
        assert_eq!(
            self.confirm(account, "ABCDEFGH", crate::now()).unwrap(),
            Confirmation::Confirmed
        );
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

    /// A registration of `email` for `account` with `code` and `nonce` at `now`;
    /// returns its confirmation mail.
    fn register(
        s: &Store,
        account: Address,
        email: &str,
        code: &str,
        nonce: u64,
        now: u64,
    ) -> Mail {
        let m = optin::mail(1, account, nonce, code, now + optin::TTL_SECS);
        assert_eq!(
            s.register_pending(account, email, nonce, code, now, &m)
                .unwrap(),
            Ok(now + optin::TTL_SECS)
        );
        m
    }

    /// A notice to `to` queued in block 1.
    fn notice(s: &Store, id: &str, to: Address) {
        s.apply(
            &Batch {
                to_block: 1,
                mails: vec![mail(id, 1, to)],
                ..Batch::default()
            },
            1,
        )
        .unwrap();
    }

    /// (status, body) of one outbox row.
    fn row(s: &Store, id: &str) -> (String, String) {
        s.conn()
            .query_row(
                "SELECT status, body FROM outbox WHERE message_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    const NOW: u64 = 1_000_000;

    #[test]
    fn a_range_read_twice_queues_each_mail_once() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        s.confirm_for_tests(doc, "d@example.org");
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
        s.confirm_for_tests(doc, "d@example.org");
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

    /// A connection lost after the end of data: the server may hold the mail,
    /// so its retry is counted with the re-sends after a crash; a refusal
    /// (4xx) or a failure before the end of data is not.
    #[test]
    fn a_retry_after_the_end_of_data_is_counted_in_doubt() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        s.confirm_for_tests(doc, "d@example.org");
        notice(&s, "<a>", doc);
        s.retry_at("<a>", 5, false).unwrap();
        assert_eq!(s.in_doubt_total().unwrap(), 0);
        assert!(s.due(4, 10).unwrap().is_empty(), "not before its time");
        s.mark("<a>", "sending", 5).unwrap();
        s.retry_at("<a>", 6, true).unwrap();
        assert_eq!(s.in_doubt_total().unwrap(), 1);
        assert_eq!(s.outbox_counts().unwrap().sending, 0);
        let due = s.due(6, 10).unwrap();
        assert_eq!((due[0].message_id.as_str(), due[0].attempts), ("<a>", 2));
    }

    #[test]
    fn a_rewind_withdraws_unsent_mails_and_restores_grants() {
        let (_d, s) = store();
        let (p, doc) = (Address::repeat_byte(2), Address::repeat_byte(1));
        s.confirm_for_tests(doc, "d@example.org");
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
        // The confirmation mail (block 0) is no block's: a rewind leaves it.
        assert_eq!(s.outbox_counts().unwrap().sent, 2);
    }

    #[test]
    fn nonces_only_go_up_and_unregistered_recipients_are_dropped() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        assert_eq!(s.next_nonce(doc).unwrap(), Some(0));
        register(&s, doc, "d@example.org", "ABCDEFGH", 4, NOW);
        let replay = optin::mail(1, doc, 4, "ZZZZZZZZ", NOW);
        assert_eq!(
            s.register_pending(doc, "evil@example.org", 4, "ZZZZZZZZ", NOW, &replay)
                .unwrap(),
            Err(NonceError::Replayed { last: 4 })
        );
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::Confirmed
        );
        assert_eq!(s.next_nonce(doc).unwrap(), Some(5));
        notice(&s, "<a>", doc);
        assert_eq!(
            s.remove_contact(doc, 4, NOW).unwrap(),
            Err(NonceError::Replayed { last: 4 })
        );
        s.remove_contact(doc, 5, NOW).unwrap().unwrap();
        assert!(s.due(NOW, 10).unwrap().is_empty());
        // The notice, and the confirmation never sent (confirmed meanwhile).
        assert_eq!(s.outbox_counts().unwrap().dropped, 2);
    }

    /// Nonces are u64: above 2^53 (where a JSON number stops being exact in
    /// JavaScript) and up to u64::MAX (above i64::MAX, SQLite's largest
    /// integer) they are stored, compared and read back unchanged.
    #[test]
    fn nonces_above_2_pow_53_and_near_u64_max_round_trip() {
        let (dir, s) = store();
        let doc = Address::repeat_byte(1);
        let big = (1u64 << 53) + 1;
        register(&s, doc, "d@example.org", "ABCDEFGH", big, NOW);
        assert_eq!(s.next_nonce(doc).unwrap(), Some(big + 1));
        assert_eq!(
            s.remove_contact(doc, big, NOW).unwrap(),
            Err(NonceError::Replayed { last: big })
        );
        // Across i64::MAX: a signed comparison would take u64::MAX - 1 as -2.
        for n in [i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX - 1] {
            register(&s, doc, "d@example.org", "ABCDEFGH", n, NOW);
            assert_eq!(s.next_nonce(doc).unwrap(), Some(n + 1));
            for old in [0, big, n] {
                let m = optin::mail(1, doc, old, "ZZZZZZZZ", NOW);
                assert_eq!(
                    s.register_pending(doc, "evil@example.org", old, "ZZZZZZZZ", NOW, &m)
                        .unwrap(),
                    Err(NonceError::Replayed { last: n }),
                    "{old} after {n}"
                );
            }
        }
        register(&s, doc, "d@example.org", "ABCDEFGH", u64::MAX, NOW);
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::Confirmed
        );
        assert_eq!(s.next_nonce(doc).unwrap(), None, "no nonce is left");
        assert_eq!(
            s.remove_contact(doc, u64::MAX, NOW).unwrap(),
            Err(NonceError::Replayed { last: u64::MAX })
        );
        // A reopened database reads the same.
        drop(s);
        let s = Store::open(&dir.path().join("n.sqlite")).unwrap();
        assert_eq!(s.next_nonce(doc).unwrap(), None);
        assert!(s.has_contact(doc).unwrap());
    }

    /// Pending, the address gets its confirmation and no notice; the right
    /// code makes it the account's address; the code is never stored.
    #[test]
    fn a_registration_is_pending_until_its_code_comes_back() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        assert_eq!(s.contact_status(doc, NOW).unwrap(), ContactStatus::None);
        let m = register(&s, doc, "d@example.org", "K7MPQ2XZ", 0, NOW);
        assert_eq!(s.contact_status(doc, NOW).unwrap(), ContactStatus::Pending);
        assert!(!s.has_contact(doc).unwrap(), "no notice is queued for it");
        notice(&s, "<n1>", doc);
        let due = s.due(NOW, 10).unwrap();
        assert_eq!(due.len(), 1, "the confirmation only: {due:?}");
        assert_eq!(
            (due[0].message_id.as_str(), due[0].email.as_str()),
            (m.message_id.as_str(), "d@example.org")
        );
        assert!(due[0].body.contains("K7MPQ2XZ"));
        assert_eq!(row(&s, "<n1>").0, "dropped");
        // The registration holds a salted hash, not the code.
        let (hash, salt): (Vec<u8>, Vec<u8>) = s
            .conn()
            .query_row(
                "SELECT code_hash, salt FROM pending_contacts WHERE account = ?1",
                [doc.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(hash, optin::hash(&salt, doc, "K7MPQ2XZ").as_slice());
        // Sent, the mail's body loses the code.
        s.mark(&m.message_id, "sending", NOW).unwrap();
        s.mark(&m.message_id, "sent", NOW).unwrap();
        assert_eq!(
            row(&s, &m.message_id),
            ("sent".into(), optin::SCRUBBED.into())
        );
        let dump: String = s
            .conn()
            .query_row(
                "SELECT group_concat(quote(email) || quote(salt) || quote(code_hash) || mail_id)
                 FROM pending_contacts",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!dump.contains("K7MPQ2XZ"), "{dump}");

        assert_eq!(
            s.confirm(doc, "K7MPQ2XA", NOW + 1).unwrap(),
            Confirmation::Wrong { attempts_left: 4 }
        );
        assert_eq!(
            s.confirm(doc, "K7MPQ2XZ", NOW + 2).unwrap(),
            Confirmation::Confirmed
        );
        assert_eq!(
            s.contact_status(doc, NOW + 2).unwrap(),
            ContactStatus::Confirmed
        );
        assert!(s.has_contact(doc).unwrap());
        assert_eq!(
            s.confirm(doc, "K7MPQ2XZ", NOW + 3).unwrap(),
            Confirmation::NotPending,
            "a code works once"
        );
        notice(&s, "<n2>", doc);
        let due = s.due(NOW, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].message_id.as_str(), due[0].email.as_str()),
            ("<n2>", "d@example.org")
        );
    }

    #[test]
    fn the_fifth_wrong_code_deletes_the_registration() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        let m = register(&s, doc, "d@example.org", "ABCDEFGH", 0, NOW);
        for left in (1..optin::ATTEMPTS).rev() {
            assert_eq!(
                s.confirm(doc, "HGFEDCBA", NOW).unwrap(),
                Confirmation::Wrong {
                    attempts_left: left
                }
            );
        }
        assert_eq!(
            s.confirm(doc, "HGFEDCBA", NOW).unwrap(),
            Confirmation::Exhausted
        );
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::NotPending
        );
        assert_eq!(s.contact_status(doc, NOW).unwrap(), ContactStatus::None);
        assert!(!s.has_contact(doc).unwrap());
        // Its mail, not yet sent, is withdrawn with its code.
        assert_eq!(
            row(&s, &m.message_id),
            ("dropped".into(), optin::SCRUBBED.into())
        );
        assert!(s.due(NOW, 10).unwrap().is_empty());
    }

    #[test]
    fn an_expired_registration_is_gone() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        let m = register(&s, doc, "d@example.org", "ABCDEFGH", 0, NOW);
        let end = NOW + optin::TTL_SECS;
        assert_eq!(
            s.contact_status(doc, end - 1).unwrap(),
            ContactStatus::Pending
        );
        assert_eq!(s.contact_status(doc, end).unwrap(), ContactStatus::None);
        // SMTP was down all day: the mail is no longer sent.
        assert!(s.due(end, 10).unwrap().is_empty());
        assert_eq!(
            row(&s, &m.message_id),
            ("dropped".into(), optin::SCRUBBED.into())
        );
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", end).unwrap(),
            Confirmation::NotPending
        );
        let left: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM pending_contacts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "deleted");
        // A registration elsewhere purges expired ones too.
        register(&s, doc, "d@example.org", "ABCDEFGH", 1, NOW);
        register(
            &s,
            Address::repeat_byte(2),
            "e@example.org",
            "ABCDEFGH",
            0,
            end + 5,
        );
        let left: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM pending_contacts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 1);
    }

    #[test]
    fn the_confirmed_address_keeps_the_notices_until_a_new_one_is_confirmed() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        register(&s, doc, "old@example.org", "ABCDEFGH", 0, NOW);
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::Confirmed
        );
        let m = register(&s, doc, "new@example.org", "JKMNPQRS", 1, NOW);
        assert_eq!(s.contact_status(doc, NOW).unwrap(), ContactStatus::Pending);
        assert!(s.has_contact(doc).unwrap());
        notice(&s, "<n1>", doc);
        let mut due = s.due(NOW, 10).unwrap();
        due.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        let to: Vec<_> = due
            .iter()
            .map(|o| (o.message_id.as_str(), o.email.as_str()))
            .collect();
        assert_eq!(
            to,
            vec![
                (m.message_id.as_str(), "new@example.org"),
                ("<n1>", "old@example.org")
            ]
        );
        for o in &due {
            s.mark(&o.message_id, "sent", NOW).unwrap();
        }
        // A wrong code for the new one changes nothing for the old.
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::Wrong { attempts_left: 4 }
        );
        assert!(s.has_contact(doc).unwrap());
        assert_eq!(
            s.confirm(doc, "JKMNPQRS", NOW).unwrap(),
            Confirmation::Confirmed
        );
        notice(&s, "<n2>", doc);
        let due = s.due(NOW, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].message_id.as_str(), due[0].email.as_str()),
            ("<n2>", "new@example.org")
        );
    }

    #[test]
    fn a_second_registration_replaces_the_pending_one_and_its_mail() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        let first = register(&s, doc, "a@example.org", "ABCDEFGH", 0, NOW);
        let second = register(&s, doc, "b@example.org", "JKMNPQRS", 1, NOW);
        assert_eq!(
            row(&s, &first.message_id),
            ("dropped".into(), optin::SCRUBBED.into())
        );
        let due = s.due(NOW, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].message_id, second.message_id);
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::Wrong { attempts_left: 4 },
            "the first code is void"
        );
        assert_eq!(
            s.confirm(doc, "JKMNPQRS", NOW).unwrap(),
            Confirmation::Confirmed
        );
        notice(&s, "<n>", doc);
        let due = s.due(NOW, 10).unwrap();
        assert_eq!(due[0].email, "b@example.org");
    }

    #[test]
    fn a_removal_clears_the_confirmed_and_the_pending_address() {
        let (_d, s) = store();
        let doc = Address::repeat_byte(1);
        register(&s, doc, "old@example.org", "ABCDEFGH", 0, NOW);
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::Confirmed
        );
        let m = register(&s, doc, "new@example.org", "JKMNPQRS", 1, NOW);
        notice(&s, "<n1>", doc);
        s.remove_contact(doc, 2, NOW).unwrap().unwrap();
        assert_eq!(s.contact_status(doc, NOW).unwrap(), ContactStatus::None);
        assert!(!s.has_contact(doc).unwrap());
        assert_eq!(
            s.confirm(doc, "JKMNPQRS", NOW).unwrap(),
            Confirmation::NotPending
        );
        assert!(s.due(NOW, 10).unwrap().is_empty());
        assert_eq!(
            row(&s, &m.message_id),
            ("dropped".into(), optin::SCRUBBED.into())
        );
        assert_eq!(row(&s, "<n1>").0, "dropped");
    }

    /// A database from before double opt-in: its addresses, never confirmed,
    /// get no more notices (the notices queued to them are dropped); its nonces
    /// and outbox stay.
    #[test]
    fn a_database_from_before_double_opt_in_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let doc = Address::repeat_byte(1);
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 CREATE TABLE outbox (
                    message_id TEXT PRIMARY KEY, block INTEGER NOT NULL, recipient BLOB NOT NULL,
                    kind TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
                    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                    next_at INTEGER NOT NULL, queued_at INTEGER NOT NULL, sent_at INTEGER);
                 CREATE TABLE contacts (
                    account BLOB PRIMARY KEY, email TEXT NOT NULL, updated_at INTEGER NOT NULL);
                 CREATE TABLE nonces (account BLOB PRIMARY KEY, last_nonce INTEGER NOT NULL);
                 INSERT INTO meta VALUES ('cursor', 7);",
            )
            .unwrap();
            old.execute(
                "INSERT INTO contacts VALUES (?1, 'd@example.org', 1)",
                [doc.as_slice()],
            )
            .unwrap();
            old.execute("INSERT INTO nonces VALUES (?1, 3)", [doc.as_slice()])
                .unwrap();
            old.execute(
                "INSERT INTO outbox (message_id, block, recipient, kind, subject, body, status, next_at, queued_at)
                 VALUES ('<old>', 7, ?1, 'grant', 's', 'b', 'pending', 0, 1)",
                [doc.as_slice()],
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.cursor().unwrap(), Some(7));
        assert!(!s.has_contact(doc).unwrap());
        assert_eq!(s.contact_status(doc, NOW).unwrap(), ContactStatus::None);
        assert_eq!(
            s.next_nonce(doc).unwrap(),
            Some(4),
            "old signatures stay spent"
        );
        assert!(s.due(NOW, 10).unwrap().is_empty());
        assert_eq!(row(&s, "<old>").0, "dropped");
        // Registering again works on the migrated tables.
        register(&s, doc, "d@example.org", "ABCDEFGH", 4, NOW);
        assert_eq!(s.due(NOW, 10).unwrap().len(), 1);
        assert_eq!(
            s.confirm(doc, "ABCDEFGH", NOW).unwrap(),
            Confirmation::Confirmed
        );
        drop(s);
        // Opened again: nothing more is migrated away.
        let s = Store::open(&path).unwrap();
        assert!(s.has_contact(doc).unwrap());
    }
}
