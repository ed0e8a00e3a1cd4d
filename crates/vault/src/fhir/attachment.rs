//! Any file as a FHIR R4 record: a `collection` Bundle with one DocumentReference
//! whose attachment carries the file. This JSON is what gets encrypted; it never
//! leaves the client in the clear.

use super::{collection, instant, unix_now, Value};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use sha1::{Digest, Sha1};

/// Wraps `bytes` as a `collection` Bundle holding one DocumentReference
/// (status `current`, subject `patient_ref`, e.g. from [`super::account_reference`])
/// whose `content.attachment` has the file's `content_type`, base64 `data`,
/// `size`, `hash` (base64 of its sha-1, as R4's Attachment.hash requires) and
/// `title` (no `data` for an empty file: FHIR strings are never empty).
/// `size` is left out for files of 2^31 bytes or more, which R4's
/// `unsignedInt` cannot hold.
pub fn attachment_bundle(
    bytes: &[u8],
    content_type: &str,
    title: &str,
    patient_ref: &Value,
) -> Value {
    attachment_bundle_at(bytes, content_type, title, patient_ref, unix_now())
}

fn attachment_bundle_at(
    bytes: &[u8],
    content_type: &str,
    title: &str,
    patient_ref: &Value,
    now: u64,
) -> Value {
    let mut attachment = json!({
        "contentType": content_type,
        "hash": STANDARD.encode(Sha1::digest(bytes)),
        "title": title,
        "creation": instant(now),
    });
    // FHIR strings are never empty: an empty file has no `data`, only its size.
    if !bytes.is_empty() {
        attachment["data"] = STANDARD.encode(bytes).into();
    }
    if let Ok(size) = i32::try_from(bytes.len()) {
        attachment["size"] = size.into();
    }
    let document = json!({
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": patient_ref,
        "date": instant(now),
        "description": title,
        "content": [{ "attachment": attachment }],
    });
    collection(vec![document], now)
}

#[cfg(test)]
mod tests {
    use super::super::{account_reference, validate_bundle};
    use super::*;
    use alloy_primitives::Address;

    #[test]
    fn a_file_becomes_a_valid_bundle_with_one_document_reference() {
        let file = b"%PDF-1.7 scan of a discharge letter";
        let patient = account_reference(412346, Address::repeat_byte(0xab));
        let b = attachment_bundle_at(
            file,
            "application/pdf",
            "Discharge letter",
            &patient,
            1_700_000_000,
        );
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        assert_eq!(b["timestamp"], "2023-11-14T22:13:20Z");
        let summary = validate_bundle(&serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(summary.resources.get("DocumentReference"), Some(&1));

        let doc = &b["entry"][0]["resource"];
        assert_eq!(doc["status"], "current");
        assert_eq!(
            doc["subject"]["identifier"]["system"],
            "urn:ethereum:412346"
        );
        let a = &doc["content"][0]["attachment"];
        assert_eq!(a["contentType"], "application/pdf");
        assert_eq!(a["title"], "Discharge letter");
        assert_eq!(a["size"], file.len());
        assert_eq!(STANDARD.decode(a["data"].as_str().unwrap()).unwrap(), file);
        assert_eq!(
            a["hash"],
            STANDARD.encode(Sha1::digest(file)),
            "base64 of the sha-1, not hex"
        );
        // sha-1 of "abc", a FIPS 180 test vector, as FHIR carries it.
        assert_eq!(
            STANDARD.encode(Sha1::digest(b"abc")),
            "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
        );
    }

    #[test]
    fn an_empty_file_is_still_a_document() {
        let patient = account_reference(1, Address::ZERO);
        let b = attachment_bundle(b"", "application/octet-stream", "empty", &patient);
        let a = &b["entry"][0]["resource"]["content"][0]["attachment"];
        assert_eq!(a["size"], 0);
        assert!(a.get("data").is_none());
        assert_eq!(a["hash"], "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    }
}
