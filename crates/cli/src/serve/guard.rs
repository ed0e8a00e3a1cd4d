//! Who may talk to the server. A browser will send requests to 127.0.0.1 for
//! any page it shows, so, as kubo does, an RPC call that carries an Origin must
//! come from the server's own origin or one given with `--allow-origin`; and the
//! Host must be a loopback name, or a page on a domain that resolves to
//! 127.0.0.1 (DNS rebinding) would count as same-origin. CORS headers go to the
//! allowed origins only.

use super::api::ApiError;
use crate::error::{Error, Result};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// Checks the `--allow-origin` values: `scheme://host[:port]`, a trailing slash
/// forgiven; `*` is refused (the store is writable).
pub(super) fn origins(list: &[String]) -> Result<Vec<HeaderValue>> {
    list.iter()
        .map(|text| {
            let origin = text.trim().trim_end_matches('/');
            let shaped = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && !rest.is_empty()
                    && !rest.contains(['/', '?', '#', '@', '*', ' '])
            });
            shaped
                .then(|| HeaderValue::from_str(origin).ok())
                .flatten()
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--allow-origin {text:?} is not an origin: give scheme://host[:port], \
                         e.g. http://localhost:5173 (no path, no wildcard)"
                    ))
                })
        })
        .collect()
}

/// `app` behind the Host and Origin checks, with CORS for `origins`.
pub(super) fn wrap(app: Router, origins: Vec<HeaderValue>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(Duration::from_secs(600));
    app.layer(cors).layer(axum::middleware::from_fn_with_state(
        Arc::new(origins),
        check,
    ))
}

async fn check(State(allowed): State<Arc<Vec<HeaderValue>>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).map(|h| h.to_str().unwrap_or("?"));
    if let Some(host) = host {
        if !loopback_host(host) {
            return refuse(format!(
                "Host {host:?} is not a loopback name: this server answers only on 127.0.0.1, \
                 [::1] or localhost"
            ));
        }
    }
    if req.uri().path().starts_with("/api/") {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let own = host.is_some_and(|h| origin.as_bytes() == format!("http://{h}").as_bytes());
            if !own && !allowed.contains(origin) {
                let origin = origin.to_str().unwrap_or("?");
                return refuse(format!(
                    "origin {origin} may not call this API: start the server with \
                     --allow-origin {origin}"
                ));
            }
        }
    }
    next.run(req).await
}

fn refuse(message: String) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, message).into_response()
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 or `[::1]`, with or without a port.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, _)) => ip,
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        for ok in [
            "127.0.0.1:5001",
            "localhost",
            "LOCALHOST:80",
            "[::1]:8080",
            "app.localhost:1",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:5001",
            "10.0.0.1:5001",
            "[::2]:1",
            "127.0.0.1.evil.example",
            "[",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn origins_are_checked() {
        let ok = origins(&[
            "http://localhost:5173/".into(),
            "https://app.example".into(),
        ])
        .unwrap();
        assert_eq!(ok[0], "http://localhost:5173");
        for bad in ["*", "localhost:5173", "http://a/b", "ftp://a", "http://"] {
            assert!(origins(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
