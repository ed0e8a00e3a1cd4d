//! `careledger keys new|show|export-web`: addresses and public keys; a secret
//! leaves only locked with a passphrase, never in the output.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Report;
use alloy::hex;
use serde_json::json;
use std::path::Path;

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
        "keystore         {} (encrypted, mode 0600)",
        out.display()
    )))
}

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
    let pass = match std::env::var("CARELEDGER_WEB_PASSPHRASE") {
        Ok(p) => p,
        Err(_) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            rpassword::prompt_password("passphrase for the web key file: ")
                .map_err(|e| Error::Usage(format!("reading the passphrase: {e}")))?
        }
        Err(_) => {
            return Err(Error::Usage(
                "a passphrase is needed: set CARELEDGER_WEB_PASSPHRASE or run in a terminal".into(),
            ))
        }
    };
    if pass.chars().count() < MIN_WEB_PASSPHRASE {
        return Err(Error::Usage(format!(
            "the passphrase must have at least {MIN_WEB_PASSPHRASE} characters"
        )));
    }
    Ok(pass)
}

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
    let secret = zeroize::Zeroizing::new(reader.secret_bytes());
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
