//! The contact directory and health over HTTP (axum).
//!
//! `POST /v1/contacts` registers an email address for an Ethereum account and
//! `POST /v1/contacts/remove` removes it. Each request is EIP-712 typed data
//! signed by the account, under the domain ("CareLedger Notifier", "1",
//! chain id, PatientRegistry), with a nonce above every nonce the account used
//! before and an expiry at most `max_request_ttl_secs` ahead: a forged
//! signature is refused with 401, a replay with 409, an expired request with 400.
//! Nonces are u64 (`uint64` in the typed data) everywhere: the JSON may carry one
//! as a number or, for clients whose numbers stop being exact at 2^53, as a
//! decimal string; `GET /v1/contacts/{account}/nonce` answers 409 once the
//! account used u64::MAX, since no nonce is left above it.
//! The address is kept in the notifier's database only, never on chain.
//!
//! A browser app on another origin (the web app) needs CORS: [`cors`] answers
//! preflights and adds Access-Control-Allow-Origin for the configured
//! `cors_origins` only.

use crate::health::Metrics;
use crate::store::{NonceError, Store};
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

pub use careledger_contact::{domain, RegisterRequest, RemoveRequest};

pub struct Directory {
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub domain: Eip712Domain,
    pub chain_id: u64,
    pub max_ttl: u64,
}

pub fn router(dir: Arc<Directory>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/contacts", post(register))
        .route("/v1/contacts/remove", post(remove))
        .route("/v1/contacts/{account}/nonce", get(next_nonce))
        .with_state(dir)
}

/// CORS for `origins` (none: no cross-origin access, same-origin use needs none).
/// The signed requests are JSON, so browsers preflight them.
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

    fn commit(&self, account: Address, email: Option<&str>, nonce: u64) -> Response {
        match self.store.set_contact(account, email, nonce, crate::now()) {
            Ok(Ok(())) => {
                self.metrics.registrations.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%account, registered = email.is_some(), "directory updated");
                let key = if email.is_some() {
                    "registered"
                } else {
                    "removed"
                };
                (StatusCode::OK, Json(json!({ key: account }))).into_response()
            }
            Ok(Err(NonceError::Replayed { last })) => refuse(
                self,
                StatusCode::CONFLICT,
                &format!("nonce already used: the next nonce is above {last}"),
            ),
            Err(e) => internal(e),
        }
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
    dir.commit(req.account, Some(&req.email), req.nonce)
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
    dir.commit(req.account, None, req.nonce)
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
