//! `careledger keys new|show|export-web`, and the `--web-key` files the app
//! writes: addresses and public keys; a secret leaves only locked with a
//! passphrase, never in the output.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Report;
use alloy::hex;
use serde_json::json;
use std::io::Read;
use std::path::Path;
use zeroize::Zeroizing;

/// `keys new`: a new keystore at `out` under `password`.
pub fn new(out: &Path, password: &str) -> Result<Report> {
    let signer = crate::keystore::create(out, password)?;
    let x25519 = crate::keystore::reader_key(&signer).public_key();
    Ok(Report::new(json!({
        "address": signer.address(),
        "x25519PublicKey": format!("0x{}", hex::encode(x25519)),
        "keystore": out.display().to_string(),
    }))
    .line(format!("address          {}", signer.address()))
    .line(format!("x25519 public    0x{}", hex::encode(x25519)))
    .line(format!(
        "keystore         {} (scrypt n = 2^18, mode 0600)",
        out.display()
    )))
}

/// `keys show`: the signing account's address and X25519 public key, never a secret.
pub fn show(ctx: &Ctx) -> Result<Report> {
    let address = ctx.me()?;
    let x25519 = ctx.reader_key()?.public_key();
    Ok(Report::new(json!({
        "address": address,
        "x25519PublicKey": format!("0x{}", hex::encode(x25519)),
    }))
    .line(format!("address          {address}"))
    .line(format!("x25519 public    0x{}", hex::encode(x25519))))
}

/// The web app's passphrases are at least this long (web/src/views/KeyPanel.tsx).
const MIN_WEB_PASSPHRASE: usize = 8;

fn web_passphrase() -> Result<String> {
    let pass = read_web_passphrase()?;
    if pass.chars().count() < MIN_WEB_PASSPHRASE {
        return Err(Error::Usage(format!(
            "the passphrase must have at least {MIN_WEB_PASSPHRASE} characters"
        )));
    }
    Ok(pass)
}

fn read_web_passphrase() -> Result<String> {
    Ok(match std::env::var("CARELEDGER_WEB_PASSPHRASE") {
        Ok(p) => p,
        Err(_) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            rpassword::prompt_password("passphrase for the web key file: ")
                .map_err(|e| Error::io("reading the passphrase from the terminal", e))?
        }
        Err(_) => {
            return Err(Error::Usage(
                "a passphrase is needed: set CARELEDGER_WEB_PASSPHRASE or run in a terminal".into(),
            ))
        }
    })
}

const MAX_KEY_FILE: u64 = 64 * 1024;

/// The X25519 secret in a web key file (`--web-key`), unlocked with its passphrase.
pub fn unlock_web_key(path: &Path) -> Result<Zeroizing<[u8; 32]>> {
    // A key file is one short JSON line; reading a bounded prefix keeps a wrong
    // path (a device, a huge file) from hanging the command.
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE).read_to_string(&mut text))
        .map_err(|e| Error::file(path, e))?;
    let passphrase = Zeroizing::new(read_web_passphrase()?);
    unlock(path, &text, &passphrase)
}

/// The key file `text` (read from `path`) unlocked with `passphrase`; a wrong
/// passphrase or a file that is not a key file is the key file's error.
fn unlock(path: &Path, text: &str, passphrase: &str) -> Result<Zeroizing<[u8; 32]>> {
    careledger_vault::keyfile::unlock(text, passphrase).map_err(|e| Error::WebKey {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// `keys export-web`: the record key, locked with a passphrase, as a key file the
/// web app imports; `out` must not exist.
pub fn export_web(ctx: &Ctx, out: &Path) -> Result<Report> {
    if out.exists() {
        return Err(Error::Usage(format!(
            "{} exists: refusing to overwrite a key file",
            out.display()
        )));
    }
    let address = ctx.me()?;
    let reader = ctx.reader_key()?;
    let passphrase = web_passphrase()?;
    let secret = Zeroizing::new(reader.secret_bytes());
    let locked = careledger_vault::keyfile::lock(&secret, &passphrase)?;
    crate::fsutil::write_atomic(out, locked.as_bytes())?;
    let x25519 = reader.public_key();
    Ok(Report::new(json!({
        "address": address,
        "x25519PublicKey": format!("0x{}", hex::encode(x25519)),
        "keyFile": out.display().to_string(),
    }))
    .line(format!("address          {address}"))
    .line(format!("x25519 public    0x{}", hex::encode(x25519)))
    .line(format!(
        "key file         {} (locked with your passphrase; import it in the web app)",
        out.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: a web key file that does not open is the key file's error,
    /// not a usage error.
    #[test]
    fn a_web_key_file_that_does_not_open_is_a_key_file_error() {
        let path = Path::new("backup.key");
        let secret = Zeroizing::new([7u8; 32]);
        let locked = careledger_vault::keyfile::lock(&secret, "a long passphrase").unwrap();
        assert_eq!(
            *unlock(path, &locked, "a long passphrase").unwrap(),
            [7u8; 32]
        );
        for (text, passphrase) in [
            (locked.as_str(), "the wrong passphrase"),
            ("not a key file", "a long passphrase"),
        ] {
            let e = unlock(path, text, passphrase).unwrap_err();
            assert!(matches!(e, Error::WebKey { .. }), "{e:?}");
            assert!(e.to_string().starts_with("--web-key backup.key: "), "{e}");
        }
    }
}
