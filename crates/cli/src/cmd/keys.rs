//! `careledger keys new|show`: addresses and public keys, never a secret.

use crate::context::Ctx;
use crate::error::Result;
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
