//! `careledger audit` (a patient's history from events) and `watch` (live events).

use crate::chain::{logs, time};
use crate::context::Ctx;
use crate::error::Result;
use crate::events::{self, Event};
use crate::output::{Report, LAST_RFC3339};
use alloy::primitives::Address;
use alloy::providers::Provider;
use serde_json::json;
use std::collections::HashMap;

/// Every event about `patient`: their records, reads of them, keys shared,
/// grants, revocations and emergencies, oldest first.
pub async fn history(ctx: &Ctx, patient: Address) -> Result<Vec<(Event, u64)>> {
    let d = ctx.deployment().await?;
    let all = logs(
        &ctx.provider,
        &ctx.url,
        vec![d.access_token, d.record_registry],
        d.deploy_block,
        None,
    )
    .await?;
    let decoded: Vec<Event> = all.iter().filter_map(events::decode).collect();
    let own_records: Vec<_> = decoded
        .iter()
        .filter(|e| e.kind == "RecordAdded" && e.patient == Some(patient))
        .filter_map(|e| e.record_id)
        .collect();
    let mut times: HashMap<u64, u64> = HashMap::new();
    let mut out = Vec::new();
    for e in decoded {
        // KeyWrapped names the reader, not the patient: it is theirs if the record is.
        let theirs = e.patient == Some(patient)
            || (e.kind == "KeyWrapped" && e.record_id.is_some_and(|id| own_records.contains(&id)));
        if !theirs {
            continue;
        }
        let at = match times.get(&e.block) {
            Some(t) => *t,
            None => {
                let block = ctx
                    .rpc(ctx.provider.get_block_by_number(e.block.into()))
                    .await?;
                let t = block.map(|b| b.header.timestamp).unwrap_or_default();
                times.insert(e.block, t);
                t
            }
        };
        out.push((e, at));
    }
    Ok(out)
}

/// `audit`: `patient`'s history (default: the signing account), as lines or as a
/// FHIR R4 Bundle of AuditEvent resources.
pub async fn audit(ctx: &Ctx, patient: Option<Address>, fhir: bool) -> Result<Report> {
    let patient = match patient {
        Some(p) => p,
        None => ctx.me()?,
    };
    let entries = history(ctx, patient).await?;
    if fhir {
        let chain_id = ctx.chain_id().await?;
        let audit: Vec<_> = entries
            .iter()
            // A block time past year 9999 (a node's lie) as the last one FHIR can say.
            .filter_map(|(e, at)| events::audit_entry(e, (*at).min(LAST_RFC3339)))
            .collect();
        let bundle = careledger_vault::fhir::audit_events(patient, &audit, chain_id);
        let text = serde_json::to_string_pretty(&bundle).expect("values serialise");
        return Ok(Report::new(bundle).line(text));
    }
    let mut report = Report::new(json!({
        "patient": patient,
        "events": entries.iter().map(|(e, at)| {
            let mut v = serde_json::to_value(e).expect("plain data");
            v["time"] = json!(at);
            v
        }).collect::<Vec<_>>(),
    }));
    for (e, at) in &entries {
        report.human.push(format!(
            "{}  block {:>5}  {}",
            time(*at),
            e.block,
            e.describe()
        ));
    }
    if entries.is_empty() {
        report.human.push(format!("no events about {patient}"));
    }
    Ok(report)
}

/// Prints each new event as it is mined (JSON lines with --json) until `count`
/// events, SIGTERM or Ctrl-C.
pub async fn watch(
    ctx: &Ctx,
    count: Option<usize>,
    from_block: Option<u64>,
    json_out: bool,
) -> Result<()> {
    let d = ctx.deployment().await?;
    let head = || ctx.rpc(ctx.provider.get_block_number());
    // Block numbers are the node's: one at u64::MAX must not overflow.
    let mut next = match from_block {
        Some(b) => b,
        None => head().await?.saturating_add(1),
    };
    let mut seen = 0usize;
    let addresses = vec![d.patient_registry, d.access_token, d.record_registry];
    // Listening from here on: a Ctrl-C that comes mid-query ends the next wait.
    let mut stop = crate::signals::Stop::listen()?;
    loop {
        if count.is_some_and(|c| seen >= c) {
            return Ok(());
        }
        let latest = head().await?;
        if latest >= next {
            for log in logs(
                &ctx.provider,
                &ctx.url,
                addresses.clone(),
                next,
                Some(latest),
            )
            .await?
            {
                let Some(e) = events::decode(&log) else {
                    continue;
                };
                let line = if json_out {
                    serde_json::to_string(&e).expect("plain data")
                } else {
                    format!("block {:>5}  {}", e.block, e.describe())
                };
                if !crate::output::print_line(&line)? {
                    return Ok(());
                }
                seen += 1;
                if count.is_some_and(|c| seen >= c) {
                    return Ok(());
                }
            }
            match latest.checked_add(1) {
                Some(n) => next = n,
                None => return Ok(()),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {}
            _ = stop.requested() => return Ok(()),
        }
    }
}
