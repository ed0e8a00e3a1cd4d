//! `notify register EMAIL`, `notify confirm CODE`, `notify status` and `notify
//! remove`: the account's address in a careledger-notifier's contact directory.
//!
//! Registering and removing are EIP-712 requests signed with the account's key.
//! A registration is a double opt-in: the notifier mails a code to the address,
//! and notices go to it only once `notify confirm CODE` sent the code back
//! (until then an earlier confirmed address keeps them). Confirming and asking
//! the status need no signature: the code is bound to the account.

use crate::chain::time;
use crate::cli::{ConfirmCode, NotifierUrl};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Report;
use alloy::primitives::Address;
use alloy::signers::SignerSync;
use alloy::transports::http::reqwest;
use careledger_contact::{domain, ConfirmRequest, RegisterRequest, RemoveRequest};
use serde_json::{json, Value};

/// How long a signed request stays valid: long enough for a slow network,
/// short enough that a captured one is soon useless (it is also single-use).
const REQUEST_TTL_SECS: u64 = 300;

/// The most of an answer read: the directory's answers are a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A notifier's base URL and an HTTP client with a deadline.
struct Notifier {
    base: String,
    client: reqwest::Client,
    timeout: std::time::Duration,
}

impl Notifier {
    /// A client whose every call, answer included, must be done within `timeout`.
    fn new(notifier: &NotifierUrl, timeout: std::time::Duration) -> Result<Self> {
        let client = crate::context::http_client(timeout)?;
        Ok(Self {
            base: notifier.as_str().to_string(),
            client,
            timeout,
        })
    }

    fn unreachable(&self, e: reqwest::Error) -> Error {
        let reason = if e.is_timeout() {
            format!(
                "no answer within {} s (--timeout or CARELEDGER_TIMEOUT)",
                self.timeout.as_secs_f64()
            )
        } else {
            crate::error::printable(&e.without_url().to_string())
        };
        Error::Unreachable {
            what: "the notifier",
            url: self.base.clone(),
            reason,
        }
    }

    async fn get(&self, path: &str) -> Result<(u16, Value)> {
        let response = self
            .client
            .get(format!("{}/{path}", self.base))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.read_answer(response).await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}/{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.read_answer(response).await
    }

    /// The status and the JSON of an answer, read up to [`MAX_ANSWER_BYTES`]: a
    /// server that is not a notifier cannot make the CLI buffer without end.
    async fn read_answer(&self, mut response: reqwest::Response) -> Result<(u16, Value)> {
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(Error::Notifier(format!(
                    "{}: the answer is over {MAX_ANSWER_BYTES} bytes: not a careledger-notifier",
                    self.base
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    fn not_a_notifier(&self) -> Error {
        Error::Notifier(format!(
            "{} does not answer like a careledger-notifier",
            self.base
        ))
    }
}

/// The notifier's reason for a refusal, or a stand-in.
fn reason(answer: &Value) -> &str {
    answer["error"].as_str().unwrap_or("no reason given")
}

fn refused(status: u16, answer: &Value) -> Error {
    Error::Notifier(format!(
        "the notifier refused the request (HTTP {status}): {}",
        reason(answer)
    ))
}

/// Registers `email` (or removes the addresses when `None`) for the signing account.
pub async fn contact(ctx: &Ctx, notifier: &NotifierUrl, email: Option<&str>) -> Result<Report> {
    let signer = ctx.signer.as_ref().ok_or(Error::NoKey)?;
    let account = signer.address();
    let d = ctx.deployment().await?;
    let n = Notifier::new(notifier, ctx.timeout)?;
    let base = n.base.as_str();
    let (_, nonce_answer) = n.get(&format!("v1/contacts/{account}/nonce")).await?;
    let nonce = nonce_answer["nextNonce"]
        .as_u64()
        .ok_or_else(|| n.not_a_notifier())?;
    let expiry = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_secs())
        .unwrap_or(0)
        + REQUEST_TTL_SECS;
    let domain = domain(d.chain_id, d.patient_registry);
    let (path, body) = match email {
        Some(email) => {
            let hash = RegisterRequest::signing_hash(account, email, nonce, expiry, &domain);
            let signature = sign(signer, hash)?;
            let req = RegisterRequest {
                account,
                email: email.into(),
                nonce,
                expiry,
                signature,
            };
            ("v1/contacts", serde_json::to_value(req))
        }
        None => {
            let hash = RemoveRequest::signing_hash(account, nonce, expiry, &domain);
            let signature = sign(signer, hash)?;
            let req = RemoveRequest {
                account,
                nonce,
                expiry,
                signature,
            };
            ("v1/contacts/remove", serde_json::to_value(req))
        }
    };
    let body = body.expect("plain data serialises");
    let (status, answer) = n.post(path, &body).await?;
    match (email, status) {
        // Double opt-in: pending until the mailed code comes back.
        (Some(email), 202) => {
            let expires_at = answer["expiresAt"].as_u64();
            let mut report = Report::new(json!({
                "account": account, "email": email, "status": "pending",
                "expiresAt": expires_at, "notifier": base,
            }))
            .line(format!("{base} mailed a confirmation code to {email}."))
            .line(format!(
                "Notices go to it once you run: careledger notify confirm CODE --notifier {base}"
            ));
            if let Some(at) = expires_at {
                report = report.line(format!("The code works until {}.", time(at)));
            }
            Ok(report)
        }
        // A notifier from before double opt-in: active at once.
        (Some(_), 200) => Ok(Report::new(json!({
            "account": account, "status": "confirmed", "notifier": base,
        }))
        .line(format!(
            "{base} will email {account}'s notices to the address given"
        ))),
        (None, 200) => Ok(Report::new(json!({
            "account": account, "status": "none", "notifier": base,
        }))
        .line(format!("{base} will no longer email {account}"))),
        _ => Err(refused(status, &answer)),
    }
}

/// Sends back the code mailed for the signing account's pending registration.
pub async fn confirm(ctx: &Ctx, notifier: &NotifierUrl, code: &ConfirmCode) -> Result<Report> {
    let signer = ctx.signer.as_ref().ok_or(Error::NoKey)?;
    let account = signer.address();
    let code = code.as_str().to_string();
    let n = Notifier::new(notifier, ctx.timeout)?;
    let base = n.base.as_str();
    let req =
        serde_json::to_value(ConfirmRequest { account, code }).expect("plain data serialises");
    let (status, answer) = n.post("v1/contacts/confirm", &req).await?;
    let register = format!("careledger notify register EMAIL --notifier {base}");
    match status {
        200 if answer["status"] == "confirmed" => Ok(Report::new(json!({
            "account": account, "status": "confirmed", "notifier": base,
        }))
        .line(format!(
            "Confirmed: {base} emails {account}'s notices to the address the code was mailed to"
        ))),
        200 => Err(n.not_a_notifier()),
        403 => Err(Error::Notifier(format!(
            "the notifier refused the code ({}): check the mail and try again",
            reason(&answer)
        ))),
        404 => Err(Error::Notifier(format!(
            "{base} has no registration of {account} waiting for a code: it expired \
             (codes last 24 hours), was confirmed already or was never made; \
             for a new code run `{register}`"
        ))),
        429 => Err(Error::Notifier(format!(
            "too many wrong codes: {base} deleted the registration; for a new code run `{register}`"
        ))),
        _ => Err(refused(status, &answer)),
    }
}

/// Where `account` (default: the signing account) stands in the directory.
pub async fn status(ctx: &Ctx, notifier: &NotifierUrl, account: Option<Address>) -> Result<Report> {
    let account: Address = match account {
        Some(a) => a,
        None => ctx.signer.as_ref().ok_or(Error::NoKey)?.address(),
    };
    let n = Notifier::new(notifier, ctx.timeout)?;
    let base = n.base.as_str();
    let (code, answer) = n.get(&format!("v1/contacts/{account}/status")).await?;
    if code != 200 {
        return Err(refused(code, &answer));
    }
    let status = answer["status"]
        .as_str()
        .ok_or_else(|| n.not_a_notifier())?;
    let line = match status {
        "none" => format!(
            "{base} has no address for {account}: `careledger notify register EMAIL` to get notices"
        ),
        "pending" => format!(
            "{base} mailed a code for {account}'s new address: `careledger notify confirm CODE` \
             (an address confirmed before keeps the notices until then)"
        ),
        "confirmed" => format!("{base} emails {account}'s notices to a confirmed address"),
        _ => return Err(n.not_a_notifier()),
    };
    Ok(Report::new(json!({ "account": account, "status": status, "notifier": base })).line(line))
}

fn sign(
    signer: &alloy::signers::local::PrivateKeySigner,
    hash: alloy::primitives::B256,
) -> Result<alloy::primitives::Bytes> {
    // A local key signing a hash: a failure is this program's, not the user's.
    let sig = signer
        .sign_hash_sync(&hash)
        .map_err(|e| Error::Internal(format!("signing the request: {e}")))?;
    Ok(sig.as_bytes().to_vec().into())
}

#[cfg(test)]
mod tests {
    //! `confirm` and `status` against a scripted notifier: each answer in words,
    //! reported as the notifier's (not as a usage error), and an answer too long
    //! to be a notifier's is cut off.

    use super::*;
    use alloy::signers::local::PrivateKeySigner;
    use std::io::{BufRead, BufReader, Read, Write};

    /// A server answering every request with `status` and `body`; returns its
    /// URL and the requests it got (request line and body).
    fn scripted(
        status: u16,
        body: String,
    ) -> (NotifierUrl, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut request = vec![0; length];
                reader.read_exact(&mut request).unwrap();
                log.lock().unwrap().push(format!(
                    "{} {}",
                    first.trim(),
                    String::from_utf8_lossy(&request)
                ));
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url.parse().unwrap(), seen)
    }

    fn code(typed: &str) -> ConfirmCode {
        typed.parse().unwrap()
    }

    fn ctx(dir: &std::path::Path, signer: &PrivateKeySigner) -> Ctx {
        crate::context::offline(dir, Some(signer.clone()))
    }

    #[tokio::test]
    async fn confirm_posts_the_normalized_code_and_words_each_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let signer = PrivateKeySigner::random();
        let account = signer.address();
        let ctx = ctx(dir.path(), &signer);

        let ok = json!({"account": account, "status": "confirmed"}).to_string();
        let (url, seen) = scripted(200, ok);
        let report = confirm(&ctx, &url, &code("abcd-efgh ")).await.unwrap();
        assert_eq!(report.json["status"], "confirmed");
        assert_eq!(report.json["account"], json!(account));
        let request = seen.lock().unwrap()[0].clone();
        assert!(
            request.starts_with("POST /v1/contacts/confirm "),
            "{request}"
        );
        assert!(request.contains("\"code\":\"ABCDEFGH\""), "{request}");

        for (status, words) in [
            (403, "refused the code (wrong code: 3 attempt(s) left)"),
            (404, "no registration"),
            (429, "too many wrong codes"),
            (500, "HTTP 500"),
        ] {
            let body = json!({"error": "wrong code: 3 attempt(s) left"}).to_string();
            let (url, _) = scripted(status, body);
            let e = confirm(&ctx, &url, &code("ABCDEFGH")).await.unwrap_err();
            assert!(matches!(e, Error::Notifier(_)), "{status}: {e:?}");
            let e = e.to_string();
            assert!(e.contains(words), "{status}: {e}");
            if status == 404 || status == 429 {
                assert!(e.contains("careledger notify register EMAIL"), "{e}");
            }
        }

        // A malformed code is refused as it is parsed: it never leaves the machine.
        let e = ConfirmCode::parse("0OIL1").unwrap_err();
        assert!(e.contains("8 letters and digits"), "{e}");
    }

    /// Issue 17: a notifier that cannot be reached is named as the notifier, not
    /// as "the node".
    #[tokio::test]
    async fn an_unreachable_notifier_is_named_as_the_notifier() {
        let dir = tempfile::tempdir().unwrap();
        let signer = PrivateKeySigner::random();
        let ctx = ctx(dir.path(), &signer);
        // A port nothing listens on any more: the connection is refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url: NotifierUrl = format!("http://{}", closed.local_addr().unwrap())
            .parse()
            .unwrap();
        drop(closed);
        let e = status(&ctx, &url, None).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Unreachable {
                    what: "the notifier",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("cannot reach the notifier at {url}")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn status_reads_the_three_states_and_bounds_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let signer = PrivateKeySigner::random();
        let ctx = ctx(dir.path(), &signer);
        for state in ["none", "pending", "confirmed"] {
            let (url, seen) = scripted(200, json!({"status": state}).to_string());
            let report = status(&ctx, &url, None).await.unwrap();
            assert_eq!(report.json["status"], state);
            assert!(seen.lock().unwrap()[0]
                .starts_with(&format!("GET /v1/contacts/{}/status ", signer.address())));
        }
        let other = Address::repeat_byte(7);
        let (url, seen) = scripted(200, json!({"status": "none"}).to_string());
        status(&ctx, &url, Some(other)).await.unwrap();
        assert!(seen.lock().unwrap()[0].contains(&other.to_string()));
        let (url, _) = scripted(200, json!({"status": "maybe"}).to_string());
        let e = status(&ctx, &url, None).await.unwrap_err();
        assert!(matches!(e, Error::Notifier(_)), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("does not answer like a careledger-notifier"),
            "{e}"
        );
        // Over 64 KiB: not read to the end.
        let (url, _) = scripted(200, format!("\"{}\"", "x".repeat(MAX_ANSWER_BYTES + 10)));
        let e = status(&ctx, &url, None).await.unwrap_err();
        assert!(matches!(e, Error::Notifier(_)), "{e:?}");
        let e = e.to_string();
        assert!(e.contains("over 65536 bytes"), "{e}");
    }
}
