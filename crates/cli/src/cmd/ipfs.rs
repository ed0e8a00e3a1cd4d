//! `careledger ipfs add|cat`: the embedded block store, by CID.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;
use crate::output::Report;
use careledger_vault::ipfs::{self, Cid};
use serde_json::json;
use std::path::Path;

pub fn parse_cid(s: &str) -> Result<Cid> {
    s.trim()
        .parse()
        .map_err(|e| Error::Usage(format!("{s:?} is not a CID: {e}")))
}

pub fn add(ctx: &Ctx, file: &Path) -> Result<Report> {
    let mut f = std::fs::File::open(file).map_err(|e| Error::file(file, e))?;
    let mut store = ctx.store()?;
    let cid = ipfs::add(&mut f, &mut store)?;
    Ok(Report::new(json!({"cid": cid.to_string()})).line(cid.to_string()))
}

pub fn cat(ctx: &Ctx, cid: &str, output: &Path) -> Result<Report> {
    let cid = parse_cid(cid)?;
    let store = ctx.store()?;
    let mut out = AtomicFile::create(output)?;
    let mut w = std::io::BufWriter::new(out.file());
    let n = ipfs::cat(&cid, &store, &mut w)?;
    std::io::Write::flush(&mut w).map_err(|e| Error::file(output, e))?;
    drop(w);
    out.commit()?;
    Ok(Report::new(
        json!({"cid": cid.to_string(), "bytes": n, "output": output.display().to_string()}),
    )
    .line(format!("{n} bytes written to {}", output.display())))
}
