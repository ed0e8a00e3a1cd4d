//! Registration and verification: `patient`, `doctor` and `verifier` verbs.

use crate::abi::IPatientRegistry;
use crate::chain::{call_error, event, parse_address, send};
use crate::context::Ctx;
use crate::error::Result;
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

pub async fn register_doctor(ctx: &Ctx, licence: &str) -> Result<Report> {
    let me = ctx.me()?;
    let key = B256::from(ctx.reader_key()?.public_key());
    let licence_hash = keccak256(licence.trim().as_bytes());
    let call = IPatientRegistry::registerDoctorCall {
        encryption_key: key,
        licence_hash,
    };
    let tx = registry_tx(ctx, call.abi_encode().into()).await?;
    Ok(Report::new(
        json!({"doctor": me, "encryptionKey": key, "licenceHash": licence_hash, "tx": tx}),
    )
    .line(format!(
        "registered doctor {me}, pending verification (tx {tx})"
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
