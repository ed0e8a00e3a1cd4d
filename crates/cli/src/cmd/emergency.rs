//! `careledger emergency open|close|lift|custodians|status|limit`: break-glass as
//! the chain enforces it. Keys never reach an opener from the patient's client
//! unasked; they come from the patient's custodians (`careledger custodian watch`).

use super::grants::{open_windows, share_with, Audience};
use super::sharing::custodians;
use crate::abi::{IAccessToken, IPatientRegistry};
use crate::chain::{event, time};
use crate::cli::Reason;
use crate::context::Ctx;
use crate::error::Result;
use crate::output::Report;
use alloy::primitives::Address;
use serde_json::json;

impl Reason {
    /// The code the contract takes (`careledger_common::emergency_reason`).
    pub fn code(self) -> u8 {
        match self {
            Reason::Unconscious => 1,
            Reason::LifeThreatening => 2,
            Reason::CannotCommunicate => 3,
            Reason::OtherUrgent => 4,
        }
    }
}

/// The reason a code stands for, in words.
pub fn reason_words(code: u8) -> String {
    match code {
        1 => "the patient is unconscious or unable to consent".into(),
        2 => "a life-threatening condition".into(),
        3 => "the patient cannot communicate".into(),
        4 => "another urgent treatment".into(),
        other => format!("reason code {other}"),
    }
}

/// `emergency open`: a verified doctor opens a window on `patient`, logged with the reason.
pub async fn open(ctx: &Ctx, patient: Address, reason: Reason) -> Result<Report> {
    let d = ctx.deployment().await?;
    let call = IAccessToken::openEmergencyAccessCall {
        patient,
        reason: reason.code(),
    };
    let receipt = ctx.transact(d.access_token, call).await?;
    let until = event::<IAccessToken::EmergencyAccess>(&receipt)?.expiresAt;
    Ok(Report::new(json!({
        "patient": patient,
        "expiresAt": until,
        "reason": reason.code(),
        "tx": receipt.transaction_hash,
    }))
    .line(format!(
        "emergency access to {patient} open until {} for: {} (logged on chain, tx {})",
        time(until),
        reason_words(reason.code()),
        receipt.transaction_hash
    ))
    .line("the patient's custodians release the keys while the window is open; then `careledger record get ID`"))
}

/// `emergency close`: the patient closes `doctor`'s window, which bars it for a while.
pub async fn close(ctx: &Ctx, doctor: Address) -> Result<Report> {
    let d = ctx.deployment().await?;
    let call = IAccessToken::closeEmergencyAccessCall { doctor };
    let receipt = ctx.transact(d.access_token, call).await?;
    let until = event::<IAccessToken::EmergencyAccessClosed>(&receipt)?.barredUntil;
    Ok(Report::new(
        json!({"doctor": doctor, "barredUntil": until, "tx": receipt.transaction_hash}),
    )
    .line(format!(
        "emergency access of {doctor} closed; it may not re-open on you before {} (tx {})",
        time(until),
        receipt.transaction_hash
    ))
    .line(format!(
        "keys it already received stay readable by it: `careledger record rekey ID` protects later versions; `careledger emergency lift {doctor}` ends the bar early"
    )))
}

/// `emergency lift`: the patient ends its bar on `doctor` early.
pub async fn lift(ctx: &Ctx, doctor: Address) -> Result<Report> {
    let d = ctx.deployment().await?;
    let call = IAccessToken::liftEmergencyBarCall { doctor };
    let receipt = ctx.transact(d.access_token, call).await?;
    Ok(
        Report::new(json!({"doctor": doctor, "tx": receipt.transaction_hash})).line(format!(
            "lifted your bar on {doctor}: it may open emergency access on you again (tx {})",
            receipt.transaction_hash
        )),
    )
}

/// Replaces the caller's custodians, then wraps its records' keys for them.
pub async fn set_custodians(ctx: &Ctx, list: &[Address]) -> Result<Report> {
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    let call = IPatientRegistry::setEmergencyCustodiansCall {
        custodians: list.to_vec(),
    };
    let receipt = ctx.transact(d.patient_registry, call).await?;
    let audience = Audience {
        custodians: true,
        ..Audience::default()
    };
    let shared = share_with(ctx, &d, me, &audience).await?;
    let mut report = Report::new(json!({
        "custodians": list,
        "sharedRecords": shared.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        "tx": receipt.transaction_hash,
    }));
    report = if list.is_empty() {
        report.line(format!(
            "no emergency custodians: break-glass is off for you (tx {})",
            receipt.transaction_hash
        ))
    } else {
        report
            .line(format!(
                "emergency custodians: {} (tx {})",
                list.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                receipt.transaction_hash
            ))
            .line(format!(
                "keys of {} record(s) wrapped for them; they can release your keys to a verified doctor only during an emergency window",
                shared.len()
            ))
    };
    Ok(report)
}

/// `emergency custodians show`: `patient`'s custodians (default: the signing account).
pub async fn show_custodians(ctx: &Ctx, patient: Option<Address>) -> Result<Report> {
    let patient = match patient {
        Some(p) => p,
        None => ctx.me()?,
    };
    let d = ctx.deployment().await?;
    let list = custodians(ctx, &d, patient).await?;
    let mut report = Report::new(json!({"patient": patient, "custodians": list}));
    if list.is_empty() {
        report = report.line(format!(
            "{patient} named no emergency custodian: break-glass is off"
        ));
    }
    for c in &list {
        report = report.line(c.to_string());
    }
    Ok(report)
}

/// A patient's policy: custodians, open windows, bars, the daily limit.
pub async fn status(ctx: &Ctx, patient: Option<Address>) -> Result<Report> {
    let patient = match patient {
        Some(p) => p,
        None => ctx.me()?,
    };
    let d = ctx.deployment().await?;
    let token = ctx.token(&d);
    let list = custodians(ctx, &d, patient).await?;
    let limit = ctx.view(token.emergencyDailyLimit()).await?;
    let open = open_windows(ctx, &d, patient).await?;
    let mut windows = Vec::new();
    for doctor in &open {
        let until = ctx.view(token.emergencyExpiry(patient, *doctor)).await?;
        windows.push((*doctor, until));
    }
    let now = ctx.chain_time().await?;
    let mut bars = Vec::new();
    for e in super::sharing::token_events(ctx, &d).await? {
        if e.kind == "EmergencyAccessClosed" && e.patient == Some(patient) {
            let Some(doctor) = e.actor else { continue };
            let until = ctx
                .view(token.emergencyBarredUntil(patient, doctor))
                .await?;
            if until > now && !bars.iter().any(|(b, _)| *b == doctor) {
                bars.push((doctor, until));
            }
        }
    }
    let mut report = Report::new(json!({
        "patient": patient,
        "custodians": list,
        "dailyLimit": limit,
        "openWindows": windows.iter().map(|(d, u)| json!({"doctor": d, "expiresAt": u})).collect::<Vec<_>>(),
        "bars": bars.iter().map(|(d, u)| json!({"doctor": d, "barredUntil": u})).collect::<Vec<_>>(),
    }));
    report = report.line(if list.is_empty() {
        "custodians: none (break-glass is off)".to_string()
    } else {
        format!(
            "custodians: {}",
            list.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    report = report.line(format!(
        "a doctor may open at most {limit} window(s) per rolling day"
    ));
    for (doctor, until) in &windows {
        report = report.line(format!("OPEN: {doctor} until {}", time(*until)));
    }
    for (doctor, until) in &bars {
        report = report.line(format!("barred: {doctor} until {}", time(*until)));
    }
    Ok(report)
}

/// `emergency limit`: the owner sets how many windows a doctor may open per rolling day.
pub async fn set_limit(ctx: &Ctx, limit: u8) -> Result<Report> {
    let d = ctx.deployment().await?;
    let call = IAccessToken::setEmergencyDailyLimitCall { limit };
    let receipt = ctx.transact(d.access_token, call).await?;
    Ok(
        Report::new(json!({"limit": limit, "tx": receipt.transaction_hash})).line(format!(
            "a doctor may now open at most {limit} emergency window(s) per rolling day (tx {})",
            receipt.transaction_hash
        )),
    )
}
