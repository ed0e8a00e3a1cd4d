//! `careledger record add|list|get|rekey`.

use super::sharing::{grantees, published_key, readers, wrap_for};
use crate::abi::IRecordRegistry;
use crate::chain::{category_label, event};
use crate::cli::Category;
use crate::context::Ctx;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;
use crate::output::{bar, Report};
use alloy::primitives::{Address, B256, U256};
use careledger_vault::ipfs::{BlockStore, Cid, FsBlockStore};
use careledger_vault::record::{self, StoredRecord};
use careledger_vault::{wrap, RecordContext, RecordKey};
use serde_json::json;
use std::path::Path;

fn record_ctx(chain_id: u64, d: &Deployment, patient: Address, record_id: U256) -> RecordContext {
    RecordContext {
        chain_id,
        registry: d.record_registry,
        patient,
        record_id,
    }
}

/// Files up to this size are looked at for FHIR and may be wrapped; larger ones
/// are stored as they are, streamed.
const FHIR_MAX: u64 = 64 << 20;

/// What is stored: a FHIR R4 Bundle as it is (after R4's Bundle rules), any other
/// file as it is, or with `--as-fhir` inside a DocumentReference Bundle.
pub struct Plaintext {
    /// What it is, in words (`attachment`, `FHIR collection Bundle of 3 entries`).
    pub kind: String,
    wrapped: Option<Vec<u8>>,
}

/// Looks at `file`: a FHIR Bundle is checked, anything else is an attachment,
/// wrapped with `as_fhir` in a DocumentReference Bundle naming `patient_ref`.
pub fn classify(file: &Path, as_fhir: bool, patient_ref: &serde_json::Value) -> Result<Plaintext> {
    use careledger_vault::fhir::{self, RecordKind};
    use std::io::Read;
    let mut f = std::fs::File::open(file).map_err(|e| Error::file(file, e))?;
    let len = f.metadata().map_err(|e| Error::file(file, e))?.len();
    let mut head = [0u8; 64];
    let n = f.read(&mut head).map_err(|e| Error::file(file, e))?;
    let json_like = head[..n].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if len > FHIR_MAX {
        if as_fhir {
            return Err(Error::Usage(format!(
                "--as-fhir wraps files up to 64 MiB; {} is {len} bytes",
                file.display()
            )));
        }
        return Ok(Plaintext {
            kind: "attachment".into(),
            wrapped: None,
        });
    }
    if !json_like && !as_fhir {
        return Ok(Plaintext {
            kind: "attachment".into(),
            wrapped: None,
        });
    }
    let bytes = std::fs::read(file).map_err(|e| Error::file(file, e))?;
    match fhir::classify(&bytes) {
        RecordKind::Bundle(summary) => Ok(Plaintext {
            kind: format!(
                "FHIR {} Bundle of {} entries",
                summary.bundle_type, summary.entries
            ),
            wrapped: None,
        }),
        RecordKind::InvalidBundle(reason) => Err(careledger_vault::Error::Fhir(reason).into()),
        RecordKind::Attachment if as_fhir => {
            let title = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let bundle = fhir::attachment_bundle(&bytes, content_type(file), &title, patient_ref);
            Ok(Plaintext {
                kind: "FHIR DocumentReference attachment".into(),
                wrapped: Some(serde_json::to_vec_pretty(&bundle).expect("values serialise")),
            })
        }
        RecordKind::Attachment => Ok(Plaintext {
            kind: "attachment".into(),
            wrapped: None,
        }),
    }
}

/// Names the category inside a `--as-fhir` DocumentReference (R4
/// `DocumentReference.category`, a CodeableConcept with text only), so a doctor
/// who decrypts the record sees it; the chain holds only the patient's code.
/// FHIR Bundles stored as they are keep their own categories.
fn label_category(plain: &mut Plaintext, name: &str) {
    let Some(bytes) = &plain.wrapped else { return };
    let Ok(mut bundle) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    let Some(entries) = bundle["entry"].as_array_mut() else {
        return;
    };
    for e in entries {
        let r = &mut e["resource"];
        if r["resourceType"] == "DocumentReference" {
            r["category"] = json!([{ "text": careledger_vault::category::normalise(name) }]);
        }
    }
    plain.wrapped = Some(serde_json::to_vec_pretty(&bundle).expect("values serialise"));
}

fn content_type(file: &Path) -> &'static str {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("json") => "application/json",
        Some("txt") => "text/plain",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("dcm") => "application/dicom",
        Some("xml") => "application/xml",
        _ => "application/octet-stream",
    }
}

/// The block store as one sealing sees it: it remembers which blocks it stored
/// that were not there before, so that a record that never reaches the chain
/// takes them away again instead of leaving them orphaned. Blocks that were
/// there already stay: content addressing shares a block between all who
/// stored it.
struct Fresh {
    store: FsBlockStore,
    new: std::collections::HashSet<Cid>,
    /// The outermost directory of the store's path that did not exist yet.
    made: Option<std::path::PathBuf>,
}

impl Fresh {
    fn open(ctx: &Ctx) -> Result<Self> {
        let made = ctx
            .store_dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .last()
            .map(Path::to_path_buf);
        Ok(Self {
            store: ctx.store()?,
            new: Default::default(),
            made,
        })
    }

    /// Removes the blocks this sealing added, and the directories it made if
    /// they are left empty. Best effort: the error being reported is the one
    /// that matters, and a leftover block costs only space.
    fn discard(mut self, ctx: &Ctx) {
        let new: Vec<Cid> = self.new.drain().collect();
        let _ = self.store.remove(&new);
        if let Some(made) = self.made {
            for dir in ctx.store_dir.ancestors() {
                if std::fs::remove_dir(dir).is_err() || dir == made {
                    break;
                }
            }
        }
    }
}

impl BlockStore for Fresh {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), careledger_vault::Error> {
        if !self.store.contains(cid) {
            self.new.insert(*cid);
        }
        self.store.put(cid, block)
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, careledger_vault::Error> {
        self.store.get(cid)
    }

    fn sync(&mut self) -> Result<(), careledger_vault::Error> {
        self.store.sync()
    }
}

/// Whether a failed transaction certainly left the chain as it was: refused
/// before it was sent (the node's estimate reverted), or mined and reverted.
/// Any other failure (a timeout, a lost connection) may have come after the
/// node took it, so what it points at must stay.
fn never_landed(e: &Error) -> bool {
    matches!(e, Error::Reverted(_) | Error::TxFailed(_))
}

/// Encrypts `file` (or its FHIR wrapping) for `rctx` into `store`, with a
/// progress bar over its bytes.
fn seal_file(
    ctx: &Ctx,
    file: &Path,
    plain: &Plaintext,
    key: &RecordKey,
    rctx: &RecordContext,
    store: &mut Fresh,
) -> Result<StoredRecord> {
    if let Some(bytes) = &plain.wrapped {
        let stored =
            tokio::task::block_in_place(|| record::seal(key, rctx, &mut &bytes[..], store))?;
        return Ok(stored);
    }
    let f = std::fs::File::open(file).map_err(|e| Error::file(file, e))?;
    let len = f.metadata().map_err(|e| Error::file(file, e))?.len();
    let progress = bar(ctx.progress && len > 8 << 20, len, "encrypt");
    let mut input = progress.wrap_read(std::io::BufReader::new(f));
    let stored = tokio::task::block_in_place(|| record::seal(key, rctx, &mut input, store))?;
    progress.finish_and_clear();
    Ok(stored)
}

/// The id the registry will give the next record: the ciphertext is bound to it.
async fn next_id(ctx: &Ctx, d: &Deployment) -> Result<U256> {
    let count = ctx.view(ctx.records(d).recordCount()).await?;
    Ok(count + U256::from(1))
}

/// `record add`: encrypts `file` for the signing patient, stores it, puts its pointer
/// on chain and wraps its key for the patient, its custodians and the grantees whose
/// grants cover it.
pub async fn add(
    ctx: &Ctx,
    file: &Path,
    category: Option<&Category>,
    as_fhir: bool,
) -> Result<Report> {
    // Before any chain call: a file that is not there is an I/O error, a
    // directory given for a file the user's mistake.
    let meta = std::fs::metadata(file).map_err(|e| Error::file(file, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{}: not a regular file",
            file.display()
        )));
    }
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    // The registry refuses anyone else's record: say so before encrypting and storing it.
    let patient = ctx.view(ctx.registry(&d).isPatient(me)).await?;
    if !patient {
        return Err(Error::Refused(format!(
            "{me} is not a registered patient: only patients add records \
             (`careledger patient register` first); nothing was stored"
        )));
    }
    let chain_id = d.chain_id;
    // The patient's own code of the name (the chain never sees the name); the
    // name itself travels inside the encrypted record when it is FHIR.
    let code = match category {
        Some(c) => c.code(&ctx.reader_key()?),
        None => B256::ZERO,
    };
    let mut plain = classify(
        file,
        as_fhir,
        &careledger_vault::fhir::account_reference(chain_id, me),
    )?;
    if let (true, Some(Category::Name(name))) = (as_fhir, category) {
        label_category(&mut plain, name);
    }
    let category = code;
    let candidates = grantees(ctx, &d, me).await?;

    let mut id = next_id(ctx, &d).await?;
    let mut version;
    let mut tx;
    let mut stored;
    let mut shared;
    let mut first = true;
    loop {
        let rctx = record_ctx(chain_id, &d, me, id);
        let key = RecordKey::generate();
        let mut fresh = Fresh::open(ctx)?;
        let sealed = seal_file(ctx, file, &plain, &key, &rctx, &mut fresh);
        stored = match sealed {
            Ok(stored) => stored,
            Err(e) => {
                fresh.discard(ctx);
                return Err(e);
            }
        };
        let prepared = async {
            ctx.publish(&stored.cid)?;
            let readers = readers(ctx, &d, me, id, category, &candidates).await?;
            wrap_for(&key, &rctx, &readers)
        };
        let (addresses, wrapped) = match prepared.await {
            Ok(prepared) => prepared,
            Err(e) => {
                fresh.discard(ctx);
                return Err(e);
            }
        };
        shared = addresses.clone();
        let sent = if first {
            let call = IRecordRegistry::addRecordCall {
                cid: stored.cid.to_bytes().into(),
                content_hash: B256::from(stored.sha256),
                category,
                readers: addresses,
                wrapped_keys: wrapped,
            };
            ctx.transact(d.record_registry, call).await
        } else {
            let call = IRecordRegistry::addVersionCall {
                record_id: id,
                cid: stored.cid.to_bytes().into(),
                content_hash: B256::from(stored.sha256),
                readers: addresses,
                wrapped_keys: wrapped,
            };
            ctx.transact(d.record_registry, call).await
        };
        let receipt = match sent {
            Ok(receipt) => receipt,
            Err(e) => {
                if never_landed(&e) {
                    fresh.discard(ctx);
                }
                return Err(e);
            }
        };
        tx = receipt.transaction_hash;
        let added = event::<IRecordRegistry::RecordAdded>(&receipt)?;
        version = added.version;
        if added.recordId == id {
            break;
        }
        // Another patient's record took the predicted id between our read and our
        // transaction: the first version is bound to the wrong id and decrypts for
        // nobody, so seal again for the real id as version 2.
        id = added.recordId;
        first = false;
    }
    Ok(Report::new(json!({
        "recordId": id.to_string(),
        "version": version,
        "cid": stored.cid.to_string(),
        "contentHash": B256::from(stored.sha256),
        "ciphertextBytes": stored.ciphertext_len,
        "kind": plain.kind,
        "category": category,
        "readers": shared,
        "tx": tx,
    }))
    .line(format!(
        "record {id} version {version}: {} ({}, {} bytes encrypted)",
        stored.cid, plain.kind, stored.ciphertext_len
    ))
    .line(format!(
        "key wrapped for {} reader(s): {}",
        shared.len(),
        shared
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .line(format!("tx {tx}")))
}

/// `record list`: `patient`'s records (default: the signing account), as far as the
/// caller may see them.
pub async fn list(ctx: &Ctx, patient: Option<Address>) -> Result<Report> {
    let d = ctx.deployment().await?;
    let caller = ctx.signer.as_ref().map(|s| s.address());
    let patient = match patient {
        Some(p) => p,
        None => ctx.me()?,
    };
    let ids = ctx.view(ctx.records(&d).recordsOf(patient)).await?;
    // The patient's own client maps its category codes back to names.
    let own_key = if caller == Some(patient) {
        ctx.reader_key().ok()
    } else {
        None
    };
    let mut human = Vec::new();
    let mut rows = Vec::new();
    let registry = ctx.records(&d);
    for id in ids {
        let mut call = registry.getRecord(id);
        if let Some(c) = caller {
            call = call.from(c);
        }
        match call.call().await {
            Ok(r) => {
                let cid = Cid::try_from(r._2.as_ref())
                    .map(|c| c.to_string())
                    .unwrap_or_else(|_| "(malformed CID)".into());
                human.push(format!(
                    "{id:>4}  v{}  {}  {}  added {}",
                    r._1,
                    cid,
                    category_label(own_key.as_ref(), r._4),
                    crate::chain::time(r._5)
                ));
                rows.push(
                    json!({"recordId": id.to_string(), "version": r._1, "cid": cid,
                    "contentHash": r._3, "category": r._4,
                    "categoryName": category_label(own_key.as_ref(), r._4),
                    "addedAt": r._5, "readable": true}),
                );
            }
            Err(e) if e.as_revert_data().is_some() => {
                human.push(format!("{id:>4}  (no access)"));
                rows.push(json!({"recordId": id.to_string(), "readable": false}));
            }
            Err(e) => return Err(ctx.call_error(e)),
        }
    }
    if human.is_empty() {
        human.push(format!("{patient} has no records"));
    }
    let mut report = Report::new(json!({"patient": patient, "records": rows}));
    report.human = human;
    Ok(report)
}

/// The record key of `version` as `caller` can unwrap it.
async fn unwrap_key(
    ctx: &Ctx,
    d: &Deployment,
    caller: Address,
    id: U256,
    version: u32,
    rctx: &RecordContext,
) -> Result<RecordKey> {
    let wrapped = published_key(ctx, d, caller, id, version, caller)
        .await?
        .ok_or(Error::NoWrappedKey {
            record: id.saturating_to(),
            version,
            reader: caller,
        })?;
    let reader = ctx.reader_key()?;
    match wrap::unwrap(&wrapped, &reader, rctx) {
        Ok(key) => Ok(key),
        // The usual cause: an account set up in the web app, whose record key is
        // not the one the CLI derives from the signing key.
        Err(careledger_vault::Error::Unwrap)
            if crate::cmd::sharing::encryption_key(ctx, d, caller)
                .await
                .ok()
                != Some(reader.public_key()) =>
        {
            Err(Error::WrongRecordKey(caller))
        }
        Err(e) => Err(e.into()),
    }
}

/// `record get` for in-process callers (the demo): replaces `output` if it exists.
pub async fn get(ctx: &Ctx, id: U256, output: &Path) -> Result<Report> {
    get_to(ctx, id, output, true).await
}

/// Logs the read, then decrypts record `id` into `output`, which must not exist
/// unless `replace`. The file appears whole or not at all.
pub async fn get_to(ctx: &Ctx, id: U256, output: &Path, replace: bool) -> Result<Report> {
    if output.is_dir() {
        return Err(Error::Usage(format!("{} is a directory", output.display())));
    }
    // Before the read is logged: a refusal here costs nothing and reads nothing.
    if !replace && std::fs::symlink_metadata(output).is_ok() {
        return Err(Error::Usage(format!(
            "{} exists: pass --force to replace it",
            output.display()
        )));
    }
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    // A read that cannot succeed (no key shared yet) is not logged as one.
    let latest = ctx.view(ctx.records(&d).versionCount(id)).await?;
    if latest == 0 {
        return Err(Error::Reverted(crate::chain::describe_revert(
            &alloy::sol_types::SolError::abi_encode(&IRecordRegistry::UnknownRecord(id)),
        )));
    }
    if published_key(ctx, &d, me, id, latest, me).await?.is_none() {
        return Err(Error::NoWrappedKey {
            record: id.saturating_to(),
            version: latest,
            reader: me,
        });
    }
    // Log the read before fetching: honest clients never read without a trace.
    let call = IRecordRegistry::accessRecordCall { record_id: id };
    let receipt = ctx.transact(d.record_registry, call).await?;
    let version = event::<IRecordRegistry::RecordAccessed>(&receipt)?.version;
    let r = ctx
        .view(ctx.records(&d).getRecordVersion(id, version).from(me))
        .await?;
    let patient = r._0;
    let cid = Cid::try_from(r._2.as_ref())
        .map_err(|_| Error::Rpc(format!("record {id} has a malformed CID on chain")))?;
    let rctx = record_ctx(d.chain_id, &d, patient, id);
    let key = unwrap_key(ctx, &d, me, id, version, &rctx).await?;
    let open_into_file = || -> Result<u64> {
        let store = ctx.store()?;
        let mut out = AtomicFile::create(output)?;
        let n = tokio::task::block_in_place(|| {
            let mut w = std::io::BufWriter::new(out.file());
            let n = record::open(&key, &rctx, &cid, &r._3.0, &store, &mut w)?;
            std::io::Write::flush(&mut w).map_err(|e| Error::file(output, e))?;
            Ok::<_, Error>(n)
        })?;
        if replace {
            out.commit()?;
        } else {
            out.commit_new()?;
        }
        Ok(n)
    };
    ctx.fetch(&cid, false)?;
    let n = match open_into_file() {
        // The root was here but not the whole DAG (an interrupted earlier fetch):
        // fetch it all from the node once more.
        Err(Error::Vault(careledger_vault::Error::MissingBlock(_))) if ctx.ipfs.is_some() => {
            ctx.fetch(&cid, true)?;
            open_into_file()?
        }
        other => other?,
    };
    Ok(Report::new(json!({
        "recordId": id.to_string(),
        "version": version,
        "patient": patient,
        "cid": cid.to_string(),
        "bytes": n,
        "output": output.display().to_string(),
        "accessTx": receipt.transaction_hash,
    }))
    .line(format!(
        "record {id} v{version} of {patient}: {n} bytes decrypted to {} (read logged in tx {})",
        output.display(),
        receipt.transaction_hash
    )))
}

/// What a failed `pipe()` in `rekey` was for.
const REKEY_PIPE: &str = "cannot make the pipe that re-encrypts the record";

/// `record rekey`: re-encrypts record `id` under a fresh key, wrapped for its current
/// readers only.
pub async fn rekey(ctx: &Ctx, id: U256) -> Result<Report> {
    let me = ctx.me()?;
    let d = ctx.deployment().await?;
    let records = ctx.records(&d);
    let owner = ctx.view(records.recordOwner(id)).await?;
    if owner != me {
        return Err(Error::Refused(format!(
            "record {id} belongs to {owner}, not to you"
        )));
    }
    let version = ctx.view(records.versionCount(id)).await?;
    let r = ctx
        .view(records.getRecordVersion(id, version).from(me))
        .await?;
    let category = r._4;
    let old_cid = Cid::try_from(r._2.as_ref())
        .map_err(|_| Error::Rpc(format!("record {id} has a malformed CID on chain")))?;
    let rctx = record_ctx(d.chain_id, &d, me, id);
    let old_key = unwrap_key(ctx, &d, me, id, version, &rctx).await?;
    let candidates = grantees(ctx, &d, me).await?;
    let readers = readers(ctx, &d, me, id, category, &candidates).await?;
    let new_key = RecordKey::generate();

    ctx.fetch(&old_cid, false)?;
    // Decrypt and re-encrypt through a pipe: the plaintext never touches the disk.
    let store = ctx.store()?;
    let mut fresh = Fresh::open(ctx)?;
    let (mut pipe_r, pipe_w) = std::io::pipe().map_err(|e| Error::io(REKEY_PIPE, e))?;
    let expected = r._3.0;
    let writer_store = &mut fresh;
    let resealed = tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let reader = s.spawn(move || {
                let mut w = pipe_w;
                record::open(&old_key, &rctx, &old_cid, &expected, &store, &mut w)
            });
            let sealed = record::seal(&new_key, &rctx, &mut pipe_r, writer_store);
            let opened = reader.join().expect("the decrypting thread does not panic");
            opened.and(sealed)
        })
    });
    let prepared = resealed.map_err(Error::from).and_then(|stored| {
        ctx.publish(&stored.cid)?;
        Ok((stored, wrap_for(&new_key, &rctx, &readers)?))
    });
    let (stored, (addresses, wrapped)) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            fresh.discard(ctx);
            return Err(e);
        }
    };
    let call = IRecordRegistry::addVersionCall {
        record_id: id,
        cid: stored.cid.to_bytes().into(),
        content_hash: B256::from(stored.sha256),
        readers: addresses.clone(),
        wrapped_keys: wrapped,
    };
    let receipt = match ctx.transact(d.record_registry, call).await {
        Ok(receipt) => receipt,
        Err(e) => {
            if never_landed(&e) {
                fresh.discard(ctx);
            }
            return Err(e);
        }
    };
    let new_version = event::<IRecordRegistry::RecordAdded>(&receipt)?.version;
    Ok(Report::new(json!({
        "recordId": id.to_string(),
        "version": new_version,
        "cid": stored.cid.to_string(),
        "readers": addresses,
        "tx": receipt.transaction_hash,
    }))
    .line(format!(
        "record {id} re-encrypted as version {new_version} ({}) under a fresh key for {} current reader(s)",
        stored.cid,
        addresses.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: a record file that is not there is an I/O error naming it; a
    /// directory given for a file is the user's mistake. Both before any chain call.
    #[tokio::test]
    async fn a_missing_record_file_is_an_io_error_and_a_directory_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = crate::context::offline(dir.path(), None);
        let missing = dir.path().join("missing.pdf");
        let e = add(&ctx, &missing, None, false).await.unwrap_err();
        let Error::File { path, source } = &e else {
            panic!("{e:?}")
        };
        assert!(path.ends_with("missing.pdf"), "{path}");
        assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        let e = add(&ctx, dir.path(), None, false).await.unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e:?}");
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn an_as_fhir_record_names_its_category_inside_the_document_reference() {
        let dir = std::env::temp_dir().join(format!("careledger-cat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("letter.txt");
        std::fs::write(&file, b"Dear colleague").unwrap();
        let mut plain = classify(&file, true, &json!({"reference": "Patient/x"})).unwrap();
        label_category(&mut plain, " HIV ");
        let bundle: serde_json::Value =
            serde_json::from_slice(plain.wrapped.as_ref().unwrap()).unwrap();
        let doc = &bundle["entry"][0]["resource"];
        assert_eq!(doc["resourceType"], "DocumentReference");
        assert_eq!(doc["category"], json!([{"text": "hiv"}]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
