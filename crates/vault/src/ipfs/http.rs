//! What the two HTTP clients (kubo RPC, pinning service) share: an agent whose
//! every request has deadlines, multipart bodies that stream, and server text
//! made fit for a one-line error.

use std::io::{Cursor, Read};
use std::time::Duration;
use ureq::Timeout;

/// How long a remote service may take: to connect, and to send or take the next
/// bytes (`idle`); and a whole request from start to end (`total`). Stalls are
/// caught by `idle` however long a large transfer is allowed to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub idle: Duration,
    pub total: Duration,
}

impl Limits {
    /// An agent that reports HTTP errors as responses (their bodies explain them)
    /// and holds every request to these limits.
    pub(crate) fn agent(&self) -> ureq::Agent {
        let idle = self.idle.min(self.total);
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(self.total))
            .timeout_connect(Some(idle))
            .timeout_per_read(Some(idle))
            .timeout_per_write(Some(idle))
            .build()
            .new_agent()
    }

    /// A transport failure (refused, timed out, reset) in one line; a timeout
    /// says which limit it was.
    pub(crate) fn describe(&self, e: ureq::Error) -> String {
        match e {
            // A request held to one limit for all of it has simply not been answered.
            ureq::Error::Timeout(Timeout::Global | Timeout::PerCall) if self.total <= self.idle => {
                format!("no answer within {} (timed out)", secs(self.total))
            }
            ureq::Error::Timeout(Timeout::Global | Timeout::PerCall) => {
                format!("not done within {} (timed out)", secs(self.total))
            }
            ureq::Error::Timeout(Timeout::Connect | Timeout::Resolve) => {
                format!("no connection within {} (timed out)", secs(self.idle))
            }
            ureq::Error::Timeout(_) => {
                format!("no answer within {} (timed out)", secs(self.idle))
            }
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                format!("no answer within {} (timed out)", secs(self.idle))
            }
            other => one_line(&other.to_string()),
        }
    }

    /// The same for a failure that came through a body reader as an I/O error;
    /// `None` if it did not come from the transport.
    pub(crate) fn describe_io(&self, e: &std::io::Error) -> Option<String> {
        let inner = e.get_ref()?.downcast_ref::<ureq::Error>()?;
        Some(match inner {
            ureq::Error::Timeout(t) => self.describe(ureq::Error::Timeout(*t)),
            other => one_line(&other.to_string()),
        })
    }
}

/// A duration as people write it: `2 s`, `1.5 s`.
fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// Checks that `url` is http(s) and that https can be served by this build;
/// returns it without a trailing slash.
pub(crate) fn base_url(url: &str) -> Result<&str, String> {
    let url = url.trim().trim_end_matches('/');
    if url.starts_with("https://") && !cfg!(feature = "tls") {
        return Err(format!(
            "{url}: https needs careledger-vault's `tls` feature"
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url:?} is not an http:// or https:// URL"));
    }
    Ok(url)
}

/// `body` as a one-file `multipart/form-data` stream; returns the content type
/// and the stream. The boundary is random, so it cannot occur in the body by
/// accident and the body need not be scanned (or buffered) to choose it.
pub(crate) fn multipart<'a>(body: impl Read + 'a) -> (String, impl Read + 'a) {
    use rand_core::{OsRng, RngCore, UnwrapErr};
    let mut nonce = [0u8; 16];
    UnwrapErr(OsRng).fill_bytes(&mut nonce);
    let boundary: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let stream = Cursor::new(head.into_bytes())
        .chain(body)
        .chain(Cursor::new(tail.into_bytes()));
    (format!("multipart/form-data; boundary={boundary}"), stream)
}

/// Server-supplied text cut to one short line, so it can go into an error.
pub(crate) fn one_line(text: &str) -> String {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(300)
        .collect();
    if flat.is_empty() {
        "(no details)".into()
    } else {
        flat
    }
}

/// Reads at most `limit` bytes of an error body as text.
pub(crate) fn error_body(resp: &mut ureq::http::Response<ureq::Body>, limit: u64) -> String {
    resp.body_mut()
        .with_config()
        .limit(limit)
        .lossy_utf8(true)
        .read_to_string()
        .unwrap_or_default()
}
