//! A 32-byte secret locked with a passphrase: how the browser keeps the user's
//! X25519 secret in `localStorage`.
//!
//! The key is scrypt(passphrase, 16-byte random salt) with `logN` = 15, r = 8,
//! p = 1 (32 MiB, well under a second in a browser); the seal is
//! XChaCha20-Poly1305 with a random 24-byte nonce, and [`FORMAT`] as associated
//! data. The file is one line of JSON, bytes in lowercase hex:
//!
//! ```json
//! {"version":1,"kdf":"scrypt","logN":15,"r":8,"p":1,"salt":"…","nonce":"…","ciphertext":"…"}
//! ```
//!
//! The parameters come from the file, so [`unlock`] bounds them first: a file
//! with `logN` = 30 would otherwise ask for 128 GiB and hang the page.

use crate::Error;
use alloy_primitives::hex;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use rand_core::{OsRng, RngCore, UnwrapErr};
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;
use zeroize::Zeroizing;

/// The format and version, bound into the seal as associated data.
pub const FORMAT: &str = "careledger/keyfile/1";
const VERSION: u32 = 1;
const KDF: &str = "scrypt";
/// scrypt cost written by [`lock`]: N = 2^15.
pub const LOG_N: u8 = 15;
const R: u32 = 8;
const P: u32 = 1;
/// What [`unlock`] accepts: 2^20 × r 8 is 1 GiB, the most a page may be asked for.
const LOG_N_RANGE: RangeInclusive<u8> = 10..=20;
const R_RANGE: RangeInclusive<u32> = 1..=8;
const P_RANGE: RangeInclusive<u32> = 1..=4;
const SALT: usize = 16;
const NONCE: usize = 24;
const SEALED: usize = 32 + 16;

/// The file's fields, in the order they are written.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    kdf: String,
    #[serde(rename = "logN")]
    log_n: u8,
    r: u32,
    p: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// Locks `secret` under `passphrase`; returns the key file's JSON text.
pub fn lock(secret: &[u8; 32], passphrase: &str) -> Result<String, Error> {
    lock_with(secret, passphrase, LOG_N)
}

/// [`lock`] at another scrypt cost (tests use the cheapest [`unlock`] accepts).
pub(crate) fn lock_with(secret: &[u8; 32], passphrase: &str, log_n: u8) -> Result<String, Error> {
    let mut salt = [0u8; SALT];
    let mut nonce = [0u8; NONCE];
    UnwrapErr(OsRng).fill_bytes(&mut salt);
    UnwrapErr(OsRng).fill_bytes(&mut nonce);
    let key = derive(passphrase, &salt, log_n, R, P)?;
    let ciphertext = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: secret,
                aad: FORMAT.as_bytes(),
            },
        )
        .map_err(|_| Error::KeyFile("sealing failed".into()))?;
    let file = KeyFile {
        version: VERSION,
        kdf: KDF.into(),
        log_n,
        r: R,
        p: P,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    };
    serde_json::to_string(&file).map_err(|_| Error::KeyFile("encoding failed".into()))
}

/// Opens a key file written by [`lock`]. [`Error::WrongPassphrase`] if it is well
/// formed but does not open; [`Error::KeyFile`] if it is not a key file at all.
pub fn unlock(text: &str, passphrase: &str) -> Result<Zeroizing<[u8; 32]>, Error> {
    let file: KeyFile = serde_json::from_str(text)
        .map_err(|e| Error::KeyFile(format!("not the expected JSON ({e})")))?;
    if file.version != VERSION {
        return Err(Error::KeyFile(format!(
            "unsupported version {}",
            file.version
        )));
    }
    if file.kdf != KDF {
        return Err(Error::KeyFile("unsupported kdf (expected scrypt)".into()));
    }
    if !LOG_N_RANGE.contains(&file.log_n) {
        return Err(Error::KeyFile(format!(
            "logN {} is outside {}..={}",
            file.log_n,
            LOG_N_RANGE.start(),
            LOG_N_RANGE.end()
        )));
    }
    if !R_RANGE.contains(&file.r) || !P_RANGE.contains(&file.p) {
        return Err(Error::KeyFile(format!(
            "scrypt r {} or p {} out of bounds",
            file.r, file.p
        )));
    }
    let salt: [u8; SALT] = field(&file.salt, "salt")?;
    let nonce: [u8; NONCE] = field(&file.nonce, "nonce")?;
    let ciphertext: [u8; SEALED] = field(&file.ciphertext, "ciphertext")?;
    let key = derive(passphrase, &salt, file.log_n, file.r, file.p)?;
    let opened = Zeroizing::new(
        XChaCha20Poly1305::new(key.as_ref().into())
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: &ciphertext,
                    aad: FORMAT.as_bytes(),
                },
            )
            .map_err(|_| Error::WrongPassphrase)?,
    );
    let mut secret = Zeroizing::new([0u8; 32]);
    secret.copy_from_slice(&opened);
    Ok(secret)
}

/// A hex field of exactly `N` bytes.
fn field<const N: usize>(text: &str, name: &str) -> Result<[u8; N], Error> {
    let bytes = hex::decode(text).map_err(|_| Error::KeyFile(format!("{name} is not hex")))?;
    bytes
        .try_into()
        .map_err(|_| Error::KeyFile(format!("{name} is not {N} bytes")))
}

fn derive(
    passphrase: &str,
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, Error> {
    let params = scrypt::Params::new(log_n, r, p)
        .map_err(|_| Error::KeyFile("invalid scrypt parameters".into()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, key.as_mut())
        .map_err(|_| Error::KeyFile("invalid scrypt output length".into()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const SECRET: [u8; 32] = [0x5a; 32];
    const CHEAP: u8 = 10;

    fn edit(text: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut v: Value = serde_json::from_str(text).unwrap();
        f(v.as_object_mut().unwrap());
        v.to_string()
    }

    #[test]
    fn the_default_cost_round_trips_and_writes_the_documented_format() {
        let text = lock(&SECRET, "correct horse").unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["kdf"], "scrypt");
        assert_eq!(v["logN"], 15);
        assert_eq!((v["r"].as_u64(), v["p"].as_u64()), (Some(8), Some(1)));
        assert_eq!(v["salt"].as_str().unwrap().len(), 32);
        assert_eq!(v["nonce"].as_str().unwrap().len(), 48);
        assert_eq!(v["ciphertext"].as_str().unwrap().len(), 96);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 8);
        assert_eq!(*unlock(&text, "correct horse").unwrap(), SECRET);
        assert!(!text.contains(&hex::encode(SECRET)));
    }

    #[test]
    fn a_wrong_passphrase_is_told_apart_from_a_malformed_file() {
        let text = lock_with(&SECRET, "pass", CHEAP).unwrap();
        assert_eq!(*unlock(&text, "pass").unwrap(), SECRET);
        assert!(matches!(unlock(&text, "Pass"), Err(Error::WrongPassphrase)));
        assert!(matches!(unlock(&text, ""), Err(Error::WrongPassphrase)));
        // Fresh salt and nonce each time.
        assert_ne!(text, lock_with(&SECRET, "pass", CHEAP).unwrap());

        // Altered bytes do not open either: a wrong key, as far as the AEAD can tell.
        for name in ["salt", "nonce", "ciphertext"] {
            let bad = edit(&text, |o| {
                let mut h = o[name].as_str().unwrap().to_string();
                let flipped = if h.starts_with('0') { "1" } else { "0" };
                h.replace_range(0..1, flipped);
                o.insert(name.into(), Value::from(h));
            });
            assert!(
                matches!(unlock(&bad, "pass"), Err(Error::WrongPassphrase)),
                "{name}"
            );
        }

        let malformed = [
            String::new(),
            "not json".into(),
            "{}".into(),
            edit(&text, |o| {
                o.insert("version".into(), 2.into());
            }),
            edit(&text, |o| {
                o.insert("kdf".into(), "pbkdf2".into());
            }),
            edit(&text, |o| {
                o.insert("salt".into(), "zz".into());
            }),
            edit(&text, |o| {
                o.insert("nonce".into(), "00".into());
            }),
            edit(&text, |o| {
                o.insert("ciphertext".into(), "".into());
            }),
            edit(&text, |o| {
                o.remove("nonce");
            }),
            edit(&text, |o| {
                o.insert("r".into(), 0.into());
            }),
            edit(&text, |o| {
                o.insert("p".into(), 1000.into());
            }),
            edit(&text, |o| {
                o.insert("logN".into(), 300.into());
            }),
        ];
        for bad in &malformed {
            assert!(
                matches!(unlock(bad, "pass"), Err(Error::KeyFile(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_hostile_cost_is_refused_before_any_work() {
        let text = lock_with(&SECRET, "pass", CHEAP).unwrap();
        for log_n in [0, 9, 21, 30, 63] {
            let bad = edit(&text, |o| {
                o.insert("logN".into(), log_n.into());
            });
            let err = unlock(&bad, "pass").unwrap_err();
            assert!(matches!(err, Error::KeyFile(_)), "{log_n}");
            assert!(err.to_string().contains("logN"), "{err}");
        }
    }
}
