//! `careledger ipfs add|cat|export|import|pin|serve`: blocks by CID, in the
//! embedded store or on the configured node, pinning services, and the store
//! served to a browser app (serve/).

use crate::cli::NotifierUrl;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;
use crate::output::Report;
use crate::serve::{self, AppConfig};
use crate::signals::Stop;
use careledger_vault::ipfs::{self, Cid, PinningClient};
use serde_json::json;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// `ipfs add`: stores `file` and sends it to the IPFS node, if there is one.
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

/// `ipfs cat`: the file under `cid` into `output`, fetched first if it is not here.
pub fn cat(ctx: &Ctx, cid: &Cid, output: &Path) -> Result<Report> {
    ctx.fetch(cid, false)?;
    let store = ctx.store()?;
    let n = write_output(output, |w| Ok(ipfs::cat(cid, &store, w)?))?;
    Ok(Report::new(
        json!({"cid": cid.to_string(), "bytes": n, "output": output.display().to_string()}),
    )
    .line(format!("{n} bytes written to {}", output.display())))
}

/// `ipfs export`: the DAG under `cid` as a CARv1 file at `output`.
pub fn export(ctx: &Ctx, cid: &Cid, output: &Path) -> Result<Report> {
    ctx.fetch(cid, false)?;
    let store = ctx.store()?;
    write_output(output, |w| Ok(ipfs::export_car(cid, &store, w).map(|_| 0)?))?;
    Ok(
        Report::new(json!({"cid": cid.to_string(), "car": output.display().to_string()}))
            .line(format!("{cid} exported to {}", output.display())),
    )
}

/// `ipfs import`: the blocks of the CAR file `car`, each checked, stored and sent on
/// to the IPFS node, if there is one.
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

/// `ipfs pin`: asks `service` to pin `cid`, and with `wait` waits that many seconds
/// for it to be pinned.
pub fn pin(ctx: &Ctx, cid: &Cid, service: &str, name: Option<&str>, wait: u64) -> Result<Report> {
    let token = std::env::var("CARELEDGER_PIN_TOKEN").map_err(|_| {
        Error::Usage("set CARELEDGER_PIN_TOKEN to the pinning service's access token".into())
    })?;
    let client = PinningClient::new(service, &token)?.with_timeout(ctx.timeout);
    let mut status = tokio::task::block_in_place(|| client.add_pin(cid, name, &[]))?;
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

/// `ipfs serve`: one line once listening (the real port, if 0 was asked), then
/// requests until SIGTERM or Ctrl-C. The app's configuration names `--rpc-url`
/// and the `--deployment` file, read at each request.
pub async fn serve(
    ctx: &Ctx,
    addr: SocketAddr,
    allow_origins: &[String],
    web: Option<&Path>,
    notifier: Option<&NotifierUrl>,
    json: bool,
) -> Result<()> {
    let notifier = notifier.map(|n| n.as_str().to_string());
    let app = serve::router(serve::Options {
        store: ctx.store_dir.clone(),
        allow_origins: allow_origins.to_vec(),
        web: web.map(Path::to_path_buf),
        app: AppConfig {
            deployment: ctx.deployment_path.clone(),
            rpc_url: ctx.url.clone(),
            notifier,
        },
    })?;
    let (listener, bound) = serve::bind(addr).await?;
    // Before the ready line: a client may send SIGTERM as soon as it reads it.
    let stop = Stop::listen()?;
    let url = format!("http://{bound}");
    if json {
        serve::announce(&json!({ "listening": url }).to_string());
    } else {
        let app = web.map_or(String::new(), |w| format!(", the app from {}", w.display()));
        serve::announce(&format!(
            "listening on {url}: IPFS RPC API at /api/v0 over {}{app} (Ctrl-C stops)",
            ctx.store_dir.display()
        ));
    }
    serve::run(listener, app, stop).await
}
