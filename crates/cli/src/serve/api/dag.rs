//! `dag/import` and `dag/export`: whole DAGs as CARv1, the calls the vault's
//! kubo client makes (`--ipfs-api`), so that one CLI can push records to another's
//! `ipfs serve` and fetch them back as from kubo.
//!
//! Every block of an import goes through the store's `put` (its CID checked) and
//! dag-pb blocks through the strict `block/put` check; the upload streams to a
//! blocking reader, never held whole. A failed import answers with an error and
//! may leave the blocks before the bad one, unreferenced, as `add` may.

use super::{blocking, form, upload, Api, ApiError, Args, Piece};
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use careledger_vault::ipfs::codec::{DAG_PB, RAW};
use careledger_vault::ipfs::{self, dagpb, BlockStore, Cid, FsBlockStore};
use careledger_vault::Error as VaultError;
use serde_json::json;
use std::io::{Read, Write};
use std::sync::Arc;

/// kubo's `dag/import`: one CAR file part; one NDJSON line per root,
/// `{"Root":{"Cid":{"/":…},"PinErrorMsg":…}}`, where `pin-roots` (the default)
/// checks that each root's whole DAG is here.
pub(super) async fn import(
    State(api): State<Arc<Api>>,
    uri: Uri,
    body: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let args = Args::of(&uri);
    let pin_roots = args.flag("pin-roots", true)?;
    let silent = args.flag("silent", false)?;
    let mut form = form(body)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(8);
    let dir = api.store.clone();
    let reader = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let mut store = Checked(FsBlockStore::open(&dir)?);
        let roots =
            ipfs::import_car(Pieces { rx, current: None }, &mut store).map_err(|e| match e {
                // A malformed CAR or a block that is not what its CID says: the
                // client's fault, as kubo's 400s for bad input.
                VaultError::Car(_) | VaultError::BlockMismatch(_) | VaultError::InvalidInput(_) => {
                    ApiError::bad(e.to_string())
                }
                e => ApiError::from(e),
            })?;
        store.0.sync()?;
        Ok(roots
            .into_iter()
            .map(|root| {
                let pin_error = match pin_roots {
                    true => ipfs::export_car(&root, &store.0, std::io::sink())
                        .err()
                        .map(|e| format!("{e} (this server has no peers to fetch it from)")),
                    false => None,
                };
                (root, pin_error.unwrap_or_default())
            })
            .collect::<Vec<_>>())
    });
    let (_, uploaded) = upload(&mut form, tx).await;
    let read = reader
        .await
        .map_err(|_| ApiError::internal("the request's worker stopped unexpectedly"))?;
    uploaded?;
    let roots = read?;
    let lines: String = match silent {
        true => String::new(),
        false => roots
            .iter()
            .map(|(root, pin_error)| {
                let line =
                    json!({"Root": {"Cid": {"/": root.to_string()}, "PinErrorMsg": pin_error}});
                format!("{line}\n")
            })
            .collect(),
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], lines).into_response())
}

/// kubo's `dag/export?arg=<cid>`: the DAG under the CID as a CARv1, streamed. The
/// root is read before the answer starts (a missing one is a JSON error); a block
/// found missing later cuts the stream short, so the client's CAR fails to parse.
pub(super) async fn export(State(api): State<Arc<Api>>, uri: Uri) -> Result<Response, ApiError> {
    let (_, root) = Args::of(&uri).cid()?;
    let dir = api.store.clone();
    let store = blocking(move || {
        let store = FsBlockStore::open(&dir)?;
        store.get(&root)?;
        Ok(store)
    })
    .await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(256 << 10, Sender(tx.clone()));
        let written = ipfs::export_car(&root, &store, &mut out).and_then(|()| Ok(out.flush()?));
        if let Err(e) = written {
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.ipld.car")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The upload's pieces as a `Read`: the end of the data only at `Piece::End`, a
/// closed channel before it (the upload failed) an error.
struct Pieces {
    rx: tokio::sync::mpsc::Receiver<Piece>,
    current: Option<Bytes>,
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(bytes) = self.current.as_mut().filter(|b| !b.is_empty()) {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes.split_to(n));
                return Ok(n);
            }
            match self.rx.blocking_recv() {
                Some(Piece::Data(bytes)) => self.current = Some(bytes),
                Some(Piece::End) => return Ok(0),
                None => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the upload was cut short",
                    ))
                }
            }
        }
    }
}

/// A `Write` into the response stream.
struct Sender(tokio::sync::mpsc::Sender<std::io::Result<Bytes>>);

impl Write for Sender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The store as `block/put` fills it: raw and dag-pb blocks only, dag-pb ones
/// strictly well formed.
struct Checked(FsBlockStore);

impl BlockStore for Checked {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), VaultError> {
        match cid.codec() {
            RAW => {}
            DAG_PB => {
                dagpb::check(block).map_err(|e| VaultError::Car(format!("block {cid}: {e}")))?
            }
            other => {
                return Err(VaultError::Car(format!(
                    "block {cid} has codec 0x{other:x}: this store keeps raw and dag-pb blocks"
                )))
            }
        }
        self.0.put(cid, block)
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, VaultError> {
        self.0.get(cid)
    }

    fn sync(&mut self) -> Result<(), VaultError> {
        self.0.sync()
    }
}
