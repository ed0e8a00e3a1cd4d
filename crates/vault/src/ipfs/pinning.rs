//! A client for the IPFS Pinning Service API (v1.0.0 of the spec at
//! ipfs.github.io/pinning-services-api-spec), the API that pinning services,
//! Filecoin-backed ones included, implement: ask a service to keep a DAG,
//! watch the request until the DAG is pinned, list and remove requests.
//!
//! The service only ever sees CIDs of ciphertexts (and the names given here:
//! keep PHI out of them).

use super::http::{self, error_body, one_line, Limits};
use crate::Error;
use cid::Cid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use ureq::http::Response;
use ureq::Body;

/// Requests and answers are a few kilobytes of JSON: each is held to this.
const DEFAULT_LIMITS: Limits = Limits {
    idle: Duration::from_secs(30),
    total: Duration::from_secs(30),
};
/// A `list` of the spec's maximum 1000 results fits well inside this.
const JSON_LIMIT: u64 = 8 << 20;
/// The spec's limit on CIDs in one `list` filter.
const MAX_CID_FILTER: usize = 10;

/// Where a pin request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting in the service's queue.
    Queued,
    /// The service is fetching the DAG.
    Pinning,
    /// The whole DAG is pinned.
    Pinned,
    /// The service gave up; `info["status_details"]` may say why.
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Pinning => "pinning",
            Status::Pinned => "pinned",
            Status::Failed => "failed",
        }
    }
}

/// What to pin: the spec's `Pin` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The root CID, as the service spells it (compare decoded, not as text).
    pub cid: String,
    /// An optional name, up to 255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Multiaddrs of peers that have the DAG (such as our own node).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
    /// Free-form string metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
}

/// A pin request and where it stands: the spec's `PinStatus` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinStatus {
    /// The service's id for this request: what `get`, `remove` and `wait_pinned` take.
    pub requestid: String,
    /// Where the request stands.
    pub status: Status,
    /// When the service accepted the request (RFC 3339).
    pub created: String,
    /// The pin as the service recorded it.
    pub pin: Pin,
    /// Multiaddrs of the service's peers, to connect to for a faster transfer.
    pub delegates: Vec<String>,
    /// Vendor details, such as `status_details`.
    #[serde(default)]
    pub info: BTreeMap<String, String>,
}

/// One page of pin requests: the spec's `PinResults` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinResults {
    /// How many requests match the filters in all (may exceed `results.len()`).
    pub count: u64,
    /// The most recent matching requests, newest first.
    pub results: Vec<PinStatus>,
}

/// A pinning service at one endpoint, with one access token.
#[derive(Clone)]
pub struct PinningClient {
    endpoint: String,
    token: String,
    agent: ureq::Agent,
    limits: Limits,
}

impl std::fmt::Debug for PinningClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential: never in logs.
        f.debug_struct("PinningClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl PinningClient {
    /// A client for the service whose API lives at `endpoint` (the part before
    /// `/pins`), authenticating with `token` as a bearer token.
    pub fn new(endpoint: &str, token: &str) -> Result<Self, Error> {
        let endpoint = http::base_url(endpoint).map_err(Error::Pinning)?;
        if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::Pinning(
                "the access token is empty or not a bearer token".into(),
            ));
        }
        Ok(Self {
            endpoint: endpoint.to_string(),
            token: token.to_string(),
            agent: DEFAULT_LIMITS.agent(),
            limits: DEFAULT_LIMITS,
        })
    }

    /// The same client with every request bounded by `timeout`, from connecting
    /// to the end of the answer (30 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.limits = Limits {
            idle: timeout,
            total: timeout,
        };
        self.agent = self.limits.agent();
        self
    }

    /// Asks the service to pin the DAG under `cid` (`POST /pins`).
    pub fn add_pin(
        &self,
        cid: &Cid,
        name: Option<&str>,
        origins: &[String],
    ) -> Result<PinStatus, Error> {
        let pin = Pin {
            cid: cid.to_string(),
            name: name.map(String::from),
            origins: origins.to_vec(),
            meta: BTreeMap::new(),
        };
        let body = serde_json::to_vec(&pin).map_err(|e| Error::Pinning(e.to_string()))?;
        let resp = self
            .authed(self.agent.post(self.url("/pins")))
            .header("Content-Type", "application/json")
            .send(&body[..]);
        let status: PinStatus = self.json("POST /pins", None, resp)?;
        if status.pin.cid.parse::<Cid>().ok() != Some(*cid) {
            return Err(Error::Pinning(format!(
                "asked to pin {cid}, the service answered for {:?}",
                status.pin.cid
            )));
        }
        Ok(status)
    }

    /// The pin request `requestid` as it stands (`GET /pins/{requestid}`).
    pub fn get(&self, requestid: &str) -> Result<PinStatus, Error> {
        let path = format!("/pins/{}", encode_segment(requestid));
        let resp = self.authed(self.agent.get(self.url(&path))).call();
        self.json(&format!("GET {path}"), Some(requestid), resp)
    }

    /// Pin requests for any of `cids` (at most 10) in any of `statuses`
    /// (`GET /pins`). Empty filters are left out; note that with no status
    /// filter the spec has the service return only pinned requests.
    pub fn list(&self, cids: &[Cid], statuses: &[Status]) -> Result<PinResults, Error> {
        if cids.len() > MAX_CID_FILTER {
            return Err(Error::Pinning(format!(
                "list takes at most {MAX_CID_FILTER} CIDs, not {}",
                cids.len()
            )));
        }
        let mut req = self.authed(self.agent.get(self.url("/pins")));
        // CIDs and status names are plain ASCII: the commas the spec joins them
        // with go unescaped.
        if !cids.is_empty() {
            let list: Vec<String> = cids.iter().map(Cid::to_string).collect();
            req = req.query_raw("cid", list.join(","));
        }
        if !statuses.is_empty() {
            let list: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            req = req.query_raw("status", list.join(","));
        }
        self.json("GET /pins", None, req.call())
    }

    /// Removes the pin request `requestid` (`DELETE /pins/{requestid}`).
    pub fn remove(&self, requestid: &str) -> Result<(), Error> {
        let path = format!("/pins/{}", encode_segment(requestid));
        let resp = self.authed(self.agent.delete(self.url(&path))).call();
        self.checked(&format!("DELETE {path}"), Some(requestid), resp)?;
        Ok(())
    }

    /// Polls `requestid` (from 200 ms apart, doubling to 5 s) until it is
    /// pinned; fails if the service reports `failed` or `timeout` passes.
    pub fn wait_pinned(&self, requestid: &str, timeout: Duration) -> Result<PinStatus, Error> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(200);
        loop {
            let status = self.get(requestid)?;
            match status.status {
                Status::Pinned => return Ok(status),
                Status::Failed => {
                    let why = status.info.get("status_details").map(|d| one_line(d));
                    return Err(Error::Pinning(format!(
                        "pin request {requestid} for {} failed: {}",
                        status.pin.cid,
                        why.as_deref().unwrap_or("the service gave no details")
                    )));
                }
                Status::Queued | Status::Pinning => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Pinning(format!(
                    "pin request {requestid} for {} still {} after {timeout:?}",
                    status.pin.cid,
                    status.status.as_str()
                )));
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint)
    }

    fn authed<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        req.header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json")
    }

    /// A 2xx response's JSON body as `T`.
    fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        requestid: Option<&str>,
        resp: Result<Response<Body>, ureq::Error>,
    ) -> Result<T, Error> {
        let text = self
            .checked(what, requestid, resp)?
            .body_mut()
            .with_config()
            .limit(JSON_LIMIT)
            .read_to_string()
            .map_err(|e| {
                Error::Pinning(format!(
                    "{what}: reading the answer: {}",
                    self.limits.describe(e)
                ))
            })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Pinning(format!("{what}: malformed answer ({e})")))
    }

    /// The response if it is a 2xx; otherwise the spec's `Failure` as an error.
    fn checked(
        &self,
        what: &str,
        requestid: Option<&str>,
        resp: Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>, Error> {
        let mut resp = resp.map_err(|e| {
            Error::Pinning(format!(
                "{what} at {}: {}",
                self.endpoint,
                self.limits.describe(e)
            ))
        })?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let detail = failure(&error_body(&mut resp, 64 << 10));
        Err(match (status, requestid) {
            (401, _) => Error::PinUnauthorized(format!("{what}: {detail}")),
            (404, Some(id)) => Error::PinNotFound(format!("{id:?} ({detail})")),
            _ => Error::Pinning(format!("{what}: HTTP {status}: {detail}")),
        })
    }
}

/// The spec's `{"error": {"reason": …, "details": …}}`, in one line; any other
/// body is quoted as it came.
fn failure(body: &str) -> String {
    #[derive(Deserialize)]
    struct Failure {
        error: Reason,
    }
    #[derive(Deserialize)]
    struct Reason {
        reason: String,
        details: Option<String>,
    }
    match serde_json::from_str::<Failure>(body) {
        Ok(Failure {
            error: Reason {
                reason,
                details: Some(d),
            },
        }) => one_line(&format!("{reason}: {d}")),
        Ok(Failure {
            error: Reason {
                reason,
                details: None,
            },
        }) => one_line(&reason),
        Err(_) => one_line(body),
    }
}

/// Percent-encodes a path segment (request ids are opaque strings).
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
#[path = "pinning_tests.rs"]
mod tests;
