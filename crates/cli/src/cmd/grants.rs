//! `careledger grant|revoke|grants list|grants sync|emergency open|close`.

use super::sharing::{
    candidate_doctors, encryption_key, published_key, token_events, wrap_for, Reader,
};
use crate::abi::{IAccessToken, IRecordRegistry};
use crate::chain::{call_error, event, parse_address, parse_expiry, time, Scope};
use crate::context::Ctx;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::output::{steps, Report};
use alloy::primitives::{Address, U256};
use careledger_vault::{wrap, RecordContext};
use serde_json::json;

pub async fn grant(ctx: &Ctx, doctor: &str, scope: &str, expires: &str) -> Result<Report> {
    let doctor = parse_address("doctor", doctor)?;
    let scope = Scope::parse(scope)?;
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    let expires_at = parse_expiry(expires, ctx.chain_time().await?)?;
    let (category, record_ids) = match &scope {
        Scope::All => (Default::default(), vec![]),
        Scope::Records(ids) => (Default::default(), ids.clone()),
        Scope::Category(c) => (*c, vec![]),
    };
    let call = IAccessToken::grantCall {
        doctor,
        expires_at,
        scope_kind: scope.kind(),
        category,
        record_ids,
    };
    let receipt = ctx.transact(d.access_token, call).await?;
    let token = event::<IAccessToken::AccessGranted>(&receipt)?.tokenId;
    let shared = share_with(ctx, &d, me, &[doctor]).await?;
    Ok(Report::new(json!({
        "tokenId": token.to_string(),
        "doctor": doctor,
        "expiresAt": expires_at,
        "scopeKind": scope.kind(),
        "sharedRecords": shared.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        "tx": receipt.transaction_hash,
    }))
    .line(format!(
        "granted {doctor} access until {} (token {token}, tx {})",
        time(expires_at),
        receipt.transaction_hash
    ))
    .line(format!(
        "keys of {} existing record(s) in scope shared with them",
        shared.len()
    )))
}

pub async fn revoke(ctx: &Ctx, token: &str) -> Result<Report> {
    let token: U256 = token
        .trim()
        .parse()
        .map_err(|_| Error::Usage(format!("{token:?} is not a token id")))?;
    let d = ctx.deployment().await?;
    let call = IAccessToken::revokeCall { token_id: token };
    let receipt = ctx.transact(d.access_token, call).await?;
    Ok(Report::new(json!({"tokenId": token.to_string(), "tx": receipt.transaction_hash}))
        .line(format!("revoked token {token} (tx {})", receipt.transaction_hash))
        .line("new records are not shared with that doctor; `careledger record rekey ID` re-encrypts old ones"))
}

/// Wraps the latest version of each of `patient`'s records for every doctor in
/// `doctors` who may read it now and has no key for it yet. Returns the records
/// that gained a key.
pub async fn share_with(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    doctors: &[Address],
) -> Result<Vec<U256>> {
    let records = ctx.records(d);
    let ids = records
        .recordsOf(patient)
        .call()
        .await
        .map_err(|e| call_error(&ctx.url, e))?;
    let progress = steps(
        ctx.progress && ids.len() > 3,
        ids.len() as u64,
        "share keys",
    );
    let mut shared = Vec::new();
    let me = ctx.reader_key()?;
    for id in ids {
        progress.inc(1);
        let version = records
            .versionCount(id)
            .call()
            .await
            .map_err(|e| call_error(&ctx.url, e))?;
        let category = records
            .recordCategory(id)
            .call()
            .await
            .map_err(|e| call_error(&ctx.url, e))?;
        let mut missing = Vec::new();
        for &doctor in doctors {
            let allowed = ctx
                .token(d)
                .checkAccess(patient, doctor, id, category)
                .call()
                .await
                .map_err(|e| call_error(&ctx.url, e))?;
            if allowed
                && published_key(ctx, d, patient, id, version, doctor)
                    .await?
                    .is_none()
            {
                missing.push(Reader {
                    address: doctor,
                    public_key: encryption_key(ctx, d, doctor).await?,
                });
            }
        }
        if missing.is_empty() {
            continue;
        }
        let rctx = RecordContext {
            chain_id: d.chain_id,
            registry: d.record_registry,
            patient,
            record_id: id,
        };
        let own = published_key(ctx, d, patient, id, version, patient)
            .await?
            .ok_or(Error::NoWrappedKey {
                record: id.saturating_to(),
                version,
                reader: patient,
            })?;
        let key = wrap::unwrap(&own, &me, &rctx)?;
        let (readers, wrapped_keys) = wrap_for(&key, &rctx, &missing)?;
        let call = IRecordRegistry::wrapKeysCall {
            record_id: id,
            version,
            readers,
            wrapped_keys,
        };
        ctx.transact(d.record_registry, call).await?;
        shared.push(id);
    }
    progress.finish_and_clear();
    Ok(shared)
}

pub async fn sync(ctx: &Ctx) -> Result<Report> {
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    let doctors = candidate_doctors(ctx, &d, me).await?;
    let shared = share_with(ctx, &d, me, &doctors).await?;
    Ok(Report::new(json!({
        "sharedRecords": shared.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
    }))
    .line(format!(
        "{} record(s) gained keys for doctors who may read them now",
        shared.len()
    )))
}

/// One grant as the chain tells it, for `grants list`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRow {
    pub token_id: U256,
    pub patient: Address,
    pub doctor: Address,
    pub issued_at: u64,
    pub expires_at: u64,
    pub scope_kind: u8,
    pub category: alloy::primitives::B256,
    pub record_ids: Vec<U256>,
    pub status: &'static str,
}

pub async fn grant_rows(
    ctx: &Ctx,
    d: &Deployment,
    who: Address,
    received: bool,
) -> Result<Vec<GrantRow>> {
    let now = ctx.chain_time().await?;
    let mut granted = Vec::new();
    let mut revoked = Vec::new();
    for e in token_events(ctx, d).await? {
        let mine = if received {
            e.actor == Some(who)
        } else {
            e.patient == Some(who)
        };
        if !mine {
            continue;
        }
        match e.kind {
            "AccessGranted" => granted.push(e),
            "AccessRevoked" => revoked.extend(e.token_id),
            _ => {}
        }
    }
    let mut rows = Vec::new();
    for e in granted {
        let token = e.token_id.unwrap_or_default();
        let (patient, doctor) = (e.patient.unwrap_or_default(), e.actor.unwrap_or_default());
        let row = if revoked.contains(&token) {
            GrantRow {
                token_id: token,
                patient,
                doctor,
                issued_at: 0,
                expires_at: e.expires_at.unwrap_or_default(),
                scope_kind: 0,
                category: Default::default(),
                record_ids: vec![],
                status: "revoked",
            }
        } else {
            let info = ctx
                .token(d)
                .grantInfo(token)
                .call()
                .await
                .map_err(|e| call_error(&ctx.url, e))?;
            let record_ids = ctx
                .token(d)
                .grantRecords(token)
                .call()
                .await
                .map_err(|e| call_error(&ctx.url, e))?;
            GrantRow {
                token_id: token,
                patient,
                doctor,
                issued_at: info._2,
                expires_at: info._3,
                scope_kind: info._4,
                category: info._5,
                record_ids,
                status: if info._3 <= now { "expired" } else { "active" },
            }
        };
        rows.push(row);
    }
    Ok(rows)
}

pub async fn list(ctx: &Ctx, received: bool, fhir: bool) -> Result<Report> {
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    let rows = grant_rows(ctx, &d, me, received).await?;
    if fhir {
        let views: Vec<_> = rows
            .iter()
            .map(|r| careledger_vault::fhir::GrantView {
                token_id: r.token_id,
                patient: r.patient,
                doctor: r.doctor,
                scope_kind: r.scope_kind,
                category: r.category,
                record_ids: r.record_ids.clone(),
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                revoked: r.status == "revoked",
            })
            .collect();
        let now = ctx.chain_time().await?;
        let bundle =
            careledger_vault::fhir::consent_at(me, &views, d.chain_id, d.access_token, now);
        let text = serde_json::to_string_pretty(&bundle).expect("values serialise");
        return Ok(Report::new(bundle).line(text));
    }
    let mut report = Report::new(json!({"grants": rows}));
    for r in &rows {
        let scope = match r.scope_kind {
            0 => "all records".to_string(),
            1 => format!(
                "records {}",
                r.record_ids
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            _ => format!("category {}", r.category),
        };
        let other = if received { r.patient } else { r.doctor };
        report.human.push(format!(
            "token {:>3}  {}  {other}  {scope}  until {}",
            r.token_id,
            r.status,
            time(r.expires_at)
        ));
    }
    if rows.is_empty() {
        report.human.push("no grants".into());
    }
    Ok(report)
}

pub async fn emergency_open(ctx: &Ctx, patient: &str) -> Result<Report> {
    let patient = parse_address("patient", patient)?;
    let d = ctx.deployment().await?;
    let call = IAccessToken::openEmergencyAccessCall { patient };
    let receipt = ctx.transact(d.access_token, call).await?;
    let until = event::<IAccessToken::EmergencyAccess>(&receipt)?.expiresAt;
    Ok(Report::new(json!({"patient": patient, "expiresAt": until, "tx": receipt.transaction_hash}))
        .line(format!(
            "emergency access to {patient} open until {} (logged on chain, tx {})",
            time(until),
            receipt.transaction_hash
        ))
        .line("records whose keys were not shared with you need the patient's client: `careledger grants sync`"))
}

pub async fn emergency_close(ctx: &Ctx, doctor: &str) -> Result<Report> {
    let doctor = parse_address("doctor", doctor)?;
    let d = ctx.deployment().await?;
    let call = IAccessToken::closeEmergencyAccessCall { doctor };
    let receipt = ctx.transact(d.access_token, call).await?;
    Ok(
        Report::new(json!({"doctor": doctor, "tx": receipt.transaction_hash})).line(format!(
            "emergency access of {doctor} closed (tx {})",
            receipt.transaction_hash
        )),
    )
}
