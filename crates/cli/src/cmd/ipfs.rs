//! `careledger ipfs add|cat|export|import|pin`: blocks by CID, in the embedded
//! store or on the configured node, and pinning services.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;
use crate::output::Report;
use careledger_vault::ipfs::{self, Cid, PinningClient};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

pub fn parse_cid(s: &str) -> Result<Cid> {
    s.trim()
        .parse()
        .map_err(|e| Error::Usage(format!("{s:?} is not a CID: {e}")))
}

pub fn add(ctx: &Ctx, file: &Path) -> Result<Report> {
    let mut f = std::fs::File::open(file).map_err(|e| Error::file(file, e))?;
    let mut store = ctx.store()?;
    let cid = ipfs::add(&mut f, &mut store)?;
    ctx.publish(&cid)?;
    Ok(Report::new(json!({"cid": cid.to_string()})).line(cid.to_string()))
}

/// Writes through a temporary file: `write` fills it, then it is renamed.
fn write_output(
    output: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> Result<u64>,
) -> Result<u64> {
    let mut out = AtomicFile::create(output)?;
    let mut w = std::io::BufWriter::new(out.file());
    let n = write(&mut w)?;
    w.flush().map_err(|e| Error::file(output, e))?;
    drop(w);
    out.commit()?;
    Ok(n)
}

pub fn cat(ctx: &Ctx, cid: &str, output: &Path) -> Result<Report> {
    let cid = parse_cid(cid)?;
    ctx.fetch(&cid, false)?;
    let store = ctx.store()?;
    let n = write_output(output, |w| Ok(ipfs::cat(&cid, &store, w)?))?;
    Ok(Report::new(
        json!({"cid": cid.to_string(), "bytes": n, "output": output.display().to_string()}),
    )
    .line(format!("{n} bytes written to {}", output.display())))
}

pub fn export(ctx: &Ctx, cid: &str, output: &Path) -> Result<Report> {
    let cid = parse_cid(cid)?;
    ctx.fetch(&cid, false)?;
    let store = ctx.store()?;
    write_output(
        output,
        |w| Ok(ipfs::export_car(&cid, &store, w).map(|_| 0)?),
    )?;
    Ok(
        Report::new(json!({"cid": cid.to_string(), "car": output.display().to_string()}))
            .line(format!("{cid} exported to {}", output.display())),
    )
}

pub fn import(ctx: &Ctx, car: &Path) -> Result<Report> {
    let f = std::fs::File::open(car).map_err(|e| Error::file(car, e))?;
    let mut store = ctx.store()?;
    let roots = ipfs::import_car(std::io::BufReader::new(f), &mut store)?;
    for root in &roots {
        ctx.publish(root)?;
    }
    let roots: Vec<String> = roots.iter().map(|c| c.to_string()).collect();
    Ok(Report::new(json!({"roots": roots})).line(roots.join("\n")))
}

pub fn pin(cid: &str, service: &str, name: Option<&str>, wait: u64) -> Result<Report> {
    let cid = parse_cid(cid)?;
    let token = std::env::var("CARELEDGER_PIN_TOKEN").map_err(|_| {
        Error::Usage("set CARELEDGER_PIN_TOKEN to the pinning service's access token".into())
    })?;
    let client = PinningClient::new(service, &token)?;
    let mut status = tokio::task::block_in_place(|| client.add_pin(&cid, name, &[]))?;
    if wait > 0 {
        status = tokio::task::block_in_place(|| {
            client.wait_pinned(&status.requestid, Duration::from_secs(wait))
        })?;
    }
    let state = format!("{:?}", status.status).to_lowercase();
    Ok(Report::new(json!({
        "cid": cid.to_string(),
        "requestId": status.requestid,
        "status": state,
    }))
    .line(format!("{cid}: {state} (request {})", status.requestid)))
}
