//! Contract events turned into mails. A mail says who, when, what kind of
//! access and which CLI command to run; it never carries record content, a
//! category name or a CID: those stay behind the access check.

use crate::store::Mail;
use alloy::primitives::{Address, B256, U256};

/// One event worth a mail, with where it sits in the chain.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The chain the event is on: part of the Message-ID.
    pub chain_id: u64,
    /// The event's block: a reorg below it withdraws the mail if still unsent.
    pub block: u64,
    /// The block's time, in Unix seconds: the time the mail gives.
    pub timestamp: u64,
    /// The transaction that logged the event.
    pub tx: B256,
    /// The log's index in its block: with `tx`, which event this is.
    pub log_index: u64,
    /// What happened.
    pub what: What,
}

/// The events the notifier mails about, with what their mails name.
#[derive(Debug, Clone)]
pub enum What {
    /// AccessGranted: a patient gave a doctor an access token.
    Granted {
        /// The access token.
        token: U256,
        /// The patient who granted it.
        patient: Address,
        /// The doctor it was granted to: the one mailed.
        doctor: Address,
        /// When the access ends, in Unix seconds.
        expires_at: u64,
        /// The kind of scope, by careledger_common::scope: all records, listed
        /// records or one category.
        scope_kind: u8,
        /// How many records the grant lists (a listed scope's).
        records: usize,
    },
    /// AccessRevoked: a doctor's access token ended, revoked or cleared for a
    /// new one (`replaced_by`).
    Revoked {
        /// The token that ended.
        token: U256,
        /// The patient whose records it covered.
        patient: Address,
        /// The token's doctor: the one mailed.
        doctor: Address,
        /// The token the same transaction granted the same doctor for the same
        /// patient, if any: then `token` was not revoked as such but cleared for
        /// it (an expired token `grant` burns to make room, or a batched
        /// revoke and grant). See follow::link_replacements.
        replaced_by: Option<U256>,
    },
    /// EmergencyAccess: a doctor opened break-glass access to a patient's records.
    Emergency {
        /// The patient: the one mailed.
        patient: Address,
        /// The doctor who opened it.
        doctor: Address,
        /// When the emergency window closes, in Unix seconds.
        expires_at: u64,
        /// careledger_common::emergency_reason, as the doctor stated it.
        reason: u8,
    },
    /// One of the patient's emergency custodians re-wrapped a record key for a
    /// doctor holding an emergency window.
    KeyReleased {
        /// The record whose key was released.
        record: U256,
        /// The record's patient: the one mailed.
        patient: Address,
        /// The doctor the key was released to.
        doctor: Address,
        /// The custodian who re-wrapped the key.
        custodian: Address,
        /// The record's version whose key was released.
        version: u32,
    },
    /// RecordAdded: a patient added a record, or a version of one; the doctors
    /// whose access covers it are mailed.
    RecordAdded {
        /// The record.
        record: U256,
        /// The patient who added it.
        patient: Address,
        /// The version added: 1 for a new record.
        version: u32,
        /// The record's blinded category code: which grants' scopes cover it.
        /// Never mailed.
        category: B256,
    },
}

/// Stable for one (chain, transaction, log, recipient): a restart renders the
/// same id, so the outbox keeps one row and receivers can drop a second copy.
pub fn message_id(chain_id: u64, tx: B256, log_index: u64, recipient: Address) -> String {
    format!(
        "<{chain_id}.{}.{log_index}.{}@notifier.careledger>",
        alloy::hex::encode(tx),
        alloy::hex::encode(recipient)
    )
}

/// `2026-11-25 12:30:45 UTC`, or `unix time N (after the year 9999)`: any u64
/// renders (an expiry is whatever the granting client chose).
pub(crate) fn when(secs: u64) -> String {
    let text = careledger_bindings::time::rfc3339(secs);
    if secs > careledger_bindings::time::LAST_RFC3339 {
        return text;
    }
    text.replacen('T', " ", 1).replace('Z', " UTC")
}

/// A grant's scope in words, by the kinds of careledger_common::scope.
fn scope(kind: u8, records: usize) -> String {
    match kind {
        0 => "all of the patient's records".into(),
        1 => format!("the records listed in the grant ({records} record(s))"),
        2 => "the records of one category".into(),
        other => format!("records under an unknown scope kind {other}"),
    }
}

/// The reason a doctor stated for break-glass access, by the codes of
/// careledger_common::emergency_reason.
fn reason(code: u8) -> String {
    match code {
        1 => "the patient is unconscious or unable to consent".into(),
        2 => "a life-threatening condition".into(),
        3 => "the patient cannot communicate".into(),
        4 => "another urgent treatment".into(),
        other => format!("reason code {other}"),
    }
}

const FOOTER: &str = "\n\nThis notice carries no medical information. Records are read with the \
careledger CLI (or the web app) and each read is logged on chain.\n\
You receive it because this address is registered with the CareLedger notifier; \
unregister with a signed request to stop.\n";

impl Notice {
    /// The accounts this event concerns, before the directory is consulted.
    /// RecordAdded has none here: its readers are found on chain.
    pub fn direct_recipients(&self) -> Vec<Address> {
        match &self.what {
            What::Granted { doctor, .. } | What::Revoked { doctor, .. } => vec![*doctor],
            What::Emergency { patient, .. } | What::KeyReleased { patient, .. } => vec![*patient],
            What::RecordAdded { .. } => vec![],
        }
    }

    /// The outbox's kind of this notice: `grant`, `revoke`, `emergency`,
    /// `key-release` or `record`.
    pub fn kind(&self) -> &'static str {
        match self.what {
            What::Granted { .. } => "grant",
            What::Revoked { .. } => "revoke",
            What::Emergency { .. } => "emergency",
            What::KeyReleased { .. } => "key-release",
            What::RecordAdded { .. } => "record",
        }
    }

    /// The mail for `recipient`.
    pub fn mail(&self, recipient: Address) -> Mail {
        let at = when(self.timestamp);
        let (subject, body) = match &self.what {
            What::Granted {
                token,
                patient,
                expires_at,
                scope_kind,
                records,
                ..
            } => (
                format!("CareLedger: access granted by patient {patient}"),
                format!(
                    "Patient {patient} granted you access to {} (access token #{token}) at {at}.\n\
                     The access ends at {}.\n\n\
                     To see it and read the records:\n  \
                     careledger grants list --received\n  \
                     careledger record list {patient}\n  \
                     careledger record get <RECORD_ID> -o <FILE>",
                    scope(*scope_kind, *records),
                    when(*expires_at)
                ),
            ),
            What::Revoked {
                token,
                patient,
                replaced_by: Some(new),
                ..
            } => (
                format!("CareLedger: access token #{token} from patient {patient} cleared for a new one"),
                format!(
                    "Your access token #{token} from patient {patient} ended and was cleared at {at}, \
                     when the patient granted you the new access token #{new}.\n\
                     What you may read now is what the new token allows: its own notice \
                     gives its scope and end.\n\n\
                     To see your grants:\n  careledger grants list --received"
                ),
            ),
            What::Revoked { token, patient, .. } => (
                format!("CareLedger: access revoked by patient {patient}"),
                format!(
                    "Patient {patient} revoked your access token #{token} at {at}.\n\
                     Reads under this grant are refused from now on.\n\n\
                     To see what you can still read:\n  careledger grants list --received"
                ),
            ),
            What::Emergency {
                patient: _,
                doctor,
                expires_at,
                reason: code,
            } => (
                format!("CareLedger: emergency access opened by doctor {doctor}"),
                format!(
                    "Doctor {doctor} opened break-glass emergency access to your records at {at}.\n\
                     The stated reason: {}.\n\
                     It lasts until {}; every read is logged on chain.\n\n\
                     Your record keys reach the doctor only through your emergency custodians: \
                     each release is mailed to you.\n\n\
                     To see the reads:\n  careledger audit\n\
                     To close the access now and bar this doctor from opening it again for 30 days:\n  \
                     careledger emergency close {doctor}",
                    reason(*code),
                    when(*expires_at)
                ),
            ),
            What::KeyReleased {
                record,
                patient: _,
                doctor,
                custodian,
                version,
            } => (
                format!("CareLedger: your custodian released a record key to doctor {doctor}"),
                format!(
                    "Your emergency custodian {custodian} released the key of one of your records \
                     (record #{record}, version {version}) to doctor {doctor} under emergency \
                     access at {at}.\n\
                     The doctor can now read that record until the emergency access ends.\n\n\
                     To see the reads:\n  careledger audit\n\
                     To close the access now and bar this doctor from opening it again for 30 days:\n  \
                     careledger emergency close {doctor}"
                ),
            ),
            What::RecordAdded {
                record,
                patient,
                version,
                ..
            } => (
                format!("CareLedger: new record from patient {patient}"),
                format!(
                    "Patient {patient} added record #{record} (version {version}) at {at}, \
                     and your access covers it.\n\n\
                     To read it:\n  careledger record get {record} -o <FILE>"
                ),
            ),
        };
        Mail {
            message_id: message_id(self.chain_id, self.tx, self.log_index, recipient),
            block: self.block,
            recipient,
            kind: self.kind(),
            subject,
            body: format!("{body}{FOOTER}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(when(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(when(1_795_609_845), "2026-11-25 12:30:45 UTC");
        assert_eq!(
            when(u64::MAX),
            "unix time 18446744073709551615 (after the year 9999)"
        );
    }

    #[test]
    fn the_message_id_depends_on_event_and_recipient_only() {
        let n = Notice {
            chain_id: 412346,
            block: 9,
            timestamp: 1,
            tx: B256::repeat_byte(0xab),
            log_index: 3,
            what: What::Revoked {
                token: U256::from(7),
                patient: Address::repeat_byte(2),
                doctor: Address::repeat_byte(1),
                replaced_by: None,
            },
        };
        let a = n.mail(Address::repeat_byte(1));
        let mut later = n.clone();
        later.timestamp = 99;
        assert_eq!(a.message_id, later.mail(Address::repeat_byte(1)).message_id);
        assert_ne!(a.message_id, n.mail(Address::repeat_byte(3)).message_id);
        assert!(a.message_id.starts_with("<412346.abab"));
        assert!(a.body.contains("#7") && a.body.contains("careledger grants list"));
    }

    fn notice(what: What) -> Notice {
        Notice {
            chain_id: 412346,
            block: 9,
            timestamp: 1_795_609_845,
            tx: B256::repeat_byte(0xcd),
            log_index: 4,
            what,
        }
    }

    /// A token cleared by the grant of a new one (an expired token burnt inside
    /// `grant`, or a revoke batched with a grant) is no revocation by the patient.
    #[test]
    fn a_token_cleared_for_a_new_one_is_not_called_revoked() {
        let (patient, doctor) = (Address::repeat_byte(2), Address::repeat_byte(1));
        let ended = |replaced_by| {
            notice(What::Revoked {
                token: U256::from(4),
                patient,
                doctor,
                replaced_by,
            })
        };
        let n = ended(Some(U256::from(9)));
        assert_eq!(n.direct_recipients(), vec![doctor]);
        assert_eq!(n.kind(), "revoke");
        let m = n.mail(doctor);
        assert_eq!(
            m.subject,
            format!("CareLedger: access token #4 from patient {patient} cleared for a new one")
        );
        for words in [
            format!("Your access token #4 from patient {patient} ended and was cleared"),
            "at 2026-11-25 12:30:45 UTC".into(),
            "granted you the new access token #9".into(),
            "careledger grants list --received".into(),
        ] {
            assert!(m.body.contains(&words), "{words:?} not in {}", m.body);
        }
        assert!(!m.subject.contains("revoked") && !m.body.contains("revoked"));
        let plain = ended(None).mail(doctor);
        assert_eq!(
            plain.subject,
            format!("CareLedger: access revoked by patient {patient}")
        );
        assert!(plain
            .body
            .contains(&format!("Patient {patient} revoked your access token #4")));
        assert_eq!(
            m.message_id, plain.message_id,
            "the same event, the same Message-ID"
        );
    }

    /// careledger_common::scope: 0 all, 1 the listed records, 2 one category.
    #[test]
    fn each_scope_kind_has_its_own_words() {
        assert_eq!(scope(0, 0), "all of the patient's records");
        assert_eq!(scope(1, 3), "the records listed in the grant (3 record(s))");
        assert_eq!(scope(2, 0), "the records of one category");
        assert_eq!(scope(7, 0), "records under an unknown scope kind 7");
        let (patient, doctor) = (Address::repeat_byte(2), Address::repeat_byte(1));
        let granted = |scope_kind, records| {
            notice(What::Granted {
                token: U256::from(5),
                patient,
                doctor,
                expires_at: 1_795_700_000,
                scope_kind,
                records,
            })
            .mail(doctor)
            .body
        };
        assert!(granted(1, 2).contains("access to the records listed in the grant (2 record(s))"));
        assert!(granted(2, 0).contains("access to the records of one category"));
        assert!(!granted(2, 0).contains("listed"));
        assert!(!granted(1, 2).contains("category"));
    }

    /// careledger_common::emergency_reason.
    #[test]
    fn each_emergency_reason_has_its_words() {
        assert_eq!(reason(1), "the patient is unconscious or unable to consent");
        assert_eq!(reason(2), "a life-threatening condition");
        assert_eq!(reason(3), "the patient cannot communicate");
        assert_eq!(reason(4), "another urgent treatment");
        assert_eq!(reason(0), "reason code 0");
        assert_eq!(reason(9), "reason code 9");
    }

    #[test]
    fn the_emergency_mail_gives_the_reason_the_custodians_and_the_close() {
        let (patient, doctor) = (Address::repeat_byte(2), Address::repeat_byte(4));
        let n = notice(What::Emergency {
            patient,
            doctor,
            expires_at: 1_795_624_245,
            reason: 2,
        });
        assert_eq!(n.direct_recipients(), vec![patient]);
        let m = n.mail(patient);
        assert_eq!(m.kind, "emergency");
        assert!(m.subject.contains(&doctor.to_string()));
        assert!(m
            .body
            .contains("The stated reason: a life-threatening condition."));
        assert!(
            m.body.contains("until 2026-11-25 16:30:45 UTC"),
            "{}",
            m.body
        );
        assert!(m.body.contains("only through your emergency custodians"));
        assert!(m
            .body
            .contains(&format!("careledger emergency close {doctor}")));
        assert!(m.body.contains("bar this doctor"));
    }

    #[test]
    fn a_key_release_mail_names_custodian_record_and_doctor_only() {
        let (patient, doctor, custodian) = (
            Address::repeat_byte(2),
            Address::repeat_byte(4),
            Address::repeat_byte(5),
        );
        let n = notice(What::KeyReleased {
            record: U256::from(12),
            patient,
            doctor,
            custodian,
            version: 3,
        });
        assert_eq!(n.direct_recipients(), vec![patient]);
        assert_eq!(n.kind(), "key-release");
        let m = n.mail(patient);
        assert!(m.subject.contains(&doctor.to_string()));
        for words in [
            format!("Your emergency custodian {custodian} released the key"),
            "(record #12, version 3)".into(),
            format!("to doctor {doctor} under emergency"),
            "access at 2026-11-25 12:30:45 UTC".into(),
            format!("careledger emergency close {doctor}"),
        ] {
            assert!(m.body.contains(&words), "{words:?} not in {}", m.body);
        }
        assert_eq!(
            m.message_id,
            message_id(412346, B256::repeat_byte(0xcd), 4, patient)
        );
    }
}
