//! kubo's RPC API, the part a browser app and the CLI's kubo client need, over the
//! embedded block store: `version`, `id`, `block/put|get|stat`, `cat`, `add`,
//! `pin/add`, and `dag/import|export` (`dag.rs`). POST only, as
//! kubo takes it (a GET is 405); arguments in the query (`?arg=<cid>`); files as
//! multipart/form-data; errors as kubo writes them, `{"Message","Code","Type"}`
//! with status 500, or 400 for a malformed argument.
//!
//! Every block goes through the store's `put`, which checks it against its CID,
//! so what the browser stores the CLI can read and the other way round. Store
//! work runs on blocking threads; `add` and `cat` stream, never holding a file.

mod dag;

use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::handler::Handler;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post, MethodRouter};
use axum::{Json, Router};
use careledger_vault::ipfs::codec::{DAG_PB, RAW, SHA2_256};
use careledger_vault::ipfs::{self, dagpb, BlockStore, Cid, DagWriter, FileReader, FsBlockStore};
use careledger_vault::Error as VaultError;
use cid::multihash::Multihash;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest block `block/put` takes. kubo refuses blocks over 1 MiB on the
/// network (and UnixFS chunks are 256 KiB): 2 MiB leaves room and no more.
const BLOCK_MAX: u64 = 2 << 20;
/// The largest file `add` takes: encrypted records, not disk images.
const ADD_MAX: u64 = 256 << 20;
/// The largest file `cat` sends, the same bound as `add`: a bigger one (a DAG
/// imported or put block by block) is refused with 413 rather than streamed
/// without end.
const CAT_MAX: u64 = ADD_MAX;
/// Multipart framing around the one file part.
const FORM_OVERHEAD: u64 = 64 << 10;

struct Api {
    store: PathBuf,
}

pub(super) fn routes(store: PathBuf) -> Router {
    let limit =
        |n: u64| DefaultBodyLimit::max(usize::try_from(n + FORM_OVERHEAD).unwrap_or(usize::MAX));
    Router::new()
        .route("/api/v0/version", rpc(version))
        .route("/api/v0/id", rpc(id))
        .route("/api/v0/block/put", rpc(block_put).layer(limit(BLOCK_MAX)))
        .route("/api/v0/block/get", rpc(block_get))
        .route("/api/v0/block/stat", rpc(block_stat))
        .route("/api/v0/cat", rpc(cat))
        .route("/api/v0/add", rpc(add).layer(limit(ADD_MAX)))
        .route("/api/v0/pin/add", rpc(pin_add))
        .route("/api/v0/dag/import", rpc(dag::import).layer(limit(ADD_MAX)))
        .route("/api/v0/dag/export", rpc(dag::export))
        .route("/api/{*rest}", any(unknown))
        .with_state(Arc::new(Api { store }))
}

/// A command: POST, anything else 405 as kubo answers it.
fn rpc<H, T>(handler: H) -> MethodRouter<Arc<Api>>
where
    H: Handler<T, Arc<Api>>,
    T: 'static,
{
    post(handler).fallback(not_post)
}

/// An error as kubo writes it.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    fn too_large(what: &str, max: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the {what} is over {} MiB, the most this server takes",
                max >> 20
            ),
        )
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        Self::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"Message": self.message, "Code": 0, "Type": "error"});
        (self.status, Json(body)).into_response()
    }
}

async fn not_post(method: Method) -> impl IntoResponse {
    (
        [(header::ALLOW, "POST")],
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} not allowed: the RPC API takes POST"),
        ),
    )
}

async fn unknown(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "{} is not a command here: this server has version, id, block/put, block/get, \
             block/stat, cat, add, pin/add, dag/import and dag/export",
            uri.path()
        ),
    )
}

/// The query's arguments, repeated ones kept (`pin/add?arg=a&arg=b`).
struct Args(Vec<(String, String)>);

impl Args {
    fn of(uri: &Uri) -> Self {
        let query = uri.query().unwrap_or_default().as_bytes();
        Self(form_urlencoded::parse(query).into_owned().collect())
    }

    fn get<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.all(key).next()
    }

    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean option as Go parses one (kubo is Go), `?flag` alone being true.
    fn flag(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(default),
            Some("" | "1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(other) => Err(ApiError::bad(format!(
                "{key}={} is not a boolean",
                shown(other)
            ))),
        }
    }

    /// The first `arg`, a CID: see [`parse_cid`].
    fn cid(&self) -> Result<(String, Cid), ApiError> {
        let text = self
            .get("arg")
            .ok_or_else(|| ApiError::bad("argument \"cid\" is required (?arg=<cid>)"))?;
        parse_cid(text)
    }
}

/// User input in a message, cut short.
fn shown(text: &str) -> String {
    let cut: String = text.chars().take(100).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// A CID argument (an `/ipfs/` prefix allowed) as given, and the CID it is
/// stored under: a CIDv0 is the same dag-pb block as its CIDv1, which the
/// store names it by.
fn parse_cid(text: &str) -> Result<(String, Cid), ApiError> {
    let trimmed = text.trim();
    let bare = trimmed.strip_prefix("/ipfs/").unwrap_or(trimmed);
    if bare.contains('/') {
        return Err(ApiError::bad(format!(
            "{}: paths below a CID are not supported, give the CID alone",
            shown(text)
        )));
    }
    let cid: Cid = bare
        .parse()
        .map_err(|e| ApiError::bad(format!("{} is not a CID: {e}", shown(text))))?;
    let key = match cid.version() {
        cid::Version::V0 => Cid::new_v1(DAG_PB, *cid.hash()),
        cid::Version::V1 => cid,
    };
    Ok((bare.to_string(), key))
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::internal("the request's worker stopped unexpectedly"))?
}

async fn version() -> Json<Value> {
    Json(json!({
        "Version": env!("CARGO_PKG_VERSION"),
        "Commit": "",
        "Repo": "careledger-embedded",
        "System": format!("{}/{}", std::env::consts::ARCH, std::env::consts::OS),
    }))
}

/// There is no libp2p here; the ID only has a peer ID's shape (a sha2-256
/// multihash, as an RSA key's is) for clients that parse it, derived from the
/// store's path so that it is stable.
async fn id(State(api): State<Arc<Api>>) -> Result<Json<Value>, ApiError> {
    let digest: [u8; 32] = Sha256::digest(api.store.to_string_lossy().as_bytes()).into();
    let hash = Multihash::<64>::wrap(SHA2_256, &digest)
        .map_err(|e| ApiError::internal(format!("peer id: {e}")))?;
    let encoded = cid::multibase::encode(cid::multibase::Base::Base58Btc, hash.to_bytes());
    Ok(Json(json!({
        "ID": encoded.trim_start_matches('z'),
        "Addresses": [],
        "AgentVersion": format!("careledger/{} (embedded store, no peers)", env!("CARGO_PKG_VERSION")),
        "Protocols": [],
    })))
}

/// The codec of `block/put` (`cid-codec`, or the older `format`), and whether
/// to answer with a CIDv0 (`format=v0`).
fn put_codec(args: &Args) -> Result<(u64, bool), ApiError> {
    let given = args.get("cid-codec").or_else(|| args.get("format"));
    match given.unwrap_or("raw") {
        "raw" => Ok((RAW, false)),
        "dag-pb" | "protobuf" => Ok((DAG_PB, false)),
        "v0" => Ok((DAG_PB, true)),
        other => Err(ApiError::bad(format!(
            "cid-codec {} is not supported: raw or dag-pb",
            shown(other)
        ))),
    }
}

/// Multipart bodies: one file part, as kubo's clients send it.
fn form(form: Result<Multipart, MultipartRejection>) -> Result<Multipart, ApiError> {
    form.map_err(|e| {
        ApiError::bad(format!(
            "expected a multipart/form-data body with one file part ({})",
            e.body_text()
        ))
    })
}

async fn first_part<'f>(
    form: &'f mut Multipart,
    what: &str,
    max: u64,
) -> Result<Field<'f>, ApiError> {
    let field = form
        .next_field()
        .await
        .map_err(|e| part_error(e, what, max))?
        .ok_or_else(|| ApiError::bad("the multipart body has no file part"))?;
    if field.content_type() == Some("application/x-directory") {
        return Err(ApiError::bad(
            "directories are not supported: send one file per request",
        ));
    }
    Ok(field)
}

async fn no_more_parts(form: &mut Multipart, what: &str, max: u64) -> Result<(), ApiError> {
    match form
        .next_field()
        .await
        .map_err(|e| part_error(e, what, max))?
    {
        None => Ok(()),
        Some(_) => Err(ApiError::bad(format!(
            "one {what} per request: the body has more than one part"
        ))),
    }
}

fn part_error(e: MultipartError, what: &str, max: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(what, max)
    } else {
        ApiError::bad(format!("malformed multipart body: {}", e.body_text()))
    }
}

async fn block_put(
    State(api): State<Arc<Api>>,
    uri: Uri,
    body: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, ApiError> {
    let args = Args::of(&uri);
    let (codec, v0) = put_codec(&args)?;
    if let Some(mh) = args.get("mhtype").filter(|m| *m != "sha2-256") {
        return Err(ApiError::bad(format!(
            "mhtype {} is not supported: sha2-256 only",
            shown(mh)
        )));
    }
    if let Some(len) = args.get("mhlen").filter(|l| !matches!(*l, "-1" | "32")) {
        return Err(ApiError::bad(format!(
            "mhlen {} is not supported: sha2-256 is 32 bytes",
            shown(len)
        )));
    }
    let mut form = form(body)?;
    let mut field = first_part(&mut form, "block", BLOCK_MAX).await?;
    let mut block = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| part_error(e, "block", BLOCK_MAX))?
    {
        if (block.len() + chunk.len()) as u64 > BLOCK_MAX {
            return Err(ApiError::too_large("block", BLOCK_MAX));
        }
        block.extend_from_slice(&chunk);
    }
    drop(field);
    no_more_parts(&mut form, "block", BLOCK_MAX).await?;
    if codec == DAG_PB {
        dagpb::check(&block).map_err(|e| ApiError::bad(format!("not a dag-pb block: {e}")))?;
    }
    let digest: [u8; 32] = Sha256::digest(&block).into();
    let hash = Multihash::<64>::wrap(SHA2_256, &digest)
        .map_err(|e| ApiError::internal(format!("multihash: {e}")))?;
    let cid = Cid::new_v1(codec, hash);
    let key = if v0 {
        Cid::new_v0(hash)
            .map_err(|e| ApiError::internal(format!("CIDv0: {e}")))?
            .to_string()
    } else {
        cid.to_string()
    };
    let size = block.len();
    let dir = api.store.clone();
    blocking(move || {
        let mut store = FsBlockStore::open(&dir)?;
        store.put(&cid, &block)?;
        store.sync()?;
        Ok(())
    })
    .await?;
    Ok(Json(json!({"Key": key, "Size": size})))
}

async fn block_get(State(api): State<Arc<Api>>, uri: Uri) -> Result<Response, ApiError> {
    let (_, cid) = Args::of(&uri).cid()?;
    let dir = api.store.clone();
    let block = blocking(move || Ok(FsBlockStore::open(&dir)?.get(&cid)?)).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], block).into_response())
}

async fn block_stat(State(api): State<Arc<Api>>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let (given, cid) = Args::of(&uri).cid()?;
    let dir = api.store.clone();
    let size = blocking(move || Ok(FsBlockStore::open(&dir)?.get(&cid)?.len())).await?;
    Ok(Json(json!({"Key": given, "Size": size})))
}

/// Streams the UnixFS file: the root and the first piece are read (or refused
/// with a JSON error) before the answer starts; a block found missing later cuts
/// the stream short, so a client sees a failed transfer, never a short file
/// that looks whole.
async fn cat(State(api): State<Arc<Api>>, uri: Uri) -> Result<Response, ApiError> {
    let args = Args::of(&uri);
    let (_, cid) = args.cid()?;
    for option in ["offset", "length"] {
        if args.get(option).is_some() {
            return Err(ApiError::bad(format!(
                "{option} is not supported: cat sends the whole file"
            )));
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let (opened_tx, opened) = tokio::sync::oneshot::channel();
    let dir = api.store.clone();
    tokio::task::spawn_blocking(move || stream_file(&dir, &cid, opened_tx, tx));
    opened
        .await
        .map_err(|_| ApiError::internal("the request's worker stopped unexpectedly"))??;
    // The first piece too before answering: a DAG missing its first leaf (the
    // usual incomplete one) gets a JSON error rather than a broken stream.
    let mut first = match rx.recv().await {
        Some(Err(e)) => return Err(ApiError::internal(e.to_string())),
        first => first,
    };
    let stream = futures_util::stream::poll_fn(move |cx| match first.take() {
        Some(piece) => std::task::Poll::Ready(Some(piece)),
        None => rx.poll_recv(cx),
    });
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from_stream(stream),
    )
        .into_response())
}

fn stream_file(
    dir: &Path,
    cid: &Cid,
    opened: tokio::sync::oneshot::Sender<Result<(), ApiError>>,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    let open = || -> Result<_, ApiError> {
        let store = FsBlockStore::open(dir)?;
        let root = store.get(cid)?;
        let declared = if cid.codec() == RAW {
            Some(root.len() as u64)
        } else {
            dagpb::file_size(&root)
        };
        if declared.is_some_and(|size| size > CAT_MAX) {
            return Err(ApiError::too_large("file", CAT_MAX));
        }
        Ok(store)
    };
    let store = match open() {
        Ok(store) => store,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    let mut reader = match FileReader::open(cid, &store) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = opened.send(Err(e.into()));
            return;
        }
    };
    if opened.send(Ok(())).is_err() {
        return;
    }
    let mut buf = vec![0u8; 256 << 10];
    let mut sent = 0u64;
    loop {
        let item = match reader.read(&mut buf) {
            Ok(0) => return,
            // A root that understated its size: cut the stream, never send more.
            Ok(n) if sent + n as u64 > CAT_MAX => Err(std::io::Error::other(format!(
                "the file is over {} MiB, the most this server sends",
                CAT_MAX >> 20
            ))),
            Ok(n) => {
                sent += n as u64;
                Ok(Bytes::copy_from_slice(&buf[..n]))
            }
            Err(e) => Err(std::io::Error::other(VaultError::from_io(e).to_string())),
        };
        let failed = item.is_err();
        if tx.blocking_send(item).is_err() || failed {
            return;
        }
    }
}

/// Options of `add` that would change the CID: only the vault's layout is
/// offered (CIDv1, raw leaves, sha2-256, 256 KiB chunks, balanced), so a client
/// asking for another gets an error rather than a CID it did not expect.
const ADD_LAYOUT: [(&str, &[&str]); 8] = [
    ("cid-version", &["1"]),
    ("raw-leaves", &["", "true"]),
    ("hash", &["sha2-256"]),
    ("chunker", &["size-262144"]),
    ("trickle", &["false"]),
    ("wrap-with-directory", &["false"]),
    ("only-hash", &["false"]),
    ("inline", &["false"]),
];

/// What the blocking writer of `add` is sent.
enum Piece {
    Data(Bytes),
    End,
}

async fn add(
    State(api): State<Arc<Api>>,
    uri: Uri,
    body: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let args = Args::of(&uri);
    for (option, allowed) in ADD_LAYOUT {
        if let Some(value) = args.get(option).filter(|v| !allowed.contains(v)) {
            return Err(ApiError::bad(format!(
                "{option}={} is not supported: files are added as CIDv1 with raw leaves, \
                 sha2-256, 256 KiB chunks, balanced layout",
                shown(value)
            )));
        }
    }
    let mut form = form(body)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(8);
    let dir = api.store.clone();
    let writer = tokio::task::spawn_blocking(move || write_dag(&dir, rx));
    let (name, upload) = upload(&mut form, tx).await;
    let written = writer
        .await
        .map_err(|_| ApiError::internal("the request's worker stopped unexpectedly"));
    upload?;
    let (cid, size) = written??.ok_or_else(|| ApiError::internal("the upload was cut short"))?;
    let name = name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| cid.to_string());
    // kubo's answer is newline-delimited JSON; Size (the DAG's) is a string there.
    let line = json!({"Name": name, "Hash": cid.to_string(), "Size": size.to_string()});
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        format!("{line}\n"),
    )
        .into_response())
}

/// Sends the one file part to the writer, then `End` if all went well (the
/// writer drops a DAG it was not told is complete). Returns the part's name.
async fn upload(
    form: &mut Multipart,
    tx: tokio::sync::mpsc::Sender<Piece>,
) -> (Option<String>, Result<(), ApiError>) {
    let mut field = match first_part(form, "file", ADD_MAX).await {
        Ok(field) => field,
        Err(e) => return (None, Err(e)),
    };
    let name = field.file_name().or(field.name()).map(|n| {
        percent_encoding::percent_decode_str(n)
            .decode_utf8_lossy()
            .into_owned()
    });
    let mut total = 0u64;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return (name, Err(part_error(e, "file", ADD_MAX))),
        };
        total += chunk.len() as u64;
        if total > ADD_MAX {
            return (name, Err(ApiError::too_large("file", ADD_MAX)));
        }
        if tx.send(Piece::Data(chunk)).await.is_err() {
            // The writer failed: its error is the answer.
            return (name, Ok(()));
        }
    }
    drop(field);
    if let Err(e) = no_more_parts(form, "file", ADD_MAX).await {
        return (name, Err(e));
    }
    let _ = tx.send(Piece::End).await;
    (name, Ok(()))
}

/// Builds the DAG as pieces arrive; `None` if the upload ended without `End`.
/// Blocks of an aborted upload may stay in the store, unreferenced, as any
/// content-addressed store keeps what it was given.
fn write_dag(
    dir: &Path,
    mut rx: tokio::sync::mpsc::Receiver<Piece>,
) -> Result<Option<(Cid, u64)>, VaultError> {
    let mut store = Counted {
        inner: FsBlockStore::open(dir)?,
        bytes: 0,
    };
    let mut dag = DagWriter::new(&mut store);
    while let Some(piece) = rx.blocking_recv() {
        match piece {
            Piece::Data(bytes) => dag.write_all(&bytes).map_err(VaultError::from_io)?,
            Piece::End => {
                let cid = dag.finish()?;
                return Ok(Some((cid, store.bytes)));
            }
        }
    }
    Ok(None)
}

/// A store that adds up the bytes of the blocks put: for a UnixFS DAG built
/// leaf by leaf, the cumulative size kubo reports (every block counted where it
/// sits in the tree, repeated chunks included).
struct Counted<S> {
    inner: S,
    bytes: u64,
}

impl<S: BlockStore> BlockStore for Counted<S> {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), VaultError> {
        self.bytes += block.len() as u64;
        self.inner.put(cid, block)
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>, VaultError> {
        self.inner.get(cid)
    }

    fn sync(&mut self) -> Result<(), VaultError> {
        self.inner.sync()
    }
}

/// `Pins` if the whole DAG (with `recursive=false`, the root) is here: blocks
/// are never collected, so that is all pinning means for this store.
async fn pin_add(State(api): State<Arc<Api>>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let args = Args::of(&uri);
    let recursive = args.flag("recursive", true)?;
    let given = args
        .all("arg")
        .map(parse_cid)
        .collect::<Result<Vec<_>, _>>()?;
    if given.is_empty() {
        return Err(ApiError::bad("argument \"cid\" is required (?arg=<cid>)"));
    }
    let names: Vec<String> = given.iter().map(|(name, _)| name.clone()).collect();
    let dir = api.store.clone();
    blocking(move || {
        let store = FsBlockStore::open(&dir)?;
        for (name, cid) in &given {
            let complete = if recursive {
                ipfs::export_car(cid, &store, std::io::sink())
            } else {
                store.get(cid).map(|_| ())
            };
            complete.map_err(|e| {
                ApiError::internal(format!(
                    "cannot pin {name}: {e} (this server has no peers to fetch it from)"
                ))
            })?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(json!({ "Pins": names })))
}
