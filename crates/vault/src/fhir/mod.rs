//! FHIR R4 for records and for exports (issue 5).
//!
//! - A record is either a FHIR R4 Bundle (JSON, typically DocumentReference and
//!   Observation entries), checked by [`validate_bundle`], or any other file,
//!   wrapped by [`attachment_bundle`] in a `collection` Bundle holding one
//!   DocumentReference. Either way that JSON is what gets encrypted.
//! - [`consent`] exports a patient's grants as Consent resources, and
//!   [`audit_events`] the on-chain history as AuditEvent resources.
//!
//! Records are health data: nothing here logs, and no error message quotes its
//! input (messages are fixed text plus positions).
//!
//! # Identifiers
//! Chain entities are named by identifiers, not literal references, since no
//! FHIR server holds them:
//! - an account (patient, doctor, contract): system `urn:ethereum:<chain id>`,
//!   value the EIP-55 address;
//! - an access token: system `urn:ethereum:<chain id>:<AccessToken address>`,
//!   value the token id in decimal (a token is its contract plus its id);
//! - a record: system `urn:ethereum:<chain id>:record`, value the record id in
//!   decimal (a deployment has one RecordRegistry, whose ids the AccessToken's
//!   scopes also use);
//! - an event: the transaction hash, with the log index beside it (see [`audit_events`]).

mod attachment;
mod audit;
mod bundle;
mod consent;
mod resources;
mod time;

pub use attachment::attachment_bundle;
pub use audit::{audit_events, AuditEntry, AuditKind};
pub use bundle::{classify, validate_bundle, BundleSummary, RecordKind};
pub use consent::{consent, consent_at, GrantView};
pub use time::instant;

use alloy_primitives::{Address, U256};
use serde_json::{json, Value};

/// The identifier system of accounts on `chain_id`.
fn account_system(chain_id: u64) -> String {
    format!("urn:ethereum:{chain_id}")
}

/// A Reference to the account `address` on `chain_id`, by identifier: use it as
/// the `patient_ref` of [`attachment_bundle`].
pub fn account_reference(chain_id: u64, address: Address) -> Value {
    json!({
        "identifier": {
            "system": account_system(chain_id),
            "value": address.to_checksum(None),
        }
    })
}

/// A Reference to a record id on `chain_id`, by identifier.
fn record_reference(chain_id: u64, record_id: U256) -> Value {
    json!({
        "identifier": {
            "system": format!("urn:ethereum:{chain_id}:record"),
            "value": record_id.to_string(),
        }
    })
}

/// The identifier of token `token_id` of the AccessToken at `contract`.
fn token_identifier(chain_id: u64, contract: Address, token_id: U256) -> Value {
    json!({
        "system": format!("urn:ethereum:{chain_id}:{}", contract.to_checksum(None)),
        "value": token_id.to_string(),
    })
}

/// A `collection` Bundle of `resources`, assembled at `now`.
fn collection(resources: Vec<Value>, now: u64) -> Value {
    let entry: Vec<Value> = resources
        .into_iter()
        .map(|resource| json!({ "resource": resource }))
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(now),
    });
    // FHIR JSON has no empty arrays: no resources, no `entry`.
    if !entry.is_empty() {
        bundle["entry"] = entry.into();
    }
    bundle
}

/// Seconds since the Unix epoch, by this machine's clock.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A CodeableConcept of one coding.
fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [coding(system, code, display)] })
}

/// One Coding.
fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

#[cfg(test)]
mod testing {
    /// Whether `s` has the shape of a FHIR instant as this module writes them.
    pub(crate) fn is_instant(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 20
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'Z',
                _ => c.is_ascii_digit(),
            })
    }
}
