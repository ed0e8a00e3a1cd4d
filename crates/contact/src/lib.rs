//! The notifier directory's requests: EIP-712 typed data an account signs to
//! register or remove the email address its notices go to. The notifier checks
//! them; the CLI (and any wallet, through `eth_signTypedData_v4`) signs them.
//!
//! A registration is a double opt-in: the notifier mails a confirmation code to
//! the address, and [`ConfirmRequest`] (unsigned: the code proves the mailbox and
//! is bound to the account) makes it the account's address for notices.

use alloy_primitives::{Address, Bytes, Signature, B256};
use alloy_sol_types::{eip712_domain, Eip712Domain, SolStruct};
use serde::{Deserialize, Serialize};

alloy_sol_types::sol! {
    /// Signed by `account` to receive notices at `email`.
    #[derive(Debug)]
    struct RegisterContact {
        address account;
        string email;
        uint64 nonce;
        uint64 expiry;
    }

    /// Signed by `account` to stop notices.
    #[derive(Debug)]
    struct RemoveContact {
        address account;
        uint64 nonce;
        uint64 expiry;
    }
}

/// The domain requests are signed under: one notifier per chain and deployment.
pub fn domain(chain_id: u64, patient_registry: Address) -> Eip712Domain {
    eip712_domain! {
        name: "CareLedger Notifier",
        version: "1",
        chain_id: chain_id,
        verifying_contract: patient_registry,
    }
}

/// `POST /v1/contacts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    /// The account whose notices go to `email`: it must be the signer.
    pub account: Address,
    /// The address to confirm: it gets the code now, the notices once confirmed.
    pub email: String,
    /// Above every nonce the account used before, so a request is taken once;
    /// in JSON a number or a decimal string.
    #[serde(deserialize_with = "nonce::deserialize")]
    pub nonce: u64,
    /// Unix seconds after which the notifier refuses the request.
    pub expiry: u64,
    /// The account's 65-byte signature over [`RegisterRequest::signing_hash`].
    pub signature: Bytes,
}

/// `POST /v1/contacts/remove`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveRequest {
    /// The account whose addresses (confirmed and pending) go: it must be the signer.
    pub account: Address,
    /// Above every nonce the account used before, so a request is taken once;
    /// in JSON a number or a decimal string.
    #[serde(deserialize_with = "nonce::deserialize")]
    pub nonce: u64,
    /// Unix seconds after which the notifier refuses the request.
    pub expiry: u64,
    /// The account's 65-byte signature over [`RemoveRequest::signing_hash`].
    pub signature: Bytes,
}

/// `POST /v1/contacts/confirm`: the code mailed to the address being registered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The account that registered the address: the code is bound to it.
    pub account: Address,
    /// The code as typed: any case, spaces and dashes allowed ([`normalize_code`]).
    pub code: String,
}

/// The characters of a confirmation code: no I, L, O, 0 or 1, which read alike.
pub const CODE_ALPHABET: &str = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// A confirmation code's length: 31^8, about 2^39.6 codes.
pub const CODE_LENGTH: usize = 8;

/// A code as typed (any case, with spaces or dashes) in its canonical form, or
/// `None` if it cannot be a code at all.
pub fn normalize_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LENGTH && code.chars().all(|c| CODE_ALPHABET.contains(c))).then_some(code)
}

impl RegisterRequest {
    /// The EIP-712 hash the account signs.
    pub fn signing_hash(
        account: Address,
        email: &str,
        nonce: u64,
        expiry: u64,
        domain: &Eip712Domain,
    ) -> B256 {
        RegisterContact {
            account,
            email: email.into(),
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain)
    }

    /// The account that signed this request, if the signature is well formed.
    pub fn signer(&self, domain: &Eip712Domain) -> Option<Address> {
        let hash = Self::signing_hash(self.account, &self.email, self.nonce, self.expiry, domain);
        recover(&self.signature, hash)
    }
}

impl RemoveRequest {
    /// The EIP-712 hash the account signs.
    pub fn signing_hash(account: Address, nonce: u64, expiry: u64, domain: &Eip712Domain) -> B256 {
        RemoveContact {
            account,
            nonce,
            expiry,
        }
        .eip712_signing_hash(domain)
    }

    /// The account that signed this request, if the signature is well formed.
    pub fn signer(&self, domain: &Eip712Domain) -> Option<Address> {
        recover(
            &self.signature,
            Self::signing_hash(self.account, self.nonce, self.expiry, domain),
        )
    }
}

/// A nonce is any u64 (the typed data's `uint64`). JSON numbers above 2^53 are
/// not exact in JavaScript, so besides a number a request may carry the nonce
/// as a decimal string; it is always written back as a number.
mod nonce {
    use serde::de::{Deserializer, Error, Visitor};
    use std::fmt;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(Nonce)
    }

    struct Nonce;

    impl Visitor<'_> for Nonce {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a nonce from 0 to 2^64 - 1, as a number or a decimal string")
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom("a nonce is not negative"))
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<u64, E> {
            if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::custom("a nonce string is decimal digits only"));
            }
            v.parse()
                .map_err(|_| E::custom("a nonce is at most 2^64 - 1"))
        }
    }
}

fn recover(signature: &[u8], hash: B256) -> Option<Address> {
    Signature::from_raw(signature)
        .ok()?
        .recover_address_from_prehash(&hash)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_strings_are_what_wallets_sign() {
        assert_eq!(
            RegisterContact::eip712_encode_type(),
            "RegisterContact(address account,string email,uint64 nonce,uint64 expiry)"
        );
        assert_eq!(
            RemoveContact::eip712_encode_type(),
            "RemoveContact(address account,uint64 nonce,uint64 expiry)"
        );
    }

    /// One request hashed by alloy here and by viem in the web app
    /// (web/tests/unit/contact.test.ts holds the same vector): the page's
    /// hand-written EIP-712 types and domain must sign what the notifier checks.
    #[test]
    fn a_known_request_hashes_as_the_web_app_signs_it() {
        let hash = RegisterRequest::signing_hash(
            Address::with_last_byte(0xaa),
            "dr.rivers@example.org",
            7,
            1_893_456_000,
            &domain(412_346, Address::with_last_byte(0xbb)),
        );
        assert_eq!(
            hash.to_string(),
            "0xb10fab138d770846bf3d86bc85313718e5dad123c6deb0e8be246e048dbf5912"
        );
    }

    #[test]
    fn codes_are_read_in_any_case_with_spaces_and_dashes() {
        assert_eq!(normalize_code("abcd-efgh").as_deref(), Some("ABCDEFGH"));
        assert_eq!(
            normalize_code(" AB CD\tEF-GH ").as_deref(),
            Some("ABCDEFGH")
        );
        assert_eq!(normalize_code("23456789").as_deref(), Some("23456789"));
        for bad in [
            "",
            "ABCDEFG",
            "ABCDEFGHJ",
            "ABCDEFG0",
            "ABCDEFGI",
            "ABCDEFGÄ",
            "ABCD_EFGH",
        ] {
            assert_eq!(normalize_code(bad), None, "{bad}");
        }
        assert_eq!(CODE_ALPHABET.len(), 31);
        let req: ConfirmRequest = serde_json::from_str(
            "{\"account\":\"0x0000000000000000000000000000000000000001\",\"code\":\"x\"}",
        )
        .unwrap();
        assert_eq!(req.account, Address::with_last_byte(1));
        assert!(serde_json::from_str::<ConfirmRequest>(
            "{\"account\":\"0x0000000000000000000000000000000000000001\",\"code\":\"x\",\"more\":1}"
        )
        .is_err());
    }

    #[test]
    fn a_malformed_signature_recovers_nobody() {
        let req = RemoveRequest {
            account: Address::repeat_byte(1),
            nonce: 0,
            expiry: 1,
            signature: Bytes::from(vec![0u8; 12]),
        };
        assert_eq!(req.signer(&domain(1, Address::ZERO)), None);
    }
}
