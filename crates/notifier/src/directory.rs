//! The contact directory and health over HTTP (axum).
//!
//! `POST /v1/contacts` registers an email address for an Ethereum account and
//! `POST /v1/contacts/remove` removes it. Each request is EIP-712 typed data
//! signed by the account, under the domain ("CareLedger Notifier", "1",
//! chain id, PatientRegistry), with a nonce above every nonce the account used
//! before and an expiry at most `max_request_ttl_secs` ahead: a forged
//! signature is refused with 401, a replay with 409, an expired request with 400.
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
        Ok(n) => Json(json!({ "account": account, "nextNonce": n })).into_response(),
        Err(e) => internal(e),
    }
}

async fn health(State(dir): State<Arc<Directory>>) -> Response {
    match dir.metrics.health(&dir.store, dir.chain_id) {
        Ok(h) => Json(h).into_response(),
        Err(e) => internal(e),
    }
}
