//! A remote IPFS node through kubo's HTTP RPC API (`/api/v0`), which kubo and
//! js-ipfs both serve. The node is not trusted: DAGs are built here and sent as
//! CARs, the root the node reports must be the one computed here, and every
//! block read back is checked against its CID, so a lying node is caught.

use super::blockstore::{verify, BlockStore, FsBlockStore};
use super::car::{self, MAX_SECTION};
use super::codec::{DAG_PB, RAW};
use super::http::{self, error_body, one_line, Limits};
use crate::Error;
use cid::Cid;
use std::io::{Read, Write};
use std::time::Duration;
use ureq::http::Response;
use ureq::{Body, SendBody};

/// Whole uploads and downloads of large DAGs must fit in this by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// A node silent this long (connecting, or in the middle of a transfer) is
/// taken for gone by default.
const DEFAULT_IDLE: Duration = Duration::from_secs(60);
/// JSON answers (import results, block/put keys) are small.
const JSON_LIMIT: u64 = 1 << 20;

/// A client for one node's RPC API; also a [`BlockStore`] whose blocks live on
/// the node (`block/put`, `block/get`), checked here against their CIDs.
#[derive(Debug, Clone)]
pub struct KuboClient {
    api: String,
    agent: ureq::Agent,
    limits: Limits,
}

impl KuboClient {
    /// A client for the RPC API at `api_url`, e.g. `http://127.0.0.1:5001`
    /// (with or without `/api/v0`). Nothing is sent until the first call.
    pub fn new(api_url: &str) -> Result<Self, Error> {
        let base = http::base_url(api_url).map_err(Error::Node)?;
        let base = base.strip_suffix("/api/v0").unwrap_or(base);
        let limits = Limits {
            idle: DEFAULT_IDLE,
            total: DEFAULT_TIMEOUT,
        };
        Ok(Self {
            api: format!("{base}/api/v0"),
            agent: limits.agent(),
            limits,
        })
    }

    /// The same client with every request bounded by `timeout` from start to
    /// end (10 minutes by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.limits.total = timeout;
        self.agent = self.limits.agent();
        self
    }

    /// The same client giving up on a node that takes longer than `idle` to
    /// connect, to answer, or to send or take the next bytes of a transfer
    /// (a minute by default; never more than the whole request's timeout).
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.limits.idle = idle;
        self.agent = self.limits.agent();
        self
    }

    /// Sends a single-root CARv1 to `dag/import` (which also pins the root, so
    /// the node confirms it holds the whole DAG); returns the root once the node
    /// has reported that same root back.
    pub fn import(&self, mut input: impl Read) -> Result<Cid, Error> {
        let (frame, roots) = car::read_header(&mut input)?;
        let [root] = roots[..] else {
            return Err(Error::Car(format!(
                "import sends one DAG at a time, this CAR names {} roots",
                roots.len()
            )));
        };
        let (content_type, mut body) = http::multipart(std::io::Cursor::new(frame).chain(input));
        let resp = self
            .agent
            .post(self.url("dag/import"))
            .query("pin-roots", "true")
            .query("timeout", node_timeout(self.limits.total))
            .header("Content-Type", content_type)
            .send(SendBody::from_reader(&mut body));
        let text = self.ok_text("dag/import", resp)?;
        let reported = import_roots(&text)?;
        if reported != [root] {
            return Err(Error::Node(format!(
                "dag/import reported roots {reported:?} for a CAR whose root is {root}"
            )));
        }
        Ok(root)
    }

    /// Sends the DAG under `root` from `store` to the node, streaming the CAR
    /// as it is written (no file, no buffer of the whole DAG).
    pub fn push(&self, root: &Cid, store: &(impl BlockStore + Sync)) -> Result<(), Error> {
        let (reader, writer) = std::io::pipe()?;
        let (imported, exported) = std::thread::scope(|s| {
            let export = s.spawn(move || car::export_car(root, store, writer));
            let imported = self.import(reader);
            let exported = export
                .join()
                .unwrap_or_else(|_| Err(Error::Ipfs("CAR export thread panicked".into())));
            (imported, exported)
        });
        match (exported, imported) {
            // The export's own failure explains a cut-short upload; a broken pipe
            // only echoes the upload's failure, which is then the one to report.
            (Err(e), _) if !is_broken_pipe(&e) => Err(e),
            (_, Err(e)) => Err(e),
            (Err(e), Ok(_)) => Err(e),
            (Ok(()), Ok(got)) if got == *root => Ok(()),
            (Ok(()), Ok(got)) => Err(Error::Node(format!("pushed {root}, node reported {got}"))),
        }
    }

    /// Adds a file to the node with kubo's CID: the DAG is built here (in a
    /// temporary on-disk store, so size is no concern), pushed as a CAR, and
    /// the root the node reports is checked.
    pub fn add_file(&self, data: &mut impl Read) -> Result<Cid, Error> {
        let scratch = Scratch::new()?;
        let mut store = FsBlockStore::open(&scratch.0)?;
        let root = super::add(data, &mut store)?;
        self.push(&root, &store)?;
        Ok(root)
    }

    /// Writes the file under `root` to `out`, fetching block by block and
    /// checking each; returns its size.
    pub fn cat(&self, root: &Cid, out: &mut impl Write) -> Result<u64, Error> {
        super::cat(root, self, out)
    }

    /// Fetches the DAG under `root` as a CAR (`dag/export`) into `store`: only
    /// the blocks the DAG names, each checked against its CID on the way in, up
    /// to the size its root declares (see [`car::import_dag`]). A node that sends
    /// anything else is cut off at its first stray block.
    pub fn export(&self, root: &Cid, store: &mut impl BlockStore) -> Result<(), Error> {
        let resp = self
            .agent
            .post(self.url("dag/export"))
            .query("arg", root.to_string())
            .send_empty();
        let body = self.ok("dag/export", resp)?.into_body();
        let reader = body.into_with_config().limit(u64::MAX).reader();
        car::import_dag(reader, root, store).map_err(|e| match e {
            Error::Io(io) => match self.limits.describe_io(&io) {
                Some(why) => Error::Node(format!("dag/export at {}: {why}", self.api)),
                None => Error::Io(io),
            },
            Error::Car(why) => Error::Node(format!("dag/export of {root}: {why}")),
            other => other,
        })
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/{endpoint}", self.api)
    }

    /// The response if it is a 200; otherwise the node's own message, one line.
    fn ok(
        &self,
        endpoint: &str,
        resp: Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>, Error> {
        let mut resp = resp.map_err(|e| self.failed(endpoint, e))?;
        if resp.status() == 200 {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let body = error_body(&mut resp, 64 << 10);
        // kubo and js-ipfs both answer errors as {"Message": ..., "Code": ..., "Type": "error"}.
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("Message").and_then(|m| m.as_str()).map(one_line))
            .unwrap_or_else(|| one_line(&body));
        Err(Error::Node(format!("{endpoint}: HTTP {status}: {message}")))
    }

    /// The body of a 200 as text (a JSON answer: at most [`JSON_LIMIT`] bytes);
    /// otherwise the error [`Self::ok`] makes of it.
    fn ok_text(
        &self,
        endpoint: &str,
        resp: Result<Response<Body>, ureq::Error>,
    ) -> Result<String, Error> {
        self.ok(endpoint, resp)?
            .body_mut()
            .with_config()
            .limit(JSON_LIMIT)
            .read_to_string()
            .map_err(|e| self.failed(endpoint, e))
    }

    fn failed(&self, endpoint: &str, e: ureq::Error) -> Error {
        Error::Node(format!(
            "{endpoint} at {}: {}",
            self.api,
            self.limits.describe(e)
        ))
    }
}

/// The node's own deadline for a request, a little inside ours, so that a node
/// fetching a block it lacks gives up and says so before we do.
fn node_timeout(ours: Duration) -> String {
    format!("{}ms", (ours.as_millis() * 9 / 10).max(1))
}

impl BlockStore for KuboClient {
    /// `block/put` with the block's codec; the CID the node computes must be `cid`.
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), Error> {
        verify(cid, block)?;
        let format = match (cid.version(), cid.codec()) {
            (cid::Version::V1, RAW) => "raw",
            (cid::Version::V1, DAG_PB) => "dag-pb",
            _ => {
                return Err(Error::Node(format!(
                    "block/put of {cid}: only CIDv1 raw and dag-pb blocks are sent"
                )))
            }
        };
        let (content_type, mut body) = http::multipart(block);
        // `format` + `version` is what js-ipfs reads; kubo takes its legacy
        // `format` as the codec of a CIDv1 and ignores `version`.
        let resp = self
            .agent
            .post(self.url("block/put"))
            .query("format", format)
            .query("version", "1")
            .query("mhtype", "sha2-256")
            .header("Content-Type", content_type)
            .send(SendBody::from_reader(&mut body));
        let text = self.ok_text("block/put", resp)?;
        let key = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("Key").and_then(|k| k.as_str()).map(String::from))
            .ok_or_else(|| {
                Error::Node(format!("block/put: unexpected answer {}", one_line(&text)))
            })?;
        match key.parse::<Cid>() {
            Ok(got) if got == *cid => Ok(()),
            _ => Err(Error::Node(format!(
                "block/put of {cid}: node stored it as {key}"
            ))),
        }
    }

    /// `block/get`, checked against `cid`: a node that lies gets `BlockMismatch`.
    fn get(&self, cid: &Cid) -> Result<Vec<u8>, Error> {
        let resp = self
            .agent
            .post(self.url("block/get"))
            .query("arg", cid.to_string())
            // One block, and the node is silent while it looks for it.
            .query(
                "timeout",
                node_timeout(self.limits.idle.min(self.limits.total)),
            )
            .send_empty();
        let block = match self.ok("block/get", resp) {
            Ok(mut resp) => resp
                .body_mut()
                .with_config()
                .limit(MAX_SECTION)
                .read_to_vec()
                .map_err(|e| self.failed("block/get", e))?,
            Err(Error::Node(msg)) if msg.starts_with("block/get: HTTP") && looks_missing(&msg) => {
                return Err(Error::MissingBlock(cid.to_string()))
            }
            Err(e) => return Err(e),
        };
        verify(cid, &block)?;
        Ok(block)
    }
}

/// kubo says "block was not found locally (offline)" or "ipld: could not find";
/// js-ipfs says "Not Found" or times out asking the network.
fn looks_missing(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["not found", "could not find", "timeout", "timed out"]
        .iter()
        .any(|s| m.contains(s))
}

fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The roots in a `dag/import` answer: one JSON object per line,
/// `{"Root":{"Cid":{"/":"…"},"PinErrorMsg":""}}`, in whatever base the node prints.
fn import_roots(text: &str) -> Result<Vec<Cid>, Error> {
    let mut roots = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|_| {
            Error::Node(format!("dag/import: unexpected answer {}", one_line(line)))
        })?;
        let Some(root) = v.get("Root") else { continue };
        let pin_error = root
            .get("PinErrorMsg")
            .and_then(|m| m.as_str())
            .unwrap_or("");
        let cid = root
            .get("Cid")
            .and_then(|c| c.get("/"))
            .and_then(|c| c.as_str())
            .ok_or_else(|| Error::Node(format!("dag/import: no root CID in {}", one_line(line))))?;
        let cid: Cid = cid
            .parse()
            .map_err(|e| Error::Node(format!("dag/import: bad root CID {cid:?}: {e}")))?;
        if !pin_error.is_empty() {
            return Err(Error::Node(format!(
                "dag/import: node could not pin {cid} (is the DAG complete?): {}",
                one_line(pin_error)
            )));
        }
        roots.push(cid);
    }
    Ok(roots)
}

/// A temporary directory, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Self, Error> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "careledger-kubo-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_answers_are_read_in_any_base_and_pin_errors_surface() {
        let b32 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
        let cid: Cid = b32.parse().unwrap();
        let b58 = cid
            .to_string_of_base(cid::multibase::Base::Base58Btc)
            .unwrap();
        let ok = format!("{{\"Root\":{{\"Cid\":{{\"/\":\"{b58}\"}},\"PinErrorMsg\":\"\"}}}}\n");
        assert_eq!(import_roots(&ok).unwrap(), vec![cid]);
        let bad = format!(
            "{{\"Root\":{{\"Cid\":{{\"/\":\"{b32}\"}},\"PinErrorMsg\":\"missing\\nblock\"}}}}"
        );
        let err = import_roots(&bad).unwrap_err().to_string();
        assert!(
            err.contains("could not pin") && !err.contains('\n'),
            "{err}"
        );
        assert!(import_roots("<html>").is_err());
    }

    #[test]
    fn urls_are_checked_and_unreachable_nodes_fail_fast_in_one_line() {
        assert!(KuboClient::new("ftp://x").is_err());
        if !cfg!(feature = "tls") {
            let err = KuboClient::new("https://node.example")
                .unwrap_err()
                .to_string();
            assert!(err.contains("`tls` feature"), "{err}");
        }
        let client = KuboClient::new("http://127.0.0.1:1/api/v0/")
            .unwrap()
            .with_timeout(Duration::from_secs(5));
        assert_eq!(client.api, "http://127.0.0.1:1/api/v0");
        let cid: Cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
            .parse()
            .unwrap();
        let err = client.get(&cid).unwrap_err().to_string();
        assert!(
            err.starts_with("IPFS node: block/get at http://127.0.0.1:1"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_lying_node_is_caught() {
        use crate::ipfs::testserver::Server;
        let hello: Cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
            .parse()
            .unwrap();
        let other = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
        let server = Server::start(move |req| match req.path.as_str() {
            "/api/v0/block/get" => (200, "application/octet-stream", b"hello w0rld".to_vec()),
            "/api/v0/block/put" => {
                assert_eq!(req.query("format"), Some("raw"));
                assert!(req.body.windows(11).any(|w| w == b"hello world"));
                let key = format!("{{\"Key\":\"{other}\",\"Size\":11}}");
                (200, "application/json", key.into_bytes())
            }
            "/api/v0/dag/import" => {
                let root =
                    format!("{{\"Root\":{{\"Cid\":{{\"/\":\"{other}\"}},\"PinErrorMsg\":\"\"}}}}");
                (200, "application/json", root.into_bytes())
            }
            _ => (
                500,
                "application/json",
                br#"{"Message":"block was not found locally (offline)","Code":0,"Type":"error"}"#
                    .to_vec(),
            ),
        });
        let mut node = KuboClient::new(&server.url).unwrap();
        assert!(matches!(node.get(&hello), Err(Error::BlockMismatch(_))));
        let err = node.put(&hello, b"hello world").unwrap_err().to_string();
        assert_eq!(
            err,
            format!("IPFS node: block/put of {hello}: node stored it as {other}")
        );
        let err = node
            .add_file(&mut &b"hello world"[..])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("for a CAR whose root is {hello}")),
            "{err}"
        );
        let err = node
            .export(&hello, &mut crate::ipfs::MemBlockStore::default())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "IPFS node: dag/export: HTTP 500: block was not found locally (offline)"
        );
    }
}
