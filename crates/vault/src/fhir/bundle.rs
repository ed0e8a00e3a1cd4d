//! Telling a FHIR R4 Bundle from any other file, and checking the Bundle rules
//! that decide whether a reader can use it.
//!
//! Checked: `resourceType` is `Bundle`; `type` is one of R4's Bundle.type codes;
//! `entry`, if present, is an array of objects, each with a `resource` whose
//! `resourceType` is an R4 resource, unless it carries a `request` or `response`
//! (constraint bdl-5); `total` only in a `searchset` or `history` (bdl-1); a
//! `document` starts with a Composition (bdl-11). Element-level validation of
//! each resource is a FHIR validator's job, not the vault's.

use super::Value;
use crate::Error;
use std::collections::BTreeMap;

/// What a record's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    /// A valid FHIR R4 Bundle: stored as it is.
    Bundle(BundleSummary),
    /// JSON that declares itself a FHIR Bundle but breaks R4's rules; the reason
    /// is a fixed text. Refuse it rather than store it as a file: readers would
    /// take it for a Bundle and fail later.
    InvalidBundle(String),
    /// Anything else: wrap it with [`super::attachment_bundle`].
    Attachment,
}

/// The shape of a valid Bundle: its type and how many resources of each type it
/// holds. Every string is one of this module's constants, never input text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSummary {
    /// The Bundle.type code.
    pub bundle_type: &'static str,
    /// Number of entries.
    pub entries: usize,
    /// Entries per resource type (entries with only a request or response are not counted).
    pub resources: BTreeMap<&'static str, usize>,
}

/// Classifies `bytes` as a FHIR R4 Bundle (valid or not) or an attachment.
pub fn classify(bytes: &[u8]) -> RecordKind {
    match declared_bundle(bytes) {
        None => RecordKind::Attachment,
        Some(bundle) => match check(&bundle) {
            Ok(summary) => RecordKind::Bundle(summary),
            Err(reason) => RecordKind::InvalidBundle(reason),
        },
    }
}

/// Checks that `bytes` are a FHIR R4 Bundle (see the module comment for the
/// rules) and summarises it.
pub fn validate_bundle(bytes: &[u8]) -> Result<BundleSummary, Error> {
    let bundle = match serde_json::from_slice::<Value>(bytes) {
        // serde_json's messages can quote the input: keep only the position.
        Err(e) => {
            return Err(invalid(format!(
                "not JSON (line {}, column {})",
                e.line(),
                e.column()
            )))
        }
        Ok(value) => value,
    };
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(invalid("resourceType is not Bundle".into()));
    }
    check(&bundle).map_err(invalid)
}

fn invalid(reason: String) -> Error {
    Error::Fhir(reason)
}

/// The parsed JSON if `bytes` are a JSON object with `resourceType: "Bundle"`.
fn declared_bundle(bytes: &[u8]) -> Option<Value> {
    // Most attachments (PDF, images) fail here without a parse.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    (value.get("resourceType").and_then(Value::as_str) == Some("Bundle")).then_some(value)
}

/// Bundle.type codes of R4 (value set bundle-type).
const BUNDLE_TYPES: [&str; 9] = [
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
];

fn check(bundle: &Value) -> Result<BundleSummary, String> {
    let bundle_type = match bundle.get("type") {
        None => return Err("Bundle.type is missing".into()),
        Some(Value::String(t)) => BUNDLE_TYPES
            .iter()
            .find(|known| *known == t)
            .ok_or("Bundle.type is not an R4 bundle-type code")?,
        Some(_) => return Err("Bundle.type is not a string".into()),
    };
    if bundle.get("total").is_some() && !matches!(*bundle_type, "searchset" | "history") {
        return Err("Bundle.total is only allowed in a searchset or history (bdl-1)".into());
    }
    let entries = match bundle.get("entry") {
        None => &[][..],
        Some(Value::Array(entries)) => entries.as_slice(),
        Some(_) => return Err("Bundle.entry is not an array".into()),
    };
    let mut resources = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            return Err(format!("entry {i} is not an object"));
        };
        let Some(resource) = entry.get("resource") else {
            if entry.contains_key("request") || entry.contains_key("response") {
                continue;
            }
            return Err(format!(
                "entry {i} has no resource, request or response (bdl-5)"
            ));
        };
        let kind = match resource.get("resourceType") {
            None => return Err(format!("entry {i}: the resource has no resourceType")),
            Some(Value::String(kind)) => super::resources::known(kind)
                .ok_or_else(|| format!("entry {i}: resourceType is not an R4 resource"))?,
            Some(_) => return Err(format!("entry {i}: resourceType is not a string")),
        };
        if i == 0 && *bundle_type == "document" && kind != "Composition" {
            return Err("a document Bundle must start with a Composition (bdl-11)".into());
        }
        *resources.entry(kind).or_insert(0) += 1;
    }
    if *bundle_type == "document" && entries.is_empty() {
        return Err("a document Bundle must start with a Composition (bdl-11)".into());
    }
    Ok(BundleSummary {
        bundle_type,
        entries: entries.len(),
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CANARY: &str = "CANARY-7f3a-PHI-Jane-Doe";

    fn bytes(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }

    fn reject(v: Value) -> String {
        let err = validate_bundle(&bytes(&v)).unwrap_err().to_string();
        assert!(!err.contains(CANARY), "the error quotes the input: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
        assert!(
            matches!(classify(&bytes(&v)), RecordKind::InvalidBundle(r) if !r.contains(CANARY))
        );
        err
    }

    #[test]
    fn a_bundle_of_observations_and_documents_is_summarised() {
        let b = json!({
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Observation", "status": "final", "note": [{"text": CANARY}]}},
                {"resource": {"resourceType": "Observation", "status": "final"}},
                {"resource": {"resourceType": "DocumentReference", "status": "current"}},
            ]
        });
        let summary = validate_bundle(&bytes(&b)).unwrap();
        assert_eq!(summary.bundle_type, "collection");
        assert_eq!(summary.entries, 3);
        assert_eq!(summary.resources.get("Observation"), Some(&2));
        assert_eq!(summary.resources.get("DocumentReference"), Some(&1));
        assert!(!format!("{summary:?}").contains(CANARY));
        assert_eq!(classify(&bytes(&b)), RecordKind::Bundle(summary));
    }

    #[test]
    fn files_that_are_not_bundles_are_attachments() {
        assert_eq!(
            classify(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary"),
            RecordKind::Attachment
        );
        assert_eq!(classify(b""), RecordKind::Attachment);
        assert_eq!(classify(b"{not json"), RecordKind::Attachment);
        let observation = json!({"resourceType": "Observation", "status": "final"});
        assert_eq!(classify(&bytes(&observation)), RecordKind::Attachment);
        assert!(validate_bundle(&bytes(&observation)).is_err());
    }

    #[test]
    fn malformed_bundles_are_refused_without_quoting_them() {
        let no_resource = json!({"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": format!("urn:{CANARY}")}]});
        assert!(reject(no_resource).contains("entry 0 has no resource"));
        let bad_type = json!({"resourceType": "Bundle", "type": CANARY, "entry": []});
        assert!(reject(bad_type).contains("Bundle.type"));
        let no_type = json!({"resourceType": "Bundle", "entry": []});
        assert!(reject(no_type).contains("missing"));
        let unknown = json!({"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": {"resourceType": "Observation"}}, {"resource": {"resourceType": CANARY}}]});
        assert!(reject(unknown).contains("entry 1"));
        let untyped = json!({"resourceType": "Bundle", "type": "batch",
            "entry": [{"resource": {"id": CANARY}}]});
        assert!(reject(untyped).contains("no resourceType"));
        let not_array =
            json!({"resourceType": "Bundle", "type": "collection", "entry": {"x": CANARY}});
        assert!(reject(not_array).contains("not an array"));
        let document = json!({"resourceType": "Bundle", "type": "document",
            "entry": [{"resource": {"resourceType": "Observation"}}]});
        assert!(reject(document).contains("Composition"));
        let total = json!({"resourceType": "Bundle", "type": "collection", "total": 3});
        assert!(reject(total).contains("bdl-1"));
    }

    #[test]
    fn broken_json_is_reported_by_position_only() {
        let text = format!("{{\"resourceType\": \"Bundle\", \"type\": {CANARY}}}");
        let err = validate_bundle(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        assert!(!err.contains(CANARY), "{err}");
    }

    #[test]
    fn transaction_responses_may_have_entries_without_resources() {
        let b = json!({"resourceType": "Bundle", "type": "transaction-response",
            "entry": [{"response": {"status": "201 Created"}}]});
        let summary = validate_bundle(&bytes(&b)).unwrap();
        assert_eq!(summary.entries, 1);
        assert!(summary.resources.is_empty());
    }
}
