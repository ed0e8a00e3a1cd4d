//! Registration and verification: `patient`, `doctor` and `verifier` verbs.

use crate::abi::IPatientRegistry;
use crate::chain::{call_error, event, parse_address, send};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Report;
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::sol_types::SolCall;
use serde_json::json;

async fn registry_tx(ctx: &Ctx, data: Bytes) -> Result<B256> {
    let d = ctx.deployment().await?;
    let receipt = send(
        &ctx.provider,
        &ctx.url,
        d.patient_registry,
        data,
        U256::ZERO,
    )
    .await?;
    Ok(receipt.transaction_hash)
}

pub async fn register_patient(ctx: &Ctx) -> Result<Report> {
    let me = ctx.me()?;
    let key = B256::from(ctx.reader_key()?.public_key());
    let call = IPatientRegistry::registerPatientCall {
        encryption_key: key,
    };
    let tx = registry_tx(ctx, call.abi_encode().into()).await?;
    Ok(
        Report::new(json!({"patient": me, "encryptionKey": key, "tx": tx}))
            .line(format!("registered patient {me} (tx {tx})")),
    )
}

/// The domain tag of a licence commitment (version 1).
pub const LICENCE_TAG: &str = "careledger/licence/v1";

/// A licence number as it is committed: surrounding whitespace removed and ASCII
/// letters upper-cased, so that "gmc-1 " and "GMC-1" give the same commitment.
pub fn normalise_licence(licence: &str) -> String {
    licence.trim().to_ascii_uppercase()
}

/// The salted licence commitment that goes on chain as `licenceHash`:
/// `keccak256(abi.encodePacked("careledger/licence/v1", salt, normalised licence))`.
/// Without the salt, which the doctor hands to the verifiers off chain, the
/// commitment cannot be matched against an enumeration of licence numbers.
pub fn licence_commitment(salt: &B256, licence: &str) -> B256 {
    let licence = normalise_licence(licence);
    let mut packed = Vec::with_capacity(LICENCE_TAG.len() + 32 + licence.len());
    packed.extend_from_slice(LICENCE_TAG.as_bytes());
    packed.extend_from_slice(salt.as_slice());
    packed.extend_from_slice(licence.as_bytes());
    keccak256(packed)
}

/// A licence salt given on the command line: 32 bytes in hex, with or without 0x.
pub fn parse_salt(salt: &str) -> Result<B256> {
    let s = salt.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Usage(
            "a licence salt is 32 bytes in hex (64 hex digits, 0x optional)".into(),
        ));
    }
    s.parse::<B256>()
        .map_err(|e| Error::Usage(format!("licence salt: {e}")))
}

fn check_licence_text(licence: &str) -> Result<()> {
    if normalise_licence(licence).is_empty() {
        return Err(Error::Usage("the licence number is empty".into()));
    }
    Ok(())
}

/// Registers the signing account as a doctor with a fresh licence salt.
pub async fn register_doctor(ctx: &Ctx, licence: &str) -> Result<Report> {
    register_doctor_with_salt(ctx, licence, None).await
}

/// Registers the signing account as a doctor. Only the salted commitment of the
/// licence goes on chain; the salt (fresh unless `salt` is given) is printed for the
/// doctor to hand, with the licence number, to the verifiers off chain.
pub async fn register_doctor_with_salt(
    ctx: &Ctx,
    licence: &str,
    salt: Option<&str>,
) -> Result<Report> {
    check_licence_text(licence)?;
    let salt = match salt {
        Some(s) => parse_salt(s)?,
        None => {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            B256::from(bytes)
        }
    };
    let me = ctx.me()?;
    let key = B256::from(ctx.reader_key()?.public_key());
    let licence_hash = licence_commitment(&salt, licence);
    let call = IPatientRegistry::registerDoctorCall {
        encryption_key: key,
        licence_hash,
    };
    let tx = registry_tx(ctx, call.abi_encode().into()).await?;
    Ok(Report::new(json!({
        "doctor": me,
        "encryptionKey": key,
        "licenceHash": licence_hash,
        "licenceSalt": salt,
        "tx": tx,
    }))
    .line(format!(
        "registered doctor {me}, pending verification (tx {tx})"
    ))
    .line(format!("licence salt: {salt}"))
    .line(
        "hand your licence number and this salt to the verifiers off chain (in person or by \
         a private channel); never put the salt on chain and never give it to the notifier: \
         only the salted commitment is on chain, so the licence cannot be guessed from it"
            .to_string(),
    ))
}

/// For verifiers: whether `licence` with `salt` is the commitment `doctor` put on chain.
pub async fn check_licence(ctx: &Ctx, doctor: &str, licence: &str, salt: &str) -> Result<Report> {
    let doctor = parse_address("doctor", doctor)?;
    check_licence_text(licence)?;
    let salt = parse_salt(salt)?;
    let d = ctx.deployment().await?;
    let on_chain = ctx
        .registry(&d)
        .licenceHash(doctor)
        .call()
        .await
        .map_err(|e| call_error(&ctx.url, e))?;
    if on_chain.is_zero() {
        return Err(Error::Usage(format!(
            "{doctor} is not registered as a doctor: it has no licence commitment on chain"
        )));
    }
    if licence_commitment(&salt, licence) != on_chain {
        return Err(Error::Usage(format!(
            "licence does not match: licence {:?} with this salt is not the commitment {doctor} registered on chain; do not verify this doctor",
            normalise_licence(licence)
        )));
    }
    Ok(Report::new(json!({
        "doctor": doctor,
        "licenceHash": on_chain,
        "matches": true,
    }))
    .line(format!(
        "licence matches: {doctor} registered the commitment of licence {} with this salt",
        normalise_licence(licence)
    )))
}

pub async fn verify_doctor(ctx: &Ctx, doctor: &str, suspend: bool) -> Result<Report> {
    let doctor = parse_address("doctor", doctor)?;
    let d = ctx.deployment().await?;
    if suspend {
        let call = IPatientRegistry::suspendDoctorCall { doctor };
        let receipt = ctx.transact(d.patient_registry, call).await?;
        let tx = receipt.transaction_hash;
        return Ok(
            Report::new(json!({"doctor": doctor, "status": "suspended", "tx": tx})).line(format!(
                "suspended doctor {doctor} (tx {tx}); reinstating it needs the full quorum of verifiers again"
            )),
        );
    }
    let call = IPatientRegistry::verifyDoctorCall { doctor };
    let receipt = ctx.transact(d.patient_registry, call).await?;
    let tx = receipt.transaction_hash;
    let approved = event::<IPatientRegistry::DoctorApproved>(&receipt)?;
    let verified = approved.approvals >= approved.threshold;
    // Pending, or still suspended until the quorum is complete.
    let status = status_name(
        ctx.registry(&d)
            .doctorStatus(doctor)
            .call()
            .await
            .map_err(|e| call_error(&ctx.url, e))?,
    );
    let line = if verified {
        format!(
            "verified doctor {doctor} ({} of {} approvals, tx {tx})",
            approved.approvals, approved.threshold
        )
    } else {
        format!(
            "approved doctor {doctor}: {} of {} approvals, still {status} (tx {tx})",
            approved.approvals, approved.threshold
        )
    };
    Ok(Report::new(json!({
        "doctor": doctor,
        "status": status,
        "approvals": approved.approvals,
        "threshold": approved.threshold,
        "tx": tx,
    }))
    .line(line))
}

pub async fn threshold(ctx: &Ctx, threshold: u8) -> Result<Report> {
    let d = ctx.deployment().await?;
    let call = IPatientRegistry::setVerificationThresholdCall { threshold };
    let receipt = ctx.transact(d.patient_registry, call).await?;
    let tx = receipt.transaction_hash;
    Ok(
        Report::new(json!({"threshold": threshold, "tx": tx})).line(format!(
            "a doctor now needs the approval of {threshold} distinct verifier(s) (tx {tx})"
        )),
    )
}

pub fn status_name(status: u8) -> &'static str {
    match status {
        0 => "not registered",
        1 => "pending verification",
        2 => "verified",
        3 => "suspended",
        _ => "unknown",
    }
}

pub async fn doctor_status(ctx: &Ctx, doctor: &str) -> Result<Report> {
    let doctor = parse_address("doctor", doctor)?;
    let d = ctx.deployment().await?;
    let status = ctx
        .registry(&d)
        .doctorStatus(doctor)
        .call()
        .await
        .map_err(|e| call_error(&ctx.url, e))?;
    Ok(
        Report::new(json!({"doctor": doctor, "status": status_name(status)}))
            .line(format!("{doctor}: {}", status_name(status))),
    )
}

pub async fn verifier(ctx: &Ctx, verifier: &str, add: bool) -> Result<Report> {
    let verifier: Address = parse_address("verifier", verifier)?;
    let data: Bytes = if add {
        IPatientRegistry::addVerifierCall { verifier }
            .abi_encode()
            .into()
    } else {
        IPatientRegistry::removeVerifierCall { verifier }
            .abi_encode()
            .into()
    };
    let tx = registry_tx(ctx, data).await?;
    let what = if add { "added" } else { "removed" };
    Ok(
        Report::new(json!({"verifier": verifier, "action": what, "tx": tx}))
            .line(format!("{what} verifier {verifier} (tx {tx})")),
    )
}

pub async fn pause(ctx: &Ctx, on: bool) -> Result<Report> {
    let data: Bytes = if on {
        IPatientRegistry::pauseCall {}.abi_encode().into()
    } else {
        IPatientRegistry::unpauseCall {}.abi_encode().into()
    };
    let tx = registry_tx(ctx, data).await?;
    let line = if on {
        format!("paused: no new registrations, grants or emergency windows (tx {tx})")
    } else {
        format!("unpaused (tx {tx})")
    };
    Ok(Report::new(json!({"paused": on, "tx": tx})).line(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same vector is pinned in web/tests/unit/licence.test.ts.
    #[test]
    fn licence_commitment_test_vector() {
        let salt: B256 = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
            .parse()
            .unwrap();
        let c = licence_commitment(&salt, "GMC-7654321");
        assert_eq!(c, licence_commitment(&salt, "  gmc-7654321\n"));
        assert_ne!(c, keccak256("GMC-7654321"));
        assert_ne!(c, licence_commitment(&B256::ZERO, "GMC-7654321"));
        assert_eq!(
            c.to_string(),
            "0xa10365e352ff73dc7d9bd510a672496f424e8716a8b1b667e7c6234f8eecb2ff"
        );
    }

    #[test]
    fn salts_parse_with_or_without_0x() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_salt(&hex).unwrap(), B256::repeat_byte(0xab));
        assert_eq!(
            parse_salt(&format!("0x{hex}")).unwrap(),
            B256::repeat_byte(0xab)
        );
        assert!(parse_salt("0x1234").is_err());
        assert!(parse_salt(&"zz".repeat(32)).is_err());
    }
}
