//! What the two HTTP clients (kubo RPC, pinning service) share: an agent whose
//! every request has a deadline, multipart bodies that stream, and server text
//! made fit for a one-line error.

use std::io::{Cursor, Read};
use std::time::Duration;

const CONNECT: Duration = Duration::from_secs(10);
/// A peer that sends nothing for this long is treated as gone, whatever the
/// overall deadline: large transfers are fine, stalls are not.
const IDLE: Duration = Duration::from_secs(60);

/// An agent that reports HTTP errors as responses (their bodies explain them)
/// and gives every request at most `timeout` from start to end.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .timeout_connect(Some(CONNECT.min(timeout)))
        .timeout_per_read(Some(IDLE.min(timeout)))
        .timeout_per_write(Some(IDLE.min(timeout)))
        .build()
        .new_agent()
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

/// A transport failure (refused, timed out, reset) in one line.
pub(crate) fn transport(e: ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        other => one_line(&other.to_string()),
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
