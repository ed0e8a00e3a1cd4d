//! Registration and verification: `patient`, `doctor` and `verifier` verbs.

use crate::abi::IPatientRegistry;
use crate::chain::event;
use crate::cli::Licence;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Report;
use alloy::primitives::{keccak256, Address, B256};
use alloy::sol_types::SolCall;
use serde_json::json;

/// Sends `call` to the PatientRegistry; the transaction's hash.
async fn registry_tx(ctx: &Ctx, call: impl SolCall) -> Result<B256> {
    let d = ctx.deployment().await?;
    Ok(ctx
        .transact(d.patient_registry, call)
        .await?
        .transaction_hash)
}

/// `patient register`: the signing account as a patient, with its X25519 record key
/// published for those who wrap keys for it.
pub async fn register_patient(ctx: &Ctx) -> Result<Report> {
    let me = ctx.me()?;
    let key = B256::from(ctx.reader_key()?.public_key());
    let call = IPatientRegistry::registerPatientCall {
        encryption_key: key,
    };
    let tx = registry_tx(ctx, call).await?;
    Ok(
        Report::new(json!({"patient": me, "encryptionKey": key, "tx": tx}))
            .line(format!("registered patient {me} (tx {tx})")),
    )
}

/// The domain tag of a licence commitment (version 1).
pub const LICENCE_TAG: &str = "careledger/licence/v1";

/// The salted licence commitment that goes on chain as `licenceHash`:
/// `keccak256(abi.encodePacked("careledger/licence/v1", salt, normalised licence))`.
/// Without the salt, which the doctor hands to the verifiers off chain, the
/// commitment cannot be matched against an enumeration of licence numbers.
pub fn licence_commitment(salt: &B256, licence: &str) -> B256 {
    // The licence as `Licence` normalises it: "gmc-1 " and "GMC-1" commit alike.
    let licence = licence.trim().to_ascii_uppercase();
    let mut packed = Vec::with_capacity(LICENCE_TAG.len() + 32 + licence.len());
    packed.extend_from_slice(LICENCE_TAG.as_bytes());
    packed.extend_from_slice(salt.as_slice());
    packed.extend_from_slice(licence.as_bytes());
    keccak256(packed)
}

/// Registers the signing account as a doctor with a fresh licence salt.
pub async fn register_doctor(ctx: &Ctx, licence: &Licence) -> Result<Report> {
    register_doctor_with_salt(ctx, licence, None).await
}

/// Registers the signing account as a doctor. Only the salted commitment of the
/// licence goes on chain; the salt (fresh unless `salt` is given) is printed for the
/// doctor to hand, with the licence number, to the verifiers off chain.
pub async fn register_doctor_with_salt(
    ctx: &Ctx,
    licence: &Licence,
    salt: Option<B256>,
) -> Result<Report> {
    let salt = match salt {
        Some(salt) => salt,
        None => {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            B256::from(bytes)
        }
    };
    let me = ctx.me()?;
    let key = B256::from(ctx.reader_key()?.public_key());
    let licence_hash = licence_commitment(&salt, licence.as_str());
    let call = IPatientRegistry::registerDoctorCall {
        encryption_key: key,
        licence_hash,
    };
    let tx = registry_tx(ctx, call).await?;
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
pub async fn check_licence(
    ctx: &Ctx,
    doctor: Address,
    licence: &Licence,
    salt: &B256,
) -> Result<Report> {
    let d = ctx.deployment().await?;
    let on_chain = ctx.view(ctx.registry(&d).licenceHash(doctor)).await?;
    if on_chain.is_zero() {
        return Err(Error::Refused(format!(
            "{doctor} is not registered as a doctor: it has no licence commitment on chain"
        )));
    }
    if licence_commitment(salt, licence.as_str()) != on_chain {
        return Err(Error::Refused(format!(
            "licence does not match: licence {:?} with this salt is not the commitment {doctor} registered on chain; do not verify this doctor",
            licence.as_str()
        )));
    }
    Ok(Report::new(json!({
        "doctor": doctor,
        "licenceHash": on_chain,
        "matches": true,
    }))
    .line(format!(
        "licence matches: {doctor} registered the commitment of licence {licence} with this salt"
    )))
}

/// `doctor verify`, or with `suspend` `doctor suspend`: one verifier's approval or
/// suspension of `doctor`.
pub async fn verify_doctor(ctx: &Ctx, doctor: Address, suspend: bool) -> Result<Report> {
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
    let status = status_name(ctx.view(ctx.registry(&d).doctorStatus(doctor)).await?);
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

/// `verifier threshold`: the owner sets how many distinct verifiers must approve a doctor.
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

/// A doctor status code from the registry, in words.
pub fn status_name(status: u8) -> &'static str {
    match status {
        0 => "not registered",
        1 => "pending verification",
        2 => "verified",
        3 => "suspended",
        _ => "unknown",
    }
}

/// `doctor status`: whether `doctor` is registered, verified or suspended.
pub async fn doctor_status(ctx: &Ctx, doctor: Address) -> Result<Report> {
    let d = ctx.deployment().await?;
    let status = ctx.view(ctx.registry(&d).doctorStatus(doctor)).await?;
    Ok(
        Report::new(json!({"doctor": doctor, "status": status_name(status)}))
            .line(format!("{doctor}: {}", status_name(status))),
    )
}

/// `verifier add`, or without `add` `verifier remove`: the owner accredits or
/// withdraws `verifier`.
pub async fn verifier(ctx: &Ctx, verifier: Address, add: bool) -> Result<Report> {
    let tx = if add {
        registry_tx(ctx, IPatientRegistry::addVerifierCall { verifier }).await?
    } else {
        registry_tx(ctx, IPatientRegistry::removeVerifierCall { verifier }).await?
    };
    let what = if add { "added" } else { "removed" };
    Ok(
        Report::new(json!({"verifier": verifier, "action": what, "tx": tx}))
            .line(format!("{what} verifier {verifier} (tx {tx})")),
    )
}

/// `pause`, or without `on` `unpause`: the owner stops or resumes new registrations,
/// grants and emergency windows.
pub async fn pause(ctx: &Ctx, on: bool) -> Result<Report> {
    let tx = if on {
        registry_tx(ctx, IPatientRegistry::pauseCall {}).await?
    } else {
        registry_tx(ctx, IPatientRegistry::unpauseCall {}).await?
    };
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
}
