//! Per-patient category codes.
//!
//! A record's category (and a grant's `category:` scope) goes on chain as an
//! opaque bytes32. A plain hash of the name (`keccak256("hiv")`) is recovered by
//! anyone with a dictionary of a few hundred words, so the code is instead
//! HMAC-SHA256 of the normalised name under a key derived (HKDF-SHA256) from the
//! patient's X25519 secret: the same name gives the same code for one patient
//! (so grants by category and `hasAccess` keep working) and unrelated codes for
//! two patients; without the patient's secret the code reveals nothing. The
//! patient's own clients map codes back to names by trying the names they know
//! ([`COMMON_CATEGORIES`] and any name given); a doctor learns the category from
//! the record it decrypts.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::ReaderKeypair;

/// Domain separation: the HKDF salt and info of the category key.
pub const CATEGORY_LABEL: &str = "careledger/category/v1";

/// Category names the clients try when showing a code back to its patient.
pub const COMMON_CATEGORIES: &[&str] = &[
    "lab",
    "imaging",
    "prescription",
    "letter",
    "vaccination",
    "allergy",
    "psychiatry",
    "hiv",
    "genetics",
    "discharge",
    "referral",
    "surgery",
    "oncology",
    "cardiology",
    "pregnancy",
    "sexual-health",
    "mental-health",
    "dental",
];

/// The form of a name that is hashed: trimmed and lower-cased.
pub fn normalise(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The patient's category key: HKDF-SHA256 of its X25519 secret.
fn category_key(secret: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let hk = Hkdf::<Sha256>::new(Some(CATEGORY_LABEL.as_bytes()), secret);
    let mut key = Zeroizing::new([0u8; 32]);
    hk.expand(CATEGORY_LABEL.as_bytes(), &mut key[..])
        .expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

/// The code of category `name` for the patient whose X25519 secret is `secret`;
/// an empty name (after trimming) is "no category", the zero code.
pub fn category_code_from_secret(secret: &[u8; 32], name: &str) -> [u8; 32] {
    let name = normalise(name);
    if name.is_empty() {
        return [0u8; 32];
    }
    let key = category_key(secret);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key[..]).expect("HMAC takes any key length");
    mac.update(name.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The code of category `name` for the patient holding `reader`.
pub fn category_code(reader: &ReaderKeypair, name: &str) -> [u8; 32] {
    let secret = Zeroizing::new(reader.secret_bytes());
    category_code_from_secret(&secret, name)
}

/// The name of `code` for the patient holding `reader`, if it is one of
/// [`COMMON_CATEGORIES`] or of `extra` (returned normalised).
pub fn category_name<'a>(
    reader: &ReaderKeypair,
    code: &[u8; 32],
    extra: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let secret = Zeroizing::new(reader.secret_bytes());
    extra
        .into_iter()
        .chain(COMMON_CATEGORIES.iter().copied())
        .find(|n| !normalise(n).is_empty() && category_code_from_secret(&secret, n) == *code)
        .map(normalise)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        alloy_primitives::hex::encode(b)
    }

    #[test]
    fn a_fixed_vector() {
        let secret = [7u8; 32];
        assert_eq!(
            hex(&category_code_from_secret(&secret, "lab")),
            "b10b7936397cfc97c4dc2c2dbbb0abc5694d72dc5b4b97d3d6afe1db3c64e982"
        );
    }

    #[test]
    fn codes_are_per_patient_normalised_and_not_keccak() {
        let a = ReaderKeypair::derive(b"patient a, 32 bytes or more.....");
        let b = ReaderKeypair::derive(b"patient b, 32 bytes or more.....");
        assert_eq!(category_code(&a, "lab"), category_code(&a, "  LAB "));
        assert_ne!(category_code(&a, "lab"), category_code(&b, "lab"));
        assert_ne!(category_code(&a, "lab"), category_code(&a, "imaging"));
        assert_ne!(
            category_code(&a, "hiv"),
            *alloy_primitives::keccak256("hiv")
        );
        assert_eq!(category_code(&a, "  "), [0u8; 32]);
        assert_eq!(
            category_code(&a, "x"),
            category_code_from_secret(&a.secret_bytes(), "x")
        );
    }

    #[test]
    fn codes_map_back_to_known_names_only_for_their_patient() {
        let a = ReaderKeypair::derive(b"patient a, 32 bytes or more.....");
        let b = ReaderKeypair::derive(b"patient b, 32 bytes or more.....");
        let hiv = category_code(&a, "HIV");
        assert_eq!(category_name(&a, &hiv, []).as_deref(), Some("hiv"));
        assert_eq!(category_name(&b, &hiv, []), None);
        let own = category_code(&a, "Podiatry");
        assert_eq!(category_name(&a, &own, []), None);
        assert_eq!(
            category_name(&a, &own, ["x", "podiatry"]).as_deref(),
            Some("podiatry")
        );
        assert_eq!(category_name(&a, &[0u8; 32], [""]), None);
    }
}
