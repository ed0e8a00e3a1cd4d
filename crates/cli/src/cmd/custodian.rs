//! `careledger custodian watch`: the emergency custodian's agent.
//!
//! A custodian holds every record key of the patients who named it, wrapped to
//! its own X25519 key. When a doctor opens an emergency window on such a patient,
//! the agent asks the chain whether the window is open and the doctor verified
//! now (`hasEmergencyAccess`); only then does it re-wrap the patient's keys for
//! the doctor through `wrapKeys`, which RecordRegistry allows a custodian only
//! for an open window and logs (`EmergencyKeyReleased`, `KeyWrapped`); the
//! notifier mails the patient from that event. Once the window has ended or
//! was closed, it releases nothing: the chain refuses, and the agent does not ask.

use super::sharing::{emergency_open, published_key, reader, rewrap_for, token_events};
use crate::abi::IPatientRegistry;
use crate::chain::logs;
use crate::context::Ctx;
use crate::deployment::Deployment;
use crate::error::Result;
use crate::output::Report;
use alloy::primitives::{Address, U256};
use alloy::sol_types::SolEvent;
use serde::Serialize;
use serde_json::json;

/// Keys released to one doctor on one patient in one pass.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// The patient who named the custodian.
    pub patient: Address,
    /// The doctor whose emergency window is open on them.
    pub doctor: Address,
    /// Records whose latest version's key was wrapped for the doctor now.
    #[serde(serialize_with = "decimal")]
    pub released: Vec<U256>,
    /// Records of which the custodian holds no key (the patient's client has not
    /// wrapped them for it yet: `careledger grants sync`).
    #[serde(serialize_with = "decimal")]
    pub without_key: Vec<U256>,
}

/// Record ids as decimal strings, as every other command prints them.
fn decimal<S: serde::Serializer>(ids: &[U256], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(ids.iter().map(|id| id.to_string()))
}

/// The patients who name `me` as a custodian now.
pub async fn patients_of(ctx: &Ctx, d: &Deployment, me: Address) -> Result<Vec<Address>> {
    let mut named = Vec::new();
    for log in logs(
        &ctx.provider,
        &ctx.url,
        vec![d.patient_registry],
        d.deploy_block,
        None,
    )
    .await?
    {
        let Ok(e) = IPatientRegistry::EmergencyCustodiansSet::decode_raw_log(
            log.topics(),
            &log.data().data,
        ) else {
            continue;
        };
        if e.custodians.contains(&me) && !named.contains(&e.patient) {
            named.push(e.patient);
        }
    }
    let mut patients = Vec::new();
    for patient in named {
        // The latest list decides: a patient may have removed us since.
        let still = ctx
            .view(ctx.registry(d).isEmergencyCustodian(patient, me))
            .await?;
        if still {
            patients.push(patient);
        }
    }
    Ok(patients)
}

/// Re-wraps the latest version of each of `patient`'s records for `doctor`,
/// where the doctor lacks a key and we hold one. The caller checked the window.
pub async fn release(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    doctor: Address,
) -> Result<Release> {
    let me = ctx.me()?;
    let records = ctx.records(d);
    let ids = ctx.view(records.recordsOf(patient)).await?;
    let doctor_reader = [reader(ctx, d, doctor).await?];
    let mut out = Release {
        patient,
        doctor,
        released: Vec::new(),
        without_key: Vec::new(),
    };
    for id in ids {
        // Ask again before each record: a window can end or be closed mid-pass.
        if !emergency_open(ctx, d, patient, doctor).await? {
            break;
        }
        let version = ctx.view(records.versionCount(id)).await?;
        // Asked as the doctor: a custodian may read only its own wrapped key.
        if published_key(ctx, d, doctor, id, version, doctor)
            .await?
            .is_some()
        {
            continue;
        }
        let Some(mine) = published_key(ctx, d, me, id, version, me).await? else {
            out.without_key.push(id);
            continue;
        };
        rewrap_for(ctx, d, patient, id, version, &mine, &doctor_reader).await?;
        out.released.push(id);
    }
    Ok(out)
}

/// One look at the chain: every open window on a patient who names us.
pub async fn pass(ctx: &Ctx, d: &Deployment) -> Result<Vec<Release>> {
    let me = ctx.me()?;
    let patients = patients_of(ctx, d, me).await?;
    if patients.is_empty() {
        return Ok(Vec::new());
    }
    let mut pairs: Vec<(Address, Address)> = Vec::new();
    for e in token_events(ctx, d).await? {
        if e.kind != "EmergencyAccess" {
            continue;
        }
        let (Some(patient), Some(doctor)) = (e.patient, e.actor) else {
            continue;
        };
        if patients.contains(&patient) && !pairs.contains(&(patient, doctor)) {
            pairs.push((patient, doctor));
        }
    }
    let mut releases = Vec::new();
    for (patient, doctor) in pairs {
        if emergency_open(ctx, d, patient, doctor).await? {
            releases.push(release(ctx, d, patient, doctor).await?);
        }
    }
    Ok(releases)
}

fn describe(r: &Release) -> String {
    let mut line = format!(
        "released the keys of {} record(s) of {} to {} (emergency window open)",
        r.released.len(),
        r.patient,
        r.doctor
    );
    if !r.without_key.is_empty() {
        line.push_str(&format!(
            "; {} record(s) were never wrapped for this custodian",
            r.without_key.len()
        ));
    }
    line
}

/// `custodian watch`: passes until Ctrl-C or SIGTERM; with `once`, one pass.
pub async fn watch(
    ctx: &Ctx,
    poll_secs: u64,
    once: bool,
    json_out: bool,
) -> Result<Option<Report>> {
    let d = ctx.deployment().await?;
    if once {
        let releases = pass(ctx, &d).await?;
        let mut report = Report::new(json!({"releases": releases}));
        for r in &releases {
            report = report.line(describe(r));
        }
        if releases.is_empty() {
            report = report.line("no open emergency window on a patient who names you");
        }
        return Ok(Some(report));
    }
    let mut stop = crate::signals::Stop::listen()?;
    eprintln!(
        "watching for emergency windows on the patients who name {} (every {poll_secs} s; Ctrl-C stops)",
        ctx.me()?
    );
    loop {
        for r in pass(ctx, &d).await? {
            if r.released.is_empty() {
                continue;
            }
            let line = if json_out {
                serde_json::to_string(&r).expect("plain data")
            } else {
                describe(&r)
            };
            if !crate::output::print_line(&line)? {
                return Ok(None);
            }
        }
        tokio::select! {
            // Bounded here too: the library is called with any u64, not only clap's.
            _ = tokio::time::sleep(std::time::Duration::from_secs(poll_secs.clamp(1, 3_600))) => {}
            _ = stop.requested() => return Ok(None),
        }
    }
}
