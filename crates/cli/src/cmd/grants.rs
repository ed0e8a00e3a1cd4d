//! `careledger grant|revoke|grants list|grants sync`.

use super::sharing::{
    custodians, emergency_open, grant_covers, grantees, published_key, reader, rewrap_for,
    token_events,
};
use crate::abi::IAccessToken;
use crate::chain::{event, time};
use crate::cli::{Expiry, Scope};
use crate::context::Ctx;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::output::{steps, Report, LAST_RFC3339};
use alloy::primitives::{Address, B256, U256};
use serde_json::json;

/// `grant`: grants `doctor` access within `scope` until `expires`, then shares the
/// keys of the records in scope with it.
pub async fn grant(ctx: &Ctx, doctor: Address, scope: &Scope, expires: Expiry) -> Result<Report> {
    let me = ctx.me()?;
    let (category, record_ids) = match scope {
        Scope::All => (B256::ZERO, vec![]),
        Scope::Records(ids) => (B256::ZERO, ids.clone()),
        // A `category:NAME` scope is the granting patient's own code of the name.
        Scope::Category(c) => (c.code(&ctx.reader_key()?), vec![]),
    };
    let d = ctx.deployment().await?;
    // Only the chain's clock says whether the expiry is in the future and near enough.
    let expires_at = expires
        .at(ctx.chain_time().await?)
        .map_err(|why| Error::Usage(format!("--expires {expires}: {why}")))?;
    let call = IAccessToken::grantCall {
        doctor,
        expires_at,
        scope_kind: scope.kind(),
        category,
        record_ids,
    };
    let receipt = ctx.transact(d.access_token, call).await?;
    let token = event::<IAccessToken::AccessGranted>(&receipt)?.tokenId;
    let shared = share_with(ctx, &d, me, &Audience::doctors(&[doctor])).await?;
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

/// `revoke`: ends grant `token`; keys already shared stay readable by their holder.
pub async fn revoke(ctx: &Ctx, token: U256) -> Result<Report> {
    let d = ctx.deployment().await?;
    let call = IAccessToken::revokeCall { token_id: token };
    let receipt = ctx.transact(d.access_token, call).await?;
    Ok(Report::new(json!({"tokenId": token.to_string(), "tx": receipt.transaction_hash}))
        .line(format!("revoked token {token} (tx {})", receipt.transaction_hash))
        .line("new records are not shared with that doctor; `careledger record rekey ID` re-encrypts old ones"))
}

/// Whom a sharing pass may wrap keys for, each checked on chain record by record.
#[derive(Default)]
pub struct Audience {
    /// Doctors that get a key where one of the patient's grants covers the record.
    pub grantees: Vec<Address>,
    /// Doctors with an emergency window whom the patient named to share with
    /// (the confirmation): they get a key while their window is open.
    pub confirmed_openers: Vec<Address>,
    /// Whether the patient's custodians get keys they lack.
    pub custodians: bool,
}

impl Audience {
    /// These doctors, as grantees only: what a new grant shares with.
    pub fn doctors(doctors: &[Address]) -> Self {
        Self {
            grantees: doctors.to_vec(),
            ..Self::default()
        }
    }
}

/// Wraps the latest version of each of `patient`'s records for everyone in
/// `audience` who may have it now and has no key for it yet. Returns the records
/// that gained a key.
pub async fn share_with(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    audience: &Audience,
) -> Result<Vec<U256>> {
    let records = ctx.records(d);
    let ids = ctx.view(records.recordsOf(patient)).await?;
    let progress = steps(
        ctx.progress && ids.len() > 3,
        ids.len() as u64,
        "share keys",
    );
    let custodians = if audience.custodians {
        custodians(ctx, d, patient).await?
    } else {
        Vec::new()
    };
    let mut openers = Vec::new();
    for &doctor in &audience.confirmed_openers {
        if emergency_open(ctx, d, patient, doctor).await? {
            openers.push(doctor);
        }
    }
    let now = ctx.chain_time().await?;
    let mut shared = Vec::new();
    for id in ids {
        progress.inc(1);
        let version = ctx.view(records.versionCount(id)).await?;
        let category = ctx.view(records.recordCategory(id)).await?;
        let mut candidates: Vec<Address> = custodians.iter().chain(&openers).copied().collect();
        for &doctor in &audience.grantees {
            if !candidates.contains(&doctor)
                && grant_covers(ctx, d, patient, doctor, id, category, now).await?
            {
                candidates.push(doctor);
            }
        }
        let mut missing = Vec::new();
        for account in candidates {
            if account != patient
                && published_key(ctx, d, patient, id, version, account)
                    .await?
                    .is_none()
            {
                missing.push(reader(ctx, d, account).await?);
            }
        }
        if missing.is_empty() {
            continue;
        }
        let own = published_key(ctx, d, patient, id, version, patient)
            .await?
            .ok_or(Error::NoWrappedKey {
                record: id.saturating_to(),
                version,
                reader: patient,
            })?;
        rewrap_for(ctx, d, patient, id, version, &own, &missing).await?;
        shared.push(id);
    }
    progress.finish_and_clear();
    Ok(shared)
}

/// Doctors holding an open emergency window on `patient` now.
pub async fn open_windows(ctx: &Ctx, d: &Deployment, patient: Address) -> Result<Vec<Address>> {
    let mut openers = Vec::new();
    for e in token_events(ctx, d).await? {
        if e.kind == "EmergencyAccess" && e.patient == Some(patient) {
            if let Some(doctor) = e.actor {
                if !openers.contains(&doctor) && emergency_open(ctx, d, patient, doctor).await? {
                    openers.push(doctor);
                }
            }
        }
    }
    Ok(openers)
}

/// `grants sync`: shares what the patient's custodians and grantees lack, and with the
/// emergency openers the patient names in `confirm_emergency` (each must hold an
/// open window).
pub async fn sync(ctx: &Ctx, confirm_emergency: &[Address]) -> Result<Report> {
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    let confirmed = confirm_emergency.to_vec();
    let open = open_windows(ctx, &d, me).await?;
    if let Some(doctor) = confirmed.iter().find(|c| !open.contains(c)) {
        return Err(Error::Refused(format!(
            "{doctor} holds no open emergency window on you: nothing to confirm"
        )));
    }
    let audience = Audience {
        grantees: grantees(ctx, &d, me).await?,
        confirmed_openers: confirmed.clone(),
        custodians: true,
    };
    let shared = share_with(ctx, &d, me, &audience).await?;
    let mut report = Report::new(json!({
        "sharedRecords": shared.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        "confirmedEmergency": confirmed,
        "openEmergencyNotShared": open.iter().filter(|o| !confirmed.contains(o)).collect::<Vec<_>>(),
    }))
    .line(format!(
        "{} record(s) gained keys for your custodians, the doctors your grants cover{}",
        shared.len(),
        if confirmed.is_empty() { "" } else { " and the emergency openers you named" }
    ));
    for doctor in open.iter().filter(|o| !confirmed.contains(o)) {
        report = report.line(format!(
            "{doctor} holds an open emergency window on you: nothing was shared with it (your custodians release keys; to share yourself: --confirm-emergency {doctor}, or close it: careledger emergency close {doctor})"
        ));
    }
    Ok(report)
}

/// One grant as the chain tells it, for `grants list`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRow {
    /// The grant's token.
    pub token_id: U256,
    /// Who granted.
    pub patient: Address,
    /// Who holds it.
    pub doctor: Address,
    /// When it was granted (unix seconds); 0 for an ended token, whose terms the
    /// chain no longer holds (so too its scope, category and records).
    pub issued_at: u64,
    /// When it ends (unix seconds; exclusive).
    pub expires_at: u64,
    /// As [`crate::cli::Scope::kind`]: 0 all, 1 listed records, 2 a category.
    pub scope_kind: u8,
    /// The category code of a category scope; zero otherwise.
    pub category: B256,
    /// The records of a records scope; empty otherwise.
    pub record_ids: Vec<U256>,
    /// `active`, `expired`, `revoked` or `burnt`.
    pub status: &'static str,
}

/// The grants `who` gave, or with `received` the grants it holds, each with its status
/// now by the chain's clock.
pub async fn grant_rows(
    ctx: &Ctx,
    d: &Deployment,
    who: Address,
    received: bool,
) -> Result<Vec<GrantRow>> {
    let now = ctx.chain_time().await?;
    let mut granted = Vec::new();
    // Each ended token's transaction, and the transactions that granted each
    // pair: AccessToken burns a pair's expired grants to make room for a new
    // one, with AccessRevoked in the new grant's transaction. Such a token is
    // listed as expired, as the notifier and the web app tell it apart.
    let mut revoked: std::collections::HashMap<U256, B256> = Default::default();
    let mut grant_txs = std::collections::HashSet::new();
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
            "AccessGranted" => {
                grant_txs.insert((e.tx, e.patient, e.actor));
                granted.push(e)
            }
            "AccessRevoked" => revoked.extend(e.token_id.map(|t| (t, e.tx))),
            _ => {}
        }
    }
    let mut rows = Vec::new();
    for e in granted {
        let token = e.token_id.unwrap_or_default();
        let (patient, doctor) = (e.patient.unwrap_or_default(), e.actor.unwrap_or_default());
        let ended = revoked.get(&token).map(|tx| {
            let cleared = grant_txs.contains(&(*tx, e.patient, e.actor));
            if cleared && e.expires_at.unwrap_or_default() <= now {
                "expired"
            } else {
                "revoked"
            }
        });
        let row = if let Some(status) = ended {
            GrantRow {
                token_id: token,
                patient,
                doctor,
                issued_at: 0,
                expires_at: e.expires_at.unwrap_or_default(),
                scope_kind: 0,
                category: Default::default(),
                record_ids: vec![],
                status,
            }
        } else {
            let info = match ctx.token(d).grantInfo(token).call().await {
                Ok(info) => info,
                // Burnt without a revocation this history shows (pruned by a later
                // grant on a deployment that logged no event for it): gone, not an error.
                Err(err) if burnt(&err) => {
                    rows.push(GrantRow {
                        token_id: token,
                        patient,
                        doctor,
                        issued_at: 0,
                        expires_at: e.expires_at.unwrap_or_default(),
                        scope_kind: 0,
                        category: Default::default(),
                        record_ids: vec![],
                        status: "burnt",
                    });
                    continue;
                }
                Err(err) => return Err(ctx.call_error(err)),
            };
            let record_ids = ctx.view(ctx.token(d).grantRecords(token)).await?;
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

/// Whether a call reverted because the token no longer exists.
fn burnt(err: &alloy::contract::Error) -> bool {
    err.as_decoded_interface_error::<IAccessToken::IAccessTokenErrors>()
        .is_some_and(|e| {
            matches!(
                e,
                IAccessToken::IAccessTokenErrors::ERC721NonexistentToken(_)
            )
        })
}

/// `grants list`: [`grant_rows`] of the signing account, as lines or as a FHIR R4
/// Bundle of Consent resources.
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
                // FHIR instants have four-digit years; a later end reads as the
                // last second they can say (the JSON report keeps the number).
                issued_at: r.issued_at.min(LAST_RFC3339),
                expires_at: r.expires_at.min(LAST_RFC3339),
                revoked: r.status == "revoked",
            })
            .collect();
        let now = ctx.chain_time().await?.min(LAST_RFC3339);
        let bundle =
            careledger_vault::fhir::consent_at(me, &views, d.chain_id, d.access_token, now);
        let text = serde_json::to_string_pretty(&bundle).expect("values serialise");
        return Ok(Report::new(bundle).line(text));
    }
    let mut report = Report::new(json!({"grants": rows}));
    // Only the patient's own key maps its category codes back to names.
    let own_key = if received {
        None
    } else {
        ctx.reader_key().ok()
    };
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
            _ => format!(
                "category {}",
                crate::chain::category_label(own_key.as_ref(), r.category)
            ),
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
