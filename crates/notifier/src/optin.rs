//! Double opt-in: an address receives notices only once the code mailed to it
//! came back through `POST /v1/contacts/confirm`.
//!
//! The code is 8 characters of [`CODE_ALPHABET`] (31^8, about 2^39.6 codes)
//! from the operating system's CSPRNG. The store keeps a salted keccak-256 of
//! it, bound to the account, never the code; the mail that carries it goes
//! through the outbox like a notice (same SMTP retries), and its body is blanked
//! once the SMTP server took it, or when it is no longer wanted (confirmed,
//! replaced, removed, expired). A registration lasts [`TTL_SECS`] and
//! [`ATTEMPTS`] wrong codes. The hash stops anyone who reads the database
//! from reading a code off it; with so few codes it does not stop a brute
//! force of a stolen database's hashes within a registration's day.

use crate::notice::when;
use crate::store::Mail;
use alloy::primitives::{keccak256, Address, B256};
pub use careledger_contact::{normalize_code, CODE_ALPHABET, CODE_LENGTH};
use rand_core::{OsRng, RngCore, UnwrapErr};

/// How long a registration waits for its code.
pub const TTL_SECS: u64 = 24 * 3600;
/// Wrong codes a registration survives, minus one: the last wrong one deletes it.
pub const ATTEMPTS: u32 = 5;
/// The outbox kind of a confirmation mail.
pub const KIND: &str = "confirm";
/// What a confirmation mail's body becomes once it is no longer needed.
pub const SCRUBBED: &str = "(a confirmation code, removed once no longer needed)";

/// A fresh code, uniform over [`CODE_ALPHABET`] (bytes above the largest
/// multiple of 31 are drawn again).
pub fn new_code() -> String {
    let alphabet = CODE_ALPHABET.as_bytes();
    let limit = (256 / alphabet.len() * alphabet.len()) as u8;
    let mut rng = UnwrapErr(OsRng);
    let mut code = String::with_capacity(CODE_LENGTH);
    while code.len() < CODE_LENGTH {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        for b in bytes {
            if b < limit && code.len() < CODE_LENGTH {
                code.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    code
}

/// A registration's salt: one hash computed over all accounts tells nothing.
pub fn new_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    UnwrapErr(OsRng).fill_bytes(&mut salt);
    salt
}

/// What the store keeps of a (normalized) code.
pub fn hash(salt: &[u8], account: Address, code: &str) -> B256 {
    let mut data = Vec::with_capacity(64);
    data.extend_from_slice(b"careledger-notifier/confirm/v1");
    data.extend_from_slice(salt);
    data.extend_from_slice(account.as_slice());
    data.extend_from_slice(code.as_bytes());
    keccak256(data)
}

/// The Message-ID of the confirmation of `account`'s registration with `nonce`:
/// one per registration, since nonces only go up.
pub fn message_id(chain_id: u64, account: Address, nonce: u64) -> String {
    format!(
        "<confirm.{chain_id}.{}.{nonce}@notifier.careledger>",
        alloy::hex::encode(account)
    )
}

/// The mail carrying `code` to the address being registered for `account`:
/// the code, how to confirm, until when. Nothing else of the account, and no
/// health data. Lines stay short, so the mail goes as plain 7-bit text.
pub fn mail(chain_id: u64, account: Address, nonce: u64, code: &str, expires_at: u64) -> Mail {
    let body = format!(
        "The CareLedger notifier was asked to send the notices of account\n\
         {account}\n\
         to this address. Nothing is sent to it until it is confirmed.\n\n\
         Confirmation code: {code}\n\n\
         To confirm, run with that account's key (and the same --notifier\n\
         as for the registration):\n  \
         careledger notify confirm {code}\n\
         or enter the code in the CareLedger web app.\n\n\
         The code works until {} and for {ATTEMPTS} tries.\n\
         If you did not ask for this, ignore this mail: the address is then\n\
         never used. This mail carries no medical information.\n",
        when(expires_at)
    );
    Mail {
        message_id: message_id(chain_id, account, nonce),
        block: 0,
        recipient: account,
        kind: KIND,
        subject: "CareLedger: confirm this address for your notices".into(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_characters_of_the_alphabet_and_differ() {
        let codes: Vec<String> = (0..200).map(|_| new_code()).collect();
        for c in &codes {
            assert_eq!(c.len(), CODE_LENGTH);
            assert!(c.chars().all(|ch| CODE_ALPHABET.contains(ch)), "{c}");
            assert_eq!(normalize_code(c).as_deref(), Some(c.as_str()));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        // Every character turns up over 1,600 draws (31 of them: a miss is ~1e-20).
        let all: String = codes.concat();
        assert!(CODE_ALPHABET.chars().all(|ch| all.contains(ch)));
    }

    #[test]
    fn the_hash_binds_salt_account_and_code() {
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let h = hash(&[7; 16], a, "ABCDEFGH");
        assert_eq!(h, hash(&[7; 16], a, "ABCDEFGH"));
        assert_ne!(h, hash(&[8; 16], a, "ABCDEFGH"));
        assert_ne!(h, hash(&[7; 16], b, "ABCDEFGH"));
        assert_ne!(h, hash(&[7; 16], a, "ABCDEFGJ"));
    }

    #[test]
    fn the_mail_says_how_to_confirm_and_nothing_else() {
        let account = Address::repeat_byte(0xab);
        let m = mail(412_346, account, 3, "K7MPQ2XZ", 1_795_609_845);
        assert_eq!(m.kind, KIND);
        assert_eq!(m.recipient, account);
        assert!(
            !m.subject.contains("K7MPQ2XZ"),
            "the code is not in the subject"
        );
        for words in [
            "Confirmation code: K7MPQ2XZ",
            "careledger notify confirm K7MPQ2XZ",
            "web app",
            "until 2026-11-25 12:30:45 UTC",
            &account.to_string(),
        ] {
            assert!(m.body.contains(words), "{words:?} not in {}", m.body);
        }
        assert!(m.body.lines().all(|l| l.len() <= 76), "{}", m.body);
        assert_eq!(
            m.message_id,
            format!("<confirm.412346.{}.3@notifier.careledger>", "ab".repeat(20))
        );
    }
}
