//! The on-chain history of a patient's records as FHIR R4 AuditEvent resources.
//!
//! Codes, from DICOM (`http://dicom.nema.org/resources/ontology/DCM`, the
//! AuditEvent.type value set of R4) with the subtype saying what happened:
//!
//! | event | type | subtype | action |
//! | --- | --- | --- | --- |
//! | RecordAdded | 110110 Patient Record | restful-interaction `create` (`update` for version > 1) | C (U) |
//! | RecordAccessed | 110110 Patient Record | restful-interaction `read` | R |
//! | AccessGranted | 110113 Security Alert | 110135 Object Security Attributes Changed | C |
//! | AccessRevoked | 110113 Security Alert | 110135 Object Security Attributes Changed | D |
//! | KeyWrapped | 110113 Security Alert | 110135 Object Security Attributes Changed | C |
//! | EmergencyAccess | 110113 Security Alert | 110127 Emergency Override Started | E |
//! | EmergencyAccessClosed | 110113 Security Alert | 110138 Emergency Override Stopped | E |
//!
//! `recorded` is the block time and `outcome` 0 (an event exists only if its
//! transaction succeeded). `agent[0]` is the actor (the transaction's sender,
//! `requestor`); a `subject` other than the patient (the doctor of a grant) is a
//! second agent, role IRCP. `entity` holds the patient (type 1 Person, role 1
//! Patient), the record (type 2 System Object, role 4 Domain Resource, its
//! version as a detail) or the token (type 2, role 11 Security User Entity), and
//! the transaction. `source.observer` is the emitting contract on the chain.
//!
//! R4's AuditEvent has no `identifier` element, so the event's own identity (the
//! transaction hash and log index) is the last entity: system
//! `urn:ethereum:<chain id>:tx`, value the hash, the log index and block number
//! as details.

use super::{
    account_reference, account_system, coding, collection, concept, instant, record_reference,
    token_identifier, unix_now, Value,
};
use alloy_primitives::{hex, Address, B256, U256};
use serde_json::json;

/// The contract events a patient's history is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// RecordRegistry `RecordAdded`: a record or a new version of it.
    RecordAdded,
    /// RecordRegistry `RecordAccessed`: a reader logged a read.
    RecordAccessed,
    /// AccessToken `AccessGranted`.
    AccessGranted,
    /// AccessToken `AccessRevoked`.
    AccessRevoked,
    /// AccessToken `EmergencyAccess` (break-glass opened).
    EmergencyAccess,
    /// AccessToken `EmergencyAccessClosed`.
    EmergencyAccessClosed,
    /// RecordRegistry `KeyWrapped`: a record key was wrapped for a reader.
    KeyWrapped,
}

/// One event of the history, as a client decodes it from a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Which event.
    pub kind: AuditKind,
    /// The contract that emitted the log (`source.observer`).
    pub contract: Address,
    /// Block of the log.
    pub block_number: u64,
    /// Time of that block (Unix seconds).
    pub block_time: u64,
    /// Transaction of the log.
    pub tx_hash: B256,
    /// Position of the log in its block.
    pub log_index: u64,
    /// Who acted (the transaction's sender).
    pub actor: Address,
    /// The other party, if any (the doctor of a grant, the reader of a wrapped key).
    pub subject: Option<Address>,
    /// The record concerned, if any.
    pub record_id: Option<U256>,
    /// The access token concerned, if any.
    pub token_id: Option<U256>,
    /// The record's version, for record events.
    pub version: Option<u32>,
}

const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const REST: &str = "http://hl7.org/fhir/restful-interaction";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";

/// `patient`'s history as a `collection` Bundle of AuditEvent resources, one per
/// entry, in the order given.
pub fn audit_events(patient: Address, entries: &[AuditEntry], chain_id: u64) -> Value {
    let events = entries
        .iter()
        .map(|e| event(patient, e, chain_id))
        .collect();
    collection(events, unix_now())
}

/// (type, subtype, action) of an entry, per the table in the module comment.
fn codes(entry: &AuditEntry) -> (Value, Value, &'static str) {
    let patient_record = coding(DCM, "110110", "Patient Record");
    let security_alert = coding(DCM, "110113", "Security Alert");
    let attributes_changed = coding(DCM, "110135", "Object Security Attributes Changed");
    match entry.kind {
        AuditKind::RecordAdded if entry.version.is_some_and(|v| v > 1) => {
            (patient_record, coding(REST, "update", "update"), "U")
        }
        AuditKind::RecordAdded => (patient_record, coding(REST, "create", "create"), "C"),
        AuditKind::RecordAccessed => (patient_record, coding(REST, "read", "read"), "R"),
        AuditKind::AccessGranted | AuditKind::KeyWrapped => {
            (security_alert, attributes_changed, "C")
        }
        AuditKind::AccessRevoked => (security_alert, attributes_changed, "D"),
        AuditKind::EmergencyAccess => (
            security_alert,
            coding(DCM, "110127", "Emergency Override Started"),
            "E",
        ),
        AuditKind::EmergencyAccessClosed => (
            security_alert,
            coding(DCM, "110138", "Emergency Override Stopped"),
            "E",
        ),
    }
}

fn event(patient: Address, e: &AuditEntry, chain_id: u64) -> Value {
    let (kind, subtype, action) = codes(e);
    let mut agents =
        vec![json!({ "who": account_reference(chain_id, e.actor), "requestor": true })];
    if let Some(subject) = e.subject.filter(|s| *s != patient && *s != e.actor) {
        agents.push(json!({
            "type": concept(
                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "IRCP",
                "information recipient",
            ),
            "who": account_reference(chain_id, subject),
            "requestor": false,
        }));
    }
    let mut entities = vec![json!({
        "what": account_reference(chain_id, patient),
        "type": coding(ENTITY_TYPE, "1", "Person"),
        "role": coding(OBJECT_ROLE, "1", "Patient"),
    })];
    if let Some(record_id) = e.record_id {
        let mut record = json!({
            "what": record_reference(chain_id, record_id),
            "type": coding(ENTITY_TYPE, "2", "System Object"),
            "role": coding(OBJECT_ROLE, "4", "Domain Resource"),
        });
        if let Some(version) = e.version {
            record["detail"] = json!([{ "type": "version", "valueString": version.to_string() }]);
        }
        entities.push(record);
    }
    if let Some(token_id) = e.token_id {
        entities.push(json!({
            "what": { "identifier": token_identifier(chain_id, e.contract, token_id) },
            "type": coding(ENTITY_TYPE, "2", "System Object"),
            "role": coding(OBJECT_ROLE, "11", "Security User Entity"),
        }));
    }
    entities.push(json!({
        "what": { "identifier": {
            "system": format!("urn:ethereum:{chain_id}:tx"),
            "value": hex::encode_prefixed(e.tx_hash),
        }},
        "type": coding(ENTITY_TYPE, "2", "System Object"),
        "description": "the transaction that emitted the event",
        "detail": [
            { "type": "logIndex", "valueString": e.log_index.to_string() },
            { "type": "blockNumber", "valueString": e.block_number.to_string() },
        ],
    }));
    json!({
        "resourceType": "AuditEvent",
        "type": kind,
        "subtype": [subtype],
        "action": action,
        "recorded": instant(e.block_time),
        "outcome": "0",
        "agent": agents,
        "source": {
            "site": account_system(chain_id),
            "observer": account_reference(chain_id, e.contract),
        },
        "entity": entities,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{testing::is_instant, validate_bundle};
    use super::*;

    const CHAIN: u64 = 412346;

    fn entry(kind: AuditKind, log_index: u64) -> AuditEntry {
        AuditEntry {
            kind,
            contract: Address::repeat_byte(0x55),
            block_number: 42,
            block_time: 1_700_000_000 + log_index,
            tx_hash: B256::repeat_byte(0xaa),
            log_index,
            actor: Address::repeat_byte(0x11),
            subject: None,
            record_id: None,
            token_id: None,
            version: None,
        }
    }

    #[test]
    fn every_kind_becomes_an_audit_event_with_r4s_required_elements() {
        let patient = Address::repeat_byte(0x11);
        let doctor = Address::repeat_byte(0x22);
        let mut added = entry(AuditKind::RecordAdded, 0);
        added.record_id = Some(U256::from(7));
        added.version = Some(1);
        let mut updated = added.clone();
        updated.version = Some(2);
        let mut read = entry(AuditKind::RecordAccessed, 1);
        read.actor = doctor;
        read.record_id = Some(U256::from(7));
        let mut granted = entry(AuditKind::AccessGranted, 2);
        granted.subject = Some(doctor);
        granted.token_id = Some(U256::from(3));
        let mut revoked = granted.clone();
        revoked.kind = AuditKind::AccessRevoked;
        let mut emergency = entry(AuditKind::EmergencyAccess, 3);
        emergency.actor = doctor;
        emergency.subject = Some(patient);
        let mut closed = entry(AuditKind::EmergencyAccessClosed, 4);
        closed.subject = Some(doctor);
        let mut wrapped = entry(AuditKind::KeyWrapped, 5);
        wrapped.subject = Some(doctor);
        wrapped.record_id = Some(U256::from(7));
        let entries = [
            added, updated, read, granted, revoked, emergency, closed, wrapped,
        ];

        let b = audit_events(patient, &entries, CHAIN);
        assert_eq!(b["resourceType"], "Bundle");
        assert!(validate_bundle(&serde_json::to_vec(&b).unwrap()).is_ok());
        let events: Vec<&Value> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        assert_eq!(events.len(), entries.len());
        for ev in &events {
            assert_eq!(ev["resourceType"], "AuditEvent");
            assert_eq!(ev["type"]["system"], DCM);
            assert!(is_instant(ev["recorded"].as_str().unwrap()));
            assert!(ev["agent"][0]["who"]["identifier"]["value"].is_string());
            assert_eq!(ev["agent"][0]["requestor"], true);
            assert_eq!(
                ev["source"]["observer"]["identifier"]["system"],
                "urn:ethereum:412346"
            );
            assert_eq!(
                ev["source"]["observer"]["identifier"]["value"],
                Address::repeat_byte(0x55).to_checksum(None)
            );
            let tx = ev["entity"].as_array().unwrap().last().unwrap();
            assert_eq!(tx["what"]["identifier"]["system"], "urn:ethereum:412346:tx");
            assert_eq!(
                tx["what"]["identifier"]["value"],
                format!("0x{}", "aa".repeat(32))
            );
            assert_eq!(
                ev["entity"][0]["role"]["code"], "1",
                "the patient comes first"
            );
        }
        let actions: Vec<&str> = events
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["C", "U", "R", "C", "D", "E", "E", "C"]);
        let types: Vec<&str> = events
            .iter()
            .map(|e| e["type"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(types[..3], ["110110"; 3]);
        assert_eq!(types[3..], ["110113"; 5]);
        assert_eq!(events[5]["subtype"][0]["code"], "110127");
        assert_eq!(events[6]["subtype"][0]["code"], "110138");
        assert_eq!(events[0]["recorded"], "2023-11-14T22:13:20Z");
        assert_eq!(events[0]["entity"][1]["what"]["identifier"]["value"], "7");
        assert_eq!(events[1]["entity"][1]["detail"][0]["valueString"], "2");
        // The doctor of a grant is a second agent; the patient of an emergency is not.
        assert_eq!(events[3]["agent"].as_array().unwrap().len(), 2);
        assert_eq!(events[3]["entity"][1]["what"]["identifier"]["value"], "3");
        assert_eq!(events[5]["agent"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn an_empty_history_is_an_empty_bundle() {
        let b = audit_events(Address::ZERO, &[], CHAIN);
        assert!(b.get("entry").is_none(), "FHIR JSON has no empty arrays");
        assert!(is_instant(b["timestamp"].as_str().unwrap()));
    }
}
