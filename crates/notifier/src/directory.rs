//! The contact directory and health over HTTP (axum).
//!
//! An address receives notices only once its owner proved the mailbox (double
//! opt-in):
//!
//! - `POST /v1/contacts` takes a signed `RegisterContact` and answers 202
//!   `{"account", "status": "pending", "expiresAt"}`: the address is stored as a
//!   pending registration (a salted hash of a fresh code, 24 hours, 5 attempts)
//!   and a mail with the code goes to it through the outbox. The account's
//!   confirmed address, if any, keeps the notices until the new one is confirmed.
//! - `POST /v1/contacts/confirm` takes `{"account", "code"}` (the code in any
//!   case, spaces and dashes ignored) and answers 200 `{"account", "status":
//!   "confirmed"}`: the address is now the account's. A wrong code is 403 and
//!   uses one of the 5 attempts; the last one deletes the registration and
//!   answers 429; no registration waiting (never made, expired, used up) is 404.
//!   No signature: the code proves the mailbox and is bound to the account.
//! - `GET /v1/contacts/{account}/status` answers `{"account", "status"}`,
//!   `none`, `pending` (a registration waits for its code, even while an earlier
//!   address is confirmed) or `confirmed`; never the address.
//! - `POST /v1/contacts/remove` takes a signed `RemoveContact` and deletes the
//!   confirmed and the pending address (200 `{"removed": account}`).
//!
//! The signed requests are EIP-712 typed data signed by the account, under the
//! domain ("CareLedger Notifier", "1", chain id, PatientRegistry), with a nonce
//! above every nonce the account used before and an expiry at most
//! `max_request_ttl_secs` ahead: a forged signature is refused with 401, a
//! replay with 409, an expired request with 400. Malformed JSON, account or code
//! is 400.
//! Nonces are u64 (`uint64` in the typed data) everywhere: the JSON may carry one
//! as a number or, for clients whose numbers stop being exact at 2^53, as a
//! decimal string; `GET /v1/contacts/{account}/nonce` answers 409 once the
//! account used u64::MAX, since no nonce is left above it.
//! Addresses are kept in the notifier's database only, never on chain, and
//! neither they nor codes reach the log.
//!
//! A browser app on another origin (the web app) needs CORS: [`cors`] answers
//! preflights and adds Access-Control-Allow-Origin for the configured
//! `cors_origins` only, on every route (GET and POST).

use crate::health::Metrics;
use crate::optin;
use crate::store::{Confirmation, NonceError, Store};
use alloy::primitives::Address;
use alloy::sol_types::Eip712Domain;
use axum::extract::{rejection::JsonRejection, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::Notify;

pub use careledger_contact::{domain, ConfirmRequest, RegisterRequest, RemoveRequest};

/// What the directory's handlers share.
pub struct Directory {
    /// Addresses, pending registrations, nonces, and the outbox for the codes.
    pub store: Arc<Store>,
    /// Counts registrations, confirmations and refused requests.
    pub metrics: Arc<Metrics>,
    /// The EIP-712 domain requests must be signed under ([`domain`]).
    pub domain: Eip712Domain,
    /// The deployment's chain: in `/health` and the confirmation's Message-ID.
    pub chain_id: u64,
    /// How far ahead a signed request may expire, in seconds
    /// (`max_request_ttl_secs`).
    pub max_ttl: u64,
    /// Woken when a confirmation mail was queued.
    pub mailer: Arc<Notify>,
}

/// The directory's routes and `/health`, as the module's doc lists them; CORS
/// is the caller's to add ([`cors`]).
pub fn router(dir: Arc<Directory>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/contacts", post(register))
        .route("/v1/contacts/confirm", post(confirm))
        .route("/v1/contacts/remove", post(remove))
        .route("/v1/contacts/{account}/nonce", get(next_nonce))
        .route("/v1/contacts/{account}/status", get(status))
        .with_state(dir)
}

/// CORS for `origins` (none: no cross-origin access, same-origin use needs none),
/// on all the directory's routes: GET (nonce, status, health) and POST
/// (register, confirm, remove). The requests are JSON, so browsers preflight
/// the POSTs.
pub fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderValue, Method};
    let origins = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect::<Vec<_>>();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

/// The reason goes to the client only: a JSON parser's reason can quote the
/// request (an email address), and addresses stay out of the log.
fn refuse(dir: &Directory, status: StatusCode, reason: &str) -> Response {
    dir.metrics
        .rejected_requests
        .fetch_add(1, Ordering::Relaxed);
    tracing::info!(status = status.as_u16(), "directory request refused");
    (status, Json(json!({ "error": reason }))).into_response()
}

fn internal(e: crate::error::Error) -> Response {
    tracing::error!(error = %e, "directory store failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": "internal error" })),
    )
        .into_response()
}

impl Directory {
    /// Checks expiry and signature; `None` if both hold, else the refusal.
    fn verify(&self, account: Address, expiry: u64, signer: Option<Address>) -> Option<Response> {
        let now = crate::now();
        if expiry <= now {
            return Some(refuse(
                self,
                StatusCode::BAD_REQUEST,
                "the request has expired",
            ));
        }
        if expiry > now + self.max_ttl {
            return Some(refuse(
                self,
                StatusCode::BAD_REQUEST,
                "the request expires too far in the future",
            ));
        }
        if signer != Some(account) {
            return Some(refuse(
                self,
                StatusCode::UNAUTHORIZED,
                "the signature is not the account's",
            ));
        }
        None
    }

    fn replayed(&self, last: u64) -> Response {
        refuse(
            self,
            StatusCode::CONFLICT,
            &format!("nonce already used: the next nonce is above {last}"),
        )
    }
}

async fn register(
    State(dir): State<Arc<Directory>>,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(req)) => req,
        Err(e) => return refuse(&dir, StatusCode::BAD_REQUEST, &e.body_text()),
    };
    // The address's shape only: the reason never echoes it back.
    let valid = req.email.len() <= 254 && req.email.parse::<lettre::Address>().is_ok();
    if !valid {
        return refuse(&dir, StatusCode::BAD_REQUEST, "not an email address");
    }
    if let Some(refusal) = dir.verify(req.account, req.expiry, req.signer(&dir.domain)) {
        return refusal;
    }
    let code = optin::new_code();
    let now = crate::now();
    let mail = optin::mail(
        dir.chain_id,
        req.account,
        req.nonce,
        &code,
        now + optin::TTL_SECS,
    );
    match dir
        .store
        .register_pending(req.account, &req.email, req.nonce, &code, now, &mail)
    {
        Ok(Ok(expires_at)) => {
            dir.metrics.registrations.fetch_add(1, Ordering::Relaxed);
            dir.metrics.mails_queued.fetch_add(1, Ordering::Relaxed);
            dir.mailer.notify_one();
            tracing::info!(account = %req.account, "registration pending: confirmation mail queued");
            (
                StatusCode::ACCEPTED,
                Json(json!({
                    "account": req.account, "status": "pending", "expiresAt": expires_at,
                })),
            )
                .into_response()
        }
        Ok(Err(NonceError::Replayed { last })) => dir.replayed(last),
        Err(e) => internal(e),
    }
}

async fn confirm(
    State(dir): State<Arc<Directory>>,
    body: Result<Json<ConfirmRequest>, JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(req)) => req,
        Err(e) => return refuse(&dir, StatusCode::BAD_REQUEST, &e.body_text()),
    };
    // Malformed, it cannot be the code: refused without using an attempt.
    let Some(code) = optin::normalize_code(&req.code) else {
        return refuse(
            &dir,
            StatusCode::BAD_REQUEST,
            &format!(
                "a confirmation code is {} characters from {}",
                optin::CODE_LENGTH,
                optin::CODE_ALPHABET
            ),
        );
    };
    let account = req.account;
    match dir.store.confirm(account, &code, crate::now()) {
        Ok(Confirmation::Confirmed) => {
            dir.metrics.confirmations.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%account, "address confirmed");
            Json(json!({ "account": account, "status": "confirmed" })).into_response()
        }
        Ok(Confirmation::Wrong { attempts_left }) => refuse(
            &dir,
            StatusCode::FORBIDDEN,
            &format!("wrong code: {attempts_left} attempt(s) left"),
        ),
        Ok(Confirmation::Exhausted) => refuse(
            &dir,
            StatusCode::TOO_MANY_REQUESTS,
            "wrong code, and that was the last attempt: the registration is deleted; register again for a new code",
        ),
        Ok(Confirmation::NotPending) => refuse(
            &dir,
            StatusCode::NOT_FOUND,
            "no registration of this account is waiting for a code (never made, expired or used up): register again",
        ),
        Err(e) => internal(e),
    }
}

async fn remove(
    State(dir): State<Arc<Directory>>,
    body: Result<Json<RemoveRequest>, JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(req)) => req,
        Err(e) => return refuse(&dir, StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if let Some(refusal) = dir.verify(req.account, req.expiry, req.signer(&dir.domain)) {
        return refusal;
    }
    match dir
        .store
        .remove_contact(req.account, req.nonce, crate::now())
    {
        Ok(Ok(())) => {
            tracing::info!(account = %req.account, "addresses removed");
            Json(json!({ "removed": req.account })).into_response()
        }
        Ok(Err(NonceError::Replayed { last })) => dir.replayed(last),
        Err(e) => internal(e),
    }
}

async fn next_nonce(State(dir): State<Arc<Directory>>, Path(account): Path<String>) -> Response {
    let Ok(account) = account.parse::<Address>() else {
        return refuse(&dir, StatusCode::BAD_REQUEST, "not an address");
    };
    match dir.store.next_nonce(account) {
        Ok(Some(n)) => Json(json!({ "account": account, "nextNonce": n })).into_response(),
        Ok(None) => refuse(
            &dir,
            StatusCode::CONFLICT,
            "this account used the largest nonce (2^64 - 1): its entry can no longer change",
        ),
        Err(e) => internal(e),
    }
}

async fn status(State(dir): State<Arc<Directory>>, Path(account): Path<String>) -> Response {
    let Ok(account) = account.parse::<Address>() else {
        return refuse(&dir, StatusCode::BAD_REQUEST, "not an address");
    };
    match dir.store.contact_status(account, crate::now()) {
        Ok(s) => Json(json!({ "account": account, "status": s.as_str() })).into_response(),
        Err(e) => internal(e),
    }
}

async fn health(State(dir): State<Arc<Directory>>) -> Response {
    match dir.metrics.health(&dir.store, dir.chain_id) {
        Ok(h) => Json(h).into_response(),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::{local::PrivateKeySigner, SignerSync};
    use alloy::transports::http::reqwest;
    use serde_json::Value;

    const APP: &str = "http://app.example";

    /// A directory on a loopback port, CORS for [`APP`].
    struct Served {
        _dir: tempfile::TempDir,
        store: Arc<Store>,
        url: String,
        domain: Eip712Domain,
        http: reqwest::Client,
    }

    async fn serve() -> Served {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("n.sqlite")).unwrap());
        let d = domain(412_346, Address::repeat_byte(0xbb));
        let directory = Arc::new(Directory {
            store: store.clone(),
            metrics: Arc::new(Metrics::default()),
            domain: d.clone(),
            chain_id: 412_346,
            max_ttl: 3600,
            mailer: Arc::new(Notify::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = router(directory).layer(cors(&[APP.to_string()]));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Served {
            _dir: dir,
            store,
            url,
            domain: d,
            http: reqwest::Client::new(),
        }
    }

    impl Served {
        async fn call(&self, method: &str, path: &str, body: Option<String>) -> (u16, Value) {
            let url = format!("{}{path}", self.url);
            let req = match method {
                "GET" => self.http.get(url),
                _ => self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.unwrap_or_default()),
            };
            let answer = req.send().await.unwrap();
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }

        async fn register(
            &self,
            signer: &PrivateKeySigner,
            email: &str,
            nonce: u64,
        ) -> (u16, Value) {
            let account = signer.address();
            let expiry = crate::now() + 300;
            let hash = RegisterRequest::signing_hash(account, email, nonce, expiry, &self.domain);
            let req = RegisterRequest {
                account,
                email: email.into(),
                nonce,
                expiry,
                signature: signer.sign_hash_sync(&hash).unwrap().as_bytes().into(),
            };
            self.call(
                "POST",
                "/v1/contacts",
                Some(serde_json::to_string(&req).unwrap()),
            )
            .await
        }

        async fn confirm(&self, account: Address, code: &str) -> (u16, Value) {
            let body = json!({ "account": account, "code": code }).to_string();
            self.call("POST", "/v1/contacts/confirm", Some(body)).await
        }

        async fn status(&self, account: Address) -> String {
            let (code, body) = self
                .call("GET", &format!("/v1/contacts/{account}/status"), None)
                .await;
            assert_eq!(code, 200, "{body}");
            assert_eq!(
                body.as_object().unwrap().len(),
                2,
                "account and status only: {body}"
            );
            assert_eq!(body["account"], json!(account));
            body["status"].as_str().unwrap().to_string()
        }

        /// The code in the confirmation mail waiting for `email`.
        fn mailed_code(&self, email: &str) -> String {
            let due = self.store.due(crate::now(), 100).unwrap();
            let mail = due
                .iter()
                .rev()
                .find(|m| m.email == email && m.message_id.starts_with("<confirm."))
                .expect("a confirmation mail");
            let at = mail.body.find("Confirmation code: ").unwrap() + "Confirmation code: ".len();
            mail.body[at..at + optin::CODE_LENGTH].to_string()
        }
    }

    #[tokio::test]
    async fn the_double_opt_in_answers_with_its_status_codes() {
        let s = serve().await;
        let signer = PrivateKeySigner::random();
        let account = signer.address();
        assert_eq!(s.status(account).await, "none");
        assert_eq!(s.call("GET", "/v1/contacts/0xzz/status", None).await.0, 400);

        let (code, body) = s.register(&signer, "d@example.org", 0).await;
        assert_eq!(code, 202, "{body}");
        assert_eq!(body["status"], "pending");
        assert_eq!(body["account"], json!(account));
        let expires = body["expiresAt"].as_u64().unwrap();
        assert!(
            expires.abs_diff(crate::now() + optin::TTL_SECS) <= 5,
            "{body}"
        );
        assert!(!body.to_string().contains("d@example.org"));
        assert_eq!(s.status(account).await, "pending");
        assert!(!s.store.has_contact(account).unwrap());
        assert_eq!(
            s.register(&signer, "d@example.org", 0).await.0,
            409,
            "a replay"
        );
        let mailed = s.mailed_code("d@example.org");

        // Malformed: 400, and no attempt used.
        for bad in [
            "{".to_string(),
            json!({ "account": "0x12", "code": mailed }).to_string(),
            json!({ "account": account, "code": mailed, "email": "x@example.org" }).to_string(),
            json!({ "account": account }).to_string(),
        ] {
            let (code, body) = s
                .call("POST", "/v1/contacts/confirm", Some(bad.clone()))
                .await;
            assert_eq!(code, 400, "{bad}: {body}");
            assert!(body["error"].is_string(), "{body}");
        }
        let (code, body) = s.confirm(account, "NOT-A-CODE-0").await;
        assert_eq!(code, 400, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("8 characters"),
            "{body}"
        );

        let wrong = if mailed == "AAAAAAAA" {
            "BBBBBBBB"
        } else {
            "AAAAAAAA"
        };
        let (code, body) = s.confirm(account, wrong).await;
        assert_eq!(code, 403, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("4 attempt(s) left"),
            "{body}"
        );
        // Lower case, with a dash and a space: the same code.
        let typed = format!("{}-{} ", &mailed[..4].to_lowercase(), &mailed[4..]);
        let (code, body) = s.confirm(account, &typed).await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(body, json!({ "account": account, "status": "confirmed" }));
        assert_eq!(s.status(account).await, "confirmed");
        assert!(s.store.has_contact(account).unwrap());
        assert_eq!(s.confirm(account, &mailed).await.0, 404, "used");
        let stranger = Address::repeat_byte(0x77);
        assert_eq!(
            s.confirm(stranger, &mailed).await.0,
            404,
            "bound to the account"
        );

        // A new address: pending, the old one still confirmed; five wrong codes end it.
        assert_eq!(s.register(&signer, "new@example.org", 1).await.0, 202);
        assert_eq!(s.status(account).await, "pending");
        let fresh = s.mailed_code("new@example.org");
        let wrong = if fresh == "AAAAAAAA" {
            "BBBBBBBB"
        } else {
            "AAAAAAAA"
        };
        for left in (1..optin::ATTEMPTS).rev() {
            let (code, body) = s.confirm(account, wrong).await;
            assert_eq!(code, 403, "{body}");
            assert!(
                body["error"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("{left} attempt")),
                "{body}"
            );
        }
        let (code, body) = s.confirm(account, wrong).await;
        assert_eq!(code, 429, "{body}");
        assert!(body["error"].is_string());
        assert_eq!(s.confirm(account, &fresh).await.0, 404, "deleted");
        assert_eq!(
            s.status(account).await,
            "confirmed",
            "the old address stays"
        );

        // A removal takes the confirmed and a pending address.
        assert_eq!(s.register(&signer, "third@example.org", 2).await.0, 202);
        let expiry = crate::now() + 300;
        let hash = RemoveRequest::signing_hash(account, 3, expiry, &s.domain);
        let remove = json!({
            "account": account, "nonce": 3, "expiry": expiry,
            "signature": alloy::hex::encode_prefixed(signer.sign_hash_sync(&hash).unwrap().as_bytes()),
        });
        let (code, body) = s
            .call("POST", "/v1/contacts/remove", Some(remove.to_string()))
            .await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(s.status(account).await, "none");
        let third = json!({ "account": account, "code": "AAAAAAAA" }).to_string();
        assert_eq!(
            s.call("POST", "/v1/contacts/confirm", Some(third)).await.0,
            404
        );
    }

    /// The new routes answer CORS for the configured origin like the old ones.
    #[tokio::test]
    async fn cors_covers_confirm_and_status() {
        let s = serve().await;
        let allowed = |r: &reqwest::Response| {
            r.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_string())
        };
        let preflight = s
            .http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/contacts/confirm", s.url),
            )
            .header("origin", APP)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status().as_u16(), 200);
        assert_eq!(allowed(&preflight).as_deref(), Some(APP));
        let methods = preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let status = s
            .http
            .get(format!("{}/v1/contacts/{}/status", s.url, Address::ZERO))
            .header("origin", APP)
            .send()
            .await
            .unwrap();
        assert_eq!(allowed(&status).as_deref(), Some(APP));
        let elsewhere = s
            .http
            .get(format!("{}/v1/contacts/{}/status", s.url, Address::ZERO))
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(allowed(&elsewhere), None);
    }

    /// A signed request with a nonce above 2^53 or near u64::MAX survives the
    /// JSON the clients post (as a number or a decimal string) with its exact
    /// value, so its signature still recovers the account.
    #[test]
    fn large_nonces_round_trip_through_json_and_the_signature() {
        let signer = PrivateKeySigner::random();
        let account = signer.address();
        let d = domain(412_346, Address::repeat_byte(0xbb));
        for nonce in [
            (1u64 << 53) + 1,
            i64::MAX as u64 + 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let hash = RegisterRequest::signing_hash(account, "d@example.org", nonce, 9, &d);
            let req = RegisterRequest {
                account,
                email: "d@example.org".into(),
                nonce,
                expiry: 9,
                signature: signer.sign_hash_sync(&hash).unwrap().as_bytes().into(),
            };
            let text = serde_json::to_string(&req).unwrap();
            assert!(text.contains(&format!("\"nonce\":{nonce},")), "{text}");
            let back: RegisterRequest = serde_json::from_str(&text).unwrap();
            assert_eq!(back.nonce, nonce);
            assert_eq!(back.signer(&d), Some(account));
            let quoted = text.replace(&format!(":{nonce},"), &format!(":\"{nonce}\","));
            let back: RegisterRequest = serde_json::from_str(&quoted).unwrap();
            assert_eq!((back.nonce, back.signer(&d)), (nonce, Some(account)));

            let hash = RemoveRequest::signing_hash(account, nonce, 9, &d);
            let remove = serde_json::json!({
                "account": account, "nonce": nonce.to_string(), "expiry": 9,
                "signature": alloy::hex::encode_prefixed(signer.sign_hash_sync(&hash).unwrap().as_bytes()),
            });
            let back: RemoveRequest = serde_json::from_value(remove).unwrap();
            assert_eq!((back.nonce, back.signer(&d)), (nonce, Some(account)));
        }
    }

    #[test]
    fn a_nonce_out_of_range_or_not_decimal_is_refused() {
        let req = |nonce: &str| {
            format!(
                "{{\"account\":\"{}\",\"nonce\":{nonce},\"expiry\":9,\"signature\":\"0x00\"}}",
                Address::ZERO
            )
        };
        for bad in [
            "18446744073709551616",
            "\"18446744073709551616\"",
            "-1",
            "\"-1\"",
            "\"0x10\"",
            "\"+5\"",
            "\"\"",
            "1.5",
            "1e3",
            "null",
        ] {
            assert!(
                serde_json::from_str::<RemoveRequest>(&req(bad)).is_err(),
                "{bad} was accepted"
            );
        }
        let ok: RemoveRequest = serde_json::from_str(&req("\"007\"")).unwrap();
        assert_eq!(ok.nonce, 7);
    }
}
