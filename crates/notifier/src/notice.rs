//! Contract events turned into mails. A mail says who, when, what kind of
//! access and which CLI command to run; it never carries record content, a
//! category name or a CID: those stay behind the access check.

use crate::store::Mail;
use alloy::primitives::{Address, B256, U256};

/// One event worth a mail, with where it sits in the chain.
#[derive(Debug, Clone)]
pub struct Notice {
    pub chain_id: u64,
    pub block: u64,
    pub timestamp: u64,
    pub tx: B256,
    pub log_index: u64,
    pub what: What,
}

#[derive(Debug, Clone)]
pub enum What {
    Granted {
        token: U256,
        patient: Address,
        doctor: Address,
        expires_at: u64,
        scope_kind: u8,
        records: usize,
    },
    Revoked {
        token: U256,
        patient: Address,
        doctor: Address,
    },
    Emergency {
        patient: Address,
        doctor: Address,
        expires_at: u64,
    },
    RecordAdded {
        record: U256,
        patient: Address,
        version: u32,
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

/// `2026-11-25 12:30:45 UTC`. Any u64 renders (an expiry is whatever the
/// granting client chose), with the vault's calendar arithmetic.
fn when(secs: u64) -> String {
    careledger_vault::fhir::instant(secs)
        .replacen('T', " ", 1)
        .replace('Z', " UTC")
}

fn scope(kind: u8, records: usize) -> String {
    match kind {
        0 => "all of the patient's records".into(),
        1 => "the patient's records in one category".into(),
        _ => format!("{records} named record(s)"),
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
            What::Emergency { patient, .. } => vec![*patient],
            What::RecordAdded { .. } => vec![],
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.what {
            What::Granted { .. } => "grant",
            What::Revoked { .. } => "revoke",
            What::Emergency { .. } => "emergency",
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
            } => (
                format!("CareLedger: emergency access opened by doctor {doctor}"),
                format!(
                    "Doctor {doctor} opened break-glass emergency access to your records at {at}.\n\
                     It lasts until {}; every read is logged on chain.\n\n\
                     To see the reads and close the access:\n  \
                     careledger audit\n  careledger emergency close {doctor}",
                    when(*expires_at)
                ),
            ),
            What::RecordAdded {
                record,
                patient,
                version,
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
        assert!(when(u64::MAX).ends_with(" UTC"), "a far expiry renders");
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
}
