//! A patient's grants as FHIR R4 Consent resources.
//!
//! Mapping of an AccessToken grant to Consent:
//! - `status`: `active`, or `inactive` once revoked or expired (an expired token
//!   grants nothing, as `hasAccess` decides: expired when `expires_at <= now`);
//! - `scope`: `patient-privacy` (consentscope); `category`: LOINC 59284-0
//!   "Patient Consent"; `policyRule`: v3 ActCode `OPTIN` (the patient opted in
//!   to this disclosure), which satisfies ppc-1;
//! - `patient` and `performer`: the patient's account; `dateTime`: issue time;
//!   `identifier`: the token (contract and id, see the module identifiers);
//! - `provision`: `permit`, `period` issue..expiry, one `actor` (role IRCP,
//!   information recipient: the doctor's account), `action` `access`
//!   (consentaction), and the scope:
//!   - all records (0): no further restriction, the provision covers all of the
//!     patient's records;
//!   - listed records (1): one `provision.data` per record id, meaning
//!     `instance`, referencing the record by identifier;
//!   - a category (2): `provision.securityLabel` with the 32-byte category code
//!     (hex) under system `urn:careledger:category`. Categories are opaque codes
//!     chosen by clients, not FHIR resource types, so `provision.class` (which
//!     names resource types or profiles) does not fit them;
//!   - any other scope kind: no restriction is claimed, and the Consent is marked
//!     `inactive` with no `provision.type`, so nothing reads it as a permit.

use super::{
    account_reference, collection, concept, instant, record_reference, token_identifier, unix_now,
    Value,
};
use alloy_primitives::{hex, Address, B256, U256};
use serde_json::json;

/// One grant as the AccessToken holds it (from `AccessGranted` and the token's
/// views), the input of [`consent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantView {
    /// The token id.
    pub token_id: U256,
    /// Who granted.
    pub patient: Address,
    /// Who may read.
    pub doctor: Address,
    /// 0 all records, 1 listed record ids, 2 one category.
    pub scope_kind: u8,
    /// The category code when `scope_kind` is 2.
    pub category: B256,
    /// The record ids when `scope_kind` is 1.
    pub record_ids: Vec<U256>,
    /// Block time of the grant (Unix seconds).
    pub issued_at: u64,
    /// End of the grant (Unix seconds, exclusive).
    pub expires_at: u64,
    /// Whether the patient burnt the token.
    pub revoked: bool,
}

/// `patient`'s grants as a `collection` Bundle of Consent resources, one per
/// grant, judged active or not by this machine's clock.
pub fn consent(
    patient: Address,
    grants: &[GrantView],
    chain_id: u64,
    access_token: Address,
) -> Value {
    consent_at(patient, grants, chain_id, access_token, unix_now())
}

/// [`consent`] as of `now` (Unix seconds): pass the latest block's time to
/// judge expiry exactly as the chain does.
pub fn consent_at(
    patient: Address,
    grants: &[GrantView],
    chain_id: u64,
    access_token: Address,
    now: u64,
) -> Value {
    let resources = grants
        .iter()
        .map(|grant| one(patient, grant, chain_id, access_token, now))
        .collect();
    collection(resources, now)
}

fn one(
    patient: Address,
    grant: &GrantView,
    chain_id: u64,
    access_token: Address,
    now: u64,
) -> Value {
    let known_scope = grant.scope_kind <= 2;
    let active = known_scope && !grant.revoked && grant.expires_at > now;
    let mut provision = json!({
        "period": { "start": instant(grant.issued_at), "end": instant(grant.expires_at) },
        "actor": [{
            "role": concept(
                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "IRCP",
                "information recipient",
            ),
            "reference": account_reference(chain_id, grant.doctor),
        }],
        "action": [concept("http://terminology.hl7.org/CodeSystem/consentaction", "access", "Access")],
    });
    if known_scope {
        provision["type"] = "permit".into();
    }
    match grant.scope_kind {
        1 => {
            provision["data"] = grant
                .record_ids
                .iter()
                .map(|id| json!({ "meaning": "instance", "reference": record_reference(chain_id, *id) }))
                .collect();
        }
        2 => {
            provision["securityLabel"] = json!([{
                "system": "urn:careledger:category",
                "code": hex::encode_prefixed(grant.category),
            }]);
        }
        _ => {}
    }
    json!({
        "resourceType": "Consent",
        "identifier": [token_identifier(chain_id, access_token, grant.token_id)],
        "status": if active { "active" } else { "inactive" },
        "scope": concept(
            "http://terminology.hl7.org/CodeSystem/consentscope",
            "patient-privacy",
            "Privacy Consent",
        ),
        "category": [concept("http://loinc.org", "59284-0", "Patient Consent")],
        "patient": account_reference(chain_id, patient),
        "dateTime": instant(grant.issued_at),
        "performer": [account_reference(chain_id, patient)],
        "policyRule": concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN", "opt-in"),
        "provision": provision,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{testing::is_instant, validate_bundle};
    use super::*;

    const CHAIN: u64 = 412346;

    fn grant(token: u64, scope_kind: u8) -> GrantView {
        GrantView {
            token_id: U256::from(token),
            patient: Address::repeat_byte(0x11),
            doctor: Address::repeat_byte(0x22),
            scope_kind,
            category: if scope_kind == 2 {
                B256::repeat_byte(0x33)
            } else {
                B256::ZERO
            },
            record_ids: if scope_kind == 1 {
                vec![U256::from(4), U256::from(9)]
            } else {
                vec![]
            },
            issued_at: 1_700_000_000,
            expires_at: 1_700_086_400,
            revoked: false,
        }
    }

    #[test]
    fn each_grant_becomes_a_consent_with_r4s_required_elements() {
        let token = Address::repeat_byte(0x44);
        let mut revoked = grant(3, 0);
        revoked.revoked = true;
        let grants = [grant(1, 0), grant(2, 1), revoked, grant(4, 2)];
        let b = consent_at(
            Address::repeat_byte(0x11),
            &grants,
            CHAIN,
            token,
            1_700_000_100,
        );
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        assert!(validate_bundle(&serde_json::to_vec(&b).unwrap()).is_ok());
        let consents: Vec<&Value> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        assert_eq!(consents.len(), 4);
        for c in &consents {
            assert_eq!(c["resourceType"], "Consent");
            for required in [
                "status",
                "scope",
                "category",
                "policyRule",
                "patient",
                "dateTime",
                "provision",
            ] {
                assert!(c.get(required).is_some(), "{required} missing");
            }
            assert_eq!(c["scope"]["coding"][0]["code"], "patient-privacy");
            assert_eq!(c["category"][0]["coding"][0]["system"], "http://loinc.org");
            assert_eq!(c["category"][0]["coding"][0]["code"], "59284-0");
            assert_eq!(c["patient"]["identifier"]["system"], "urn:ethereum:412346");
            assert_eq!(
                c["patient"]["identifier"]["value"],
                Address::repeat_byte(0x11).to_checksum(None)
            );
            assert!(is_instant(c["dateTime"].as_str().unwrap()));
            assert_eq!(c["provision"]["period"]["end"], "2023-11-15T22:13:20Z");
            let actor = &c["provision"]["actor"][0];
            assert_eq!(actor["role"]["coding"][0]["code"], "IRCP");
            assert_eq!(
                actor["reference"]["identifier"]["value"],
                Address::repeat_byte(0x22).to_checksum(None)
            );
            assert_eq!(c["provision"]["action"][0]["coding"][0]["code"], "access");
            assert_eq!(
                c["identifier"][0]["system"],
                format!("urn:ethereum:412346:{}", token.to_checksum(None))
            );
        }
        assert_eq!(consents[0]["identifier"][0]["value"], "1");
        assert_eq!(consents[0]["status"], "active");
        assert!(consents[0]["provision"].get("data").is_none());
        let data = consents[1]["provision"]["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data[1]["meaning"], "instance");
        assert_eq!(
            data[1]["reference"]["identifier"]["system"],
            "urn:ethereum:412346:record"
        );
        assert_eq!(data[1]["reference"]["identifier"]["value"], "9");
        assert_eq!(consents[2]["status"], "inactive");
        assert_eq!(
            consents[3]["provision"]["securityLabel"][0]["code"],
            format!("0x{}", "33".repeat(32))
        );
    }

    #[test]
    fn an_expired_grant_is_inactive_from_its_expiry_on() {
        let g = grant(1, 0);
        let at = |now| {
            consent_at(
                g.patient,
                std::slice::from_ref(&g),
                CHAIN,
                Address::ZERO,
                now,
            )["entry"][0]["resource"]["status"]
                .clone()
        };
        assert_eq!(at(g.expires_at - 1), "active");
        assert_eq!(at(g.expires_at), "inactive");
    }

    #[test]
    fn an_unknown_scope_claims_no_permit() {
        let c = consent_at(Address::ZERO, &[grant(1, 7)], CHAIN, Address::ZERO, 0);
        let c = &c["entry"][0]["resource"];
        assert_eq!(c["status"], "inactive");
        assert!(c["provision"].get("type").is_none());
    }
}
