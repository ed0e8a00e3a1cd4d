//! `careledger demo`: the whole story on an in-process devnode with the embedded
//! store, through the same code paths as the individual commands; `demo --web`
//! (web.rs) serves the browser app on such a devnode instead.

mod web;

pub use web::serve_web;

use super::{custodian, deploy, emergency, grants, record, roles};
use crate::cli::Expiry;
use crate::cli::{Category, Licence, Reason, RpcUrl, Scope};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Report;
use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use careledger_devnode::Devnode;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A synthetic record: a FHIR R4 Bundle with one Observation (no real person).
const SAMPLE_RECORD: &str = r#"{
  "resourceType": "Bundle",
  "type": "collection",
  "entry": [{
    "resource": {
      "resourceType": "Observation",
      "status": "final",
      "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}]},
      "subject": {"display": "Demo Patient (synthetic)"},
      "valueQuantity": {"value": 5.4, "unit": "%"}
    }
  }]
}
"#;

struct Story {
    steps: Vec<serde_json::Value>,
    human: Vec<String>,
    started: Instant,
}

impl Story {
    fn step(&mut self, who: &str, what: &str, ok: bool, detail: String) {
        let mark = if ok { "ok " } else { "FAIL" };
        let line = format!("[{mark}] {who:<9} {what:<38} {detail}");
        eprintln!("{line}");
        self.human.push(line);
        self.steps.push(
            json!({"actor": who, "step": what, "ok": ok, "detail": detail,
            "ms": self.started.elapsed().as_millis() as u64}),
        );
    }
}

fn actor(dev: &Devnode, i: usize, dir: &Path) -> Result<Ctx> {
    let signer: PrivateKeySigner = dev.node.accounts()[i].signer.clone();
    let url: RpcUrl = dev
        .url()
        .parse()
        .map_err(|e| Error::Devnode(format!("its URL: {e}")))?;
    Ctx::new(
        &url,
        Some(signer),
        dir.join("careledger-deployment.json"),
        dir.join("ipfs"),
        None,
        false,
    )
}

/// A licence the demo writes itself: well formed.
fn licence(text: &str) -> Licence {
    Licence::parse(text).expect("the demo's licences are well formed")
}

/// A category the demo writes itself: well formed.
fn category(name: &str) -> Category {
    Category::parse(name).expect("the demo's categories are well formed")
}

const DAY: u64 = 86_400;

fn sha256_file(path: &Path) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::file(path, e))?;
    Ok(careledger_vault::stream::ciphertext_sha256(&mut f)?)
}

/// `demo`: the whole story on an in-process devnode, each step checked; in `dir`
/// if given, else in a temporary directory that goes with it.
pub async fn run(dir: Option<PathBuf>, contracts: &Path) -> Result<Report> {
    let mut work = work_dir(dir)?;
    let dir = work.path().to_path_buf();
    let dev = Devnode::ephemeral()
        .await
        .map_err(|e| Error::Devnode(e.to_string()))?;
    let mut s = Story {
        steps: Vec::new(),
        human: Vec::new(),
        started: Instant::now(),
    };
    eprintln!(
        "devnode on {} (chain 412346), files in {}",
        dev.url(),
        dir.display()
    );
    let owner = actor(&dev, 0, &dir)?;
    let verifier = actor(&dev, 1, &dir)?;
    let patient = actor(&dev, 2, &dir)?;
    let doctor = actor(&dev, 3, &dir)?;
    let medic = actor(&dev, 4, &dir)?;
    let (p, dr, md, v) = (patient.me()?, doctor.me()?, medic.me()?, verifier.me()?);

    let (d, _) = deploy::run(&owner, contracts).await?;
    // From here on the files tell a story worth keeping, even a failed one's.
    work.keep();
    s.step(
        "owner",
        "deploy + activate 3 Stylus contracts",
        true,
        format!(
            "registry {} token {} records {}",
            d.patient_registry, d.access_token, d.record_registry
        ),
    );
    roles::verifier(&owner, v, true).await?;
    s.step("owner", "accredit a verifier", true, v.to_string());
    roles::register_patient(&patient).await?;
    s.step(
        "patient",
        "register with an X25519 key",
        true,
        p.to_string(),
    );
    roles::register_doctor(&doctor, &licence("GMC-7000001")).await?;
    roles::register_doctor(&medic, &licence("GMC-7000002")).await?;
    s.step(
        "doctors",
        "register (licence hash only)",
        true,
        format!("{dr}, {md}"),
    );
    roles::verify_doctor(&verifier, dr, false).await?;
    roles::verify_doctor(&verifier, md, false).await?;
    s.step("verifier", "verify both doctors", true, String::new());

    let original = dir.join("hba1c.json");
    crate::fsutil::write_atomic(&original, SAMPLE_RECORD.as_bytes())?;
    let added = record::add(&patient, &original, Some(&category("lab")), false).await?;
    s.step(
        "patient",
        "encrypt + store + addRecord",
        true,
        format!(
            "record 1 -> {}",
            added.json["cid"].as_str().unwrap_or_default()
        ),
    );

    let granted = grants::grant(&patient, dr, &Scope::All, Expiry::In(30 * DAY)).await?;
    let token: U256 = granted.json["tokenId"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|_| Error::Internal("grant reported no token id".into()))?;
    s.step(
        "patient",
        "grant doctor (all records, 30 days)",
        true,
        format!(
            "token {token}, keys shared for {} record(s)",
            granted.json["sharedRecords"]
                .as_array()
                .map_or(0, |a| a.len())
        ),
    );

    let copy = dir.join("doctor-copy.json");
    record::get(&doctor, U256::from(1), &copy).await?;
    let same = sha256_file(&copy)? == sha256_file(&original)?;
    s.step(
        "doctor",
        "log the read, fetch, verify, decrypt",
        same,
        "bytes equal the original".into(),
    );

    let second = dir.join("imaging-note.txt");
    crate::fsutil::write_atomic(&second, b"synthetic imaging note: no findings\n")?;
    let added2 = record::add(&patient, &second, Some(&category("imaging")), false).await?;
    let readers2 = added2.json["readers"].as_array().map_or(0, |a| a.len());
    s.step(
        "patient",
        "add record 2 (wrapped for grantee)",
        readers2 == 2,
        format!("{readers2} readers"),
    );

    grants::revoke(&patient, token).await?;
    s.step(
        "patient",
        "revoke the grant",
        true,
        format!("token {token} burnt"),
    );
    let refused = dir.join("refused.json");
    let denial = record::get(&doctor, U256::from(1), &refused).await;
    let was_refused = matches!(&denial, Err(Error::Reverted(m)) if m.starts_with("access denied"))
        && !refused.exists();
    s.step(
        "doctor",
        "read after revocation is refused",
        was_refused,
        denial.err().map(|e| e.to_string()).unwrap_or_default(),
    );

    let rekeyed = record::rekey(&patient, U256::from(1)).await?;
    s.step(
        "patient",
        "rekey record 1 for current readers",
        true,
        format!(
            "version {} for {} reader(s)",
            rekeyed.json["version"],
            rekeyed.json["readers"].as_array().map_or(0, |a| a.len())
        ),
    );

    // Break-glass: keys reach the medic through the patient's custodian, never
    // silently from the patient's own client.
    let relative = actor(&dev, 5, &dir)?;
    let rel = relative.me()?;
    roles::register_patient(&relative).await?;
    let named = emergency::set_custodians(&patient, &[rel]).await?;
    s.step(
        "patient",
        "name an emergency custodian (a relative)",
        true,
        format!(
            "{rel}; keys of {} record(s) wrapped for them",
            named.json["sharedRecords"]
                .as_array()
                .map_or(0, |a| a.len())
        ),
    );
    emergency::open(&medic, p, Reason::Unconscious).await?;
    s.step(
        "medic",
        "break-glass: open a 4-hour window (reason: unconscious)",
        true,
        "EmergencyAccess logged with the reason".into(),
    );
    let synced = grants::sync(&patient, &[]).await?;
    let silent = synced.json["sharedRecords"]
        .as_array()
        .is_some_and(|a| a.is_empty());
    s.step(
        "patient",
        "grants sync without confirmation shares nothing with the opener",
        silent,
        format!(
            "{} record(s) shared; keys reach the opener through the custodian",
            synced.json["sharedRecords"]
                .as_array()
                .map_or(0, |a| a.len())
        ),
    );
    let released = custodian::pass(&relative, &d).await?;
    let count: usize = released.iter().map(|r| r.released.len()).sum();
    s.step(
        "custodian",
        "agent checks the window on chain and releases the keys",
        count == 2,
        format!("{count} record key(s) re-wrapped for the medic (EmergencyKeyReleased)"),
    );
    let er = dir.join("emergency-copy.txt");
    record::get(&medic, U256::from(2), &er).await?;
    let same2 = sha256_file(&er)? == sha256_file(&second)?;
    s.step(
        "medic",
        "read record 2 under emergency access",
        same2,
        "bytes equal the original".into(),
    );
    let closed = emergency::close(&patient, md).await?;
    s.step(
        "patient",
        "close the window: the medic is barred for 30 days",
        true,
        format!(
            "barred until {}",
            crate::chain::time(closed.json["barredUntil"].as_u64().unwrap_or_default())
        ),
    );
    let reopen = emergency::open(&medic, p, Reason::Unconscious).await;
    let barred = matches!(&reopen, Err(Error::Reverted(m)) if m.contains("barred"));
    s.step(
        "medic",
        "re-opening is refused while barred",
        barred,
        reopen.err().map(|e| e.to_string()).unwrap_or_default(),
    );
    let after = custodian::pass(&relative, &d).await?;
    s.step(
        "custodian",
        "releases nothing once the window is closed",
        after.is_empty(),
        format!("{} release(s)", after.len()),
    );
    emergency::lift(&patient, md).await?;
    s.step(
        "patient",
        "lift the bar early",
        true,
        "the medic may open again".into(),
    );

    let audit = super::audit::audit(&patient, None, false).await?;
    let events = audit.json["events"].as_array().map_or(0, |a| a.len());
    s.step(
        "patient",
        "audit trail from events",
        events > 0,
        format!("{events} events"),
    );

    let ok = s.steps.iter().all(|x| x["ok"] == json!(true));
    let blocks = alloy::providers::Provider::get_block_number(&owner.provider)
        .await
        .unwrap_or_default();
    dev.stop().await;
    let summary = format!(
        "demo {}: {} steps, {} blocks, {:.1} s",
        if ok { "passed" } else { "FAILED" },
        s.steps.len(),
        blocks,
        s.started.elapsed().as_secs_f64()
    );
    let mut report =
        Report::new(json!({"ok": ok, "steps": s.steps, "blocks": blocks, "audit": audit.json}));
    report.human = audit.human.iter().map(|l| format!("  {l}")).collect();
    report.human.insert(0, "audit trail of the patient:".into());
    report.human.push(summary);
    if !ok {
        // The failing steps matter more than whether they could be shown.
        let _ = report.print(false);
        return Err(Error::DemoFailed);
    }
    Ok(report)
}

/// The demo's directory. A temporary one is removed when the guard drops; a
/// `--dir` is removed only if this run created it and did not [`WorkDir::keep`]
/// it (the demo failed or was stopped before its end), and then only the part of
/// the path that did not exist before: a directory the user had stays.
pub(super) struct WorkDir {
    path: PathBuf,
    remove: Option<PathBuf>,
    temporary: bool,
}

impl WorkDir {
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The run got far enough that a `--dir` keeps what it holds.
    pub(super) fn keep(&mut self) {
        if !self.temporary {
            self.remove = None;
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Some(dir) = &self.remove {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `dir` (created if need be), or a fresh temporary directory.
pub(super) fn work_dir(dir: Option<PathBuf>) -> Result<WorkDir> {
    let Some(path) = dir else {
        return temporary();
    };
    // The outermost directory of `path` that does not exist yet: what this run makes.
    let created = path
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .last()
        .map(Path::to_path_buf);
    std::fs::create_dir_all(&path).map_err(|e| Error::file(&path, e))?;
    Ok(WorkDir {
        path,
        remove: created,
        temporary: false,
    })
}

/// A new directory under the system's temporary one. Its name is not guessable and
/// it must not exist yet: the guard removes it whole, so it must be ours.
fn temporary() -> Result<WorkDir> {
    use rand::RngCore;
    let mut tag = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut tag);
    let path = std::env::temp_dir().join(format!(
        "careledger-demo-{}-{}",
        std::process::id(),
        alloy::hex::encode(tag)
    ));
    std::fs::create_dir(&path).map_err(|e| Error::file(&path, e))?;
    Ok(WorkDir {
        remove: Some(path.clone()),
        path,
        temporary: true,
    })
}
