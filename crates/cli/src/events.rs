//! The contracts' events in one shape, for `audit`, `watch` and `grants list`.

use crate::abi::{IAccessToken, IPatientRegistry, IRecordRegistry};
use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEventInterface;
use serde::Serialize;

/// One contract event, decoded; the fields an event does not carry are `None`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The event's name in the ABI (`RecordAdded`, `AccessGranted`, …).
    pub kind: &'static str,
    /// The contract that emitted it.
    pub contract: Address,
    /// The block it is in.
    pub block: u64,
    /// The transaction that emitted it.
    pub tx: B256,
    /// Its index in the block's logs, which orders events within a block.
    pub log_index: u64,
    /// Whose records or grants it concerns, when there is a patient.
    pub patient: Option<Address>,
    /// Who acted on them: the doctor, reader or accessor.
    pub actor: Option<Address>,
    /// The record concerned.
    pub record_id: Option<U256>,
    /// The grant token concerned.
    pub token_id: Option<U256>,
    /// The record's key version.
    pub version: Option<u32>,
    /// When a grant or emergency window ends, or a bar lifts (unix seconds).
    pub expires_at: Option<u64>,
    /// The reason code of an emergency opening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<u8>,
    /// The custodian that released a key in an emergency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custodian: Option<Address>,
}

impl Event {
    fn new(kind: &'static str, log: &Log) -> Self {
        Self {
            kind,
            contract: log.address(),
            block: log.block_number.unwrap_or_default(),
            tx: log.transaction_hash.unwrap_or_default(),
            log_index: log.log_index.unwrap_or_default(),
            patient: None,
            actor: None,
            record_id: None,
            token_id: None,
            version: None,
            expires_at: None,
            reason: None,
            custodian: None,
        }
    }

    /// One line for people; no health data exists on chain to print.
    pub fn describe(&self) -> String {
        let a = |x: Option<Address>| x.map(|a| a.to_string()).unwrap_or_default();
        let n = |x: Option<U256>| x.map(|a| a.to_string()).unwrap_or_default();
        match self.kind {
            "RecordAdded" => format!(
                "{} added record {} version {}",
                a(self.patient),
                n(self.record_id),
                self.version.unwrap_or_default()
            ),
            "RecordAccessed" => format!(
                "{} read record {} of {}",
                a(self.actor),
                n(self.record_id),
                a(self.patient)
            ),
            "KeyWrapped" => format!(
                "key of record {} version {} shared with {}",
                n(self.record_id),
                self.version.unwrap_or_default(),
                a(self.actor)
            ),
            "AccessGranted" => format!(
                "{} granted {} access (token {}, until {})",
                a(self.patient),
                a(self.actor),
                n(self.token_id),
                crate::chain::time(self.expires_at.unwrap_or_default())
            ),
            "AccessRevoked" => format!(
                "{} revoked token {} of {}",
                a(self.patient),
                n(self.token_id),
                a(self.actor)
            ),
            "EmergencyAccess" => format!(
                "EMERGENCY: {} opened break-glass access to {} until {} ({})",
                a(self.actor),
                a(self.patient),
                crate::chain::time(self.expires_at.unwrap_or_default()),
                crate::cmd::emergency::reason_words(self.reason.unwrap_or_default())
            ),
            "EmergencyAccessClosed" => format!(
                "emergency access of {} to {} closed; barred until {}",
                a(self.actor),
                a(self.patient),
                crate::chain::time(self.expires_at.unwrap_or_default())
            ),
            "EmergencyBarLifted" => format!(
                "{} lifted the emergency bar on {}",
                a(self.patient),
                a(self.actor)
            ),
            "EmergencyKeyReleased" => format!(
                "custodian {} released the key of record {} version {} of {} to {} (emergency)",
                a(self.custodian),
                n(self.record_id),
                self.version.unwrap_or_default(),
                a(self.patient),
                a(self.actor)
            ),
            "EmergencyCustodiansSet" => {
                format!("{} changed its emergency custodians", a(self.patient))
            }
            "DoctorApproved" => format!("a verifier approved {}", a(self.actor)),
            "PatientRegistered" => format!("{} registered as a patient", a(self.patient)),
            "DoctorRegistered" => format!("{} registered as a doctor", a(self.actor)),
            "DoctorVerified" => format!("{} verified", a(self.actor)),
            "DoctorSuspended" => format!("{} suspended", a(self.actor)),
            other => other.to_string(),
        }
    }
}

/// Decodes a log of any CareLedger contract; `None` for events that concern no
/// patient or doctor (ERC-721 `Transfer`, `Locked`, ownership, pausing).
pub fn decode(log: &Log) -> Option<Event> {
    use IAccessToken::IAccessTokenEvents as T;
    use IPatientRegistry::IPatientRegistryEvents as P;
    use IRecordRegistry::IRecordRegistryEvents as R;
    let (topics, data) = (log.topics(), &log.data().data);
    if let Ok(e) = R::decode_raw_log(topics, data) {
        return Some(match e {
            R::RecordAdded(e) => Event {
                patient: Some(e.patient),
                record_id: Some(e.recordId),
                version: Some(e.version),
                ..Event::new("RecordAdded", log)
            },
            R::KeyWrapped(e) => Event {
                actor: Some(e.reader),
                record_id: Some(e.recordId),
                version: Some(e.version),
                ..Event::new("KeyWrapped", log)
            },
            R::RecordAccessed(e) => Event {
                patient: Some(e.patient),
                actor: Some(e.accessor),
                record_id: Some(e.recordId),
                version: Some(e.version),
                ..Event::new("RecordAccessed", log)
            },
            R::EmergencyKeyReleased(e) => Event {
                patient: Some(e.patient),
                actor: Some(e.doctor),
                custodian: Some(e.custodian),
                record_id: Some(e.recordId),
                version: Some(e.version),
                ..Event::new("EmergencyKeyReleased", log)
            },
        });
    }
    if let Ok(e) = T::decode_raw_log(topics, data) {
        return match e {
            T::AccessGranted(e) => Some(Event {
                patient: Some(e.patient),
                actor: Some(e.doctor),
                token_id: Some(e.tokenId),
                expires_at: Some(e.expiresAt),
                ..Event::new("AccessGranted", log)
            }),
            T::AccessRevoked(e) => Some(Event {
                patient: Some(e.patient),
                actor: Some(e.doctor),
                token_id: Some(e.tokenId),
                ..Event::new("AccessRevoked", log)
            }),
            T::EmergencyAccess(e) => Some(Event {
                patient: Some(e.patient),
                actor: Some(e.doctor),
                expires_at: Some(e.expiresAt),
                reason: Some(e.reason),
                ..Event::new("EmergencyAccess", log)
            }),
            T::EmergencyAccessClosed(e) => Some(Event {
                patient: Some(e.patient),
                actor: Some(e.doctor),
                // The end of the bar, which the close starts.
                expires_at: Some(e.barredUntil),
                ..Event::new("EmergencyAccessClosed", log)
            }),
            T::EmergencyBarLifted(e) => Some(Event {
                patient: Some(e.patient),
                actor: Some(e.doctor),
                ..Event::new("EmergencyBarLifted", log)
            }),
            _ => None,
        };
    }
    if let Ok(e) = P::decode_raw_log(topics, data) {
        return match e {
            P::PatientRegistered(e) => Some(Event {
                patient: Some(e.patient),
                ..Event::new("PatientRegistered", log)
            }),
            P::DoctorRegistered(e) => Some(Event {
                actor: Some(e.doctor),
                ..Event::new("DoctorRegistered", log)
            }),
            P::DoctorVerified(e) => Some(Event {
                actor: Some(e.doctor),
                ..Event::new("DoctorVerified", log)
            }),
            P::DoctorApproved(e) => Some(Event {
                actor: Some(e.doctor),
                ..Event::new("DoctorApproved", log)
            }),
            P::EmergencyCustodiansSet(e) => Some(Event {
                patient: Some(e.patient),
                ..Event::new("EmergencyCustodiansSet", log)
            }),
            P::DoctorSuspended(e) => Some(Event {
                actor: Some(e.doctor),
                ..Event::new("DoctorSuspended", log)
            }),
            _ => None,
        };
    }
    None
}

/// The event as a FHIR AuditEvent entry (patient-facing kinds only).
pub fn audit_entry(e: &Event, block_time: u64) -> Option<careledger_vault::fhir::AuditEntry> {
    use careledger_vault::fhir::{AuditEntry, AuditKind as K};
    let kind = match e.kind {
        "RecordAdded" => K::RecordAdded,
        "RecordAccessed" => K::RecordAccessed,
        "AccessGranted" => K::AccessGranted,
        "AccessRevoked" => K::AccessRevoked,
        "EmergencyAccess" => K::EmergencyAccess,
        "EmergencyAccessClosed" => K::EmergencyAccessClosed,
        "KeyWrapped" => K::KeyWrapped,
        _ => return None,
    };
    // Who acted: the patient adds, grants, revokes and wraps; the doctor reads
    // and opens emergencies.
    let by_patient = matches!(
        kind,
        K::RecordAdded
            | K::AccessGranted
            | K::AccessRevoked
            | K::KeyWrapped
            | K::EmergencyAccessClosed
    );
    let (actor, subject) = if by_patient {
        (e.patient.or(e.actor).unwrap_or_default(), e.actor)
    } else {
        (e.actor.unwrap_or_default(), e.patient)
    };
    Some(AuditEntry {
        kind,
        contract: e.contract,
        block_number: e.block,
        block_time,
        tx_hash: e.tx,
        log_index: e.log_index,
        actor,
        subject,
        record_id: e.record_id,
        token_id: e.token_id,
        version: e.version,
    })
}
