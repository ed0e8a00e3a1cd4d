//! Who may talk to the node from a browser. Any web page can send requests to
//! 127.0.0.1, and the node signs `eth_sendTransaction` for its dev accounts, so,
//! as geth does:
//! - CORS is answered only for the origins a developer allows (`--allow-origin`,
//!   geth's `--http.corsdomain`; `*` for any). Without it a browser sends no
//!   JSON-RPC request at all: `Content-Type: application/json` needs a preflight.
//! - A WebSocket handshake that carries an `Origin` must come from one of those
//!   origins (geth's `--ws.origins`): browsers apply no CORS to WebSockets.
//! - The `Host` header must be an IP address, `localhost` (or a `*.localhost`
//!   name) or a name given with `--allow-host` (geth's `--http.vhosts`), so that
//!   a page on a domain that resolves to 127.0.0.1 (DNS rebinding) is refused.
//!
//! Requests without those headers (curl, alloy, cargo-stylus) are not affected.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// Checked `--allow-origin` and `--allow-host` values.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Lower-cased `scheme://host[:port]` origins.
    origins: Vec<String>,
    any_origin: bool,
    /// Lower-cased host names (no port).
    hosts: Vec<String>,
    any_host: bool,
}

impl Access {
    /// Checks the lists: an origin is `*` or `scheme://host[:port]` (a trailing
    /// slash forgiven); a host is `*` or a name, with or without a port.
    pub fn new(origins: &[String], hosts: &[String]) -> Result<Self, String> {
        let mut access = Access::default();
        for text in origins {
            let origin = text.trim().trim_end_matches('/').to_ascii_lowercase();
            if origin == "*" {
                access.any_origin = true;
                continue;
            }
            let shaped = origin.split_once("://").is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && !rest.is_empty()
                    && !rest.contains(['/', '?', '#', '@', '*', ' ', ','])
            });
            if !shaped {
                return Err(format!(
                    "allowed origin {text:?} is not an origin: give scheme://host[:port], e.g. \
                     http://localhost:5173, or * for any"
                ));
            }
            access.origins.push(origin);
        }
        for text in hosts {
            let host = text.trim().to_ascii_lowercase();
            if host == "*" {
                access.any_host = true;
                continue;
            }
            match host_name(&host) {
                Some(name) if !name.is_empty() && !name.contains(['/', '@', ' ', ',']) => {
                    access.hosts.push(name.to_owned())
                }
                _ => {
                    return Err(format!(
                        "allowed host {text:?} is not a host name: give a name such as \
                         devnode.internal, or * for any"
                    ))
                }
            }
        }
        Ok(access)
    }

    /// Whether a browser page of `origin` may call the node.
    pub fn origin_allowed(&self, origin: &[u8]) -> bool {
        self.any_origin
            || self
                .origins
                .iter()
                .any(|o| o.as_bytes().eq_ignore_ascii_case(origin))
    }

    /// Whether a request for `host` (a `Host` header) may be answered: an IP
    /// address cannot be rebound, a loopback name always means this machine.
    pub fn host_allowed(&self, host: &str) -> bool {
        if self.any_host {
            return true;
        }
        let Some(name) = host_name(host) else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name);
        name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.hosts.iter().any(|h| h == name)
    }

    /// The CORS layer for the allowed origins (none: no CORS header at all).
    pub fn cors(&self) -> CorsLayer {
        let allow = if self.any_origin {
            AllowOrigin::any()
        } else {
            let access = self.clone();
            AllowOrigin::predicate(move |origin, _| access.origin_allowed(origin.as_bytes()))
        };
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods(Any)
            .allow_headers(Any)
            .max_age(Duration::from_secs(600))
    }

    /// Why `req` is refused, if it is.
    fn refusal(&self, req: &HttpRequest) -> Option<String> {
        let headers = req.headers();
        if let Some(host) = headers.get("host") {
            let host = String::from_utf8_lossy(host.as_bytes());
            if !self.host_allowed(&host) {
                return Some(format!(
                    "invalid host specified: {host:?} is not an IP address or a loopback name \
                     (start the node with --allow-host to accept it)"
                ));
            }
        }
        if jsonrpsee::server::ws::is_upgrade_request(req) {
            if let Some(origin) = headers.get("origin") {
                if !self.origin_allowed(origin.as_bytes()) {
                    let origin = String::from_utf8_lossy(origin.as_bytes());
                    return Some(format!(
                        "WebSocket from origin {origin:?} refused (start the node with \
                         --allow-origin {origin} to accept it)"
                    ));
                }
            }
        }
        None
    }
}

/// The name part of a `Host` value: `[v6]` without brackets, or what is before
/// the port. `None` if it is not shaped like a host.
fn host_name(host: &str) -> Option<&str> {
    if let Some(rest) = host.strip_prefix('[') {
        let (ip, port) = rest.split_once(']')?;
        return (port.is_empty() || port.starts_with(':')).then_some(ip);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            Some(name)
        }
        Some(_) => None,
        None => Some(host),
    }
}

/// Tower layer refusing, with HTTP 403, what [`Access`] does not allow.
#[derive(Debug, Clone)]
pub struct GuardLayer(pub Arc<Access>);

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            access: self.0.clone(),
        }
    }
}

/// See [`GuardLayer`].
#[derive(Debug, Clone)]
pub struct Guard<S> {
    inner: S,
    access: Arc<Access>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> Service<HttpRequest> for Guard<S>
where
    S: Service<HttpRequest, Response = HttpResponse>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = HttpResponse;
    type Error = S::Error;
    type Future = BoxFuture<Result<HttpResponse, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        match self.access.refusal(&req) {
            None => Box::pin(self.inner.call(req)),
            Some(message) => {
                tracing::warn!(%message, "request refused");
                Box::pin(std::future::ready(Ok(forbidden(message))))
            }
        }
    }
}

/// A 403 whose body is a JSON-RPC error, for clients that parse every answer.
fn forbidden(message: String) -> HttpResponse {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32000, "message": message },
    });
    let body = HttpBody::from(body.to_string());
    HttpResponse::builder()
        .status(403)
        .header("content-type", "application/json")
        .body(body)
        .unwrap_or_else(|_| HttpResponse::new(HttpBody::from("forbidden")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(origins: &[&str], hosts: &[&str]) -> Access {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Access::new(&s(origins), &s(hosts)).unwrap()
    }

    #[test]
    fn ip_addresses_and_loopback_names_are_accepted_hosts_and_other_names_are_not() {
        let a = access(&[], &[]);
        for ok in [
            "127.0.0.1:8547",
            "127.0.0.1",
            "localhost:8547",
            "LOCALHOST",
            "localhost.:8547",
            "app.localhost:1",
            "[::1]:8547",
            "[::1]",
            "192.168.1.20:8547",
            "0.0.0.0:8547",
        ] {
            assert!(a.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:8547",
            "evil.example",
            "127.0.0.1.evil.example:8547",
            "localhost.evil.example",
            "[::1",
            "a:b:c",
            "localhost:80a",
            "",
        ] {
            assert!(!a.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn allowed_hosts_add_names_and_a_star_accepts_any() {
        let a = access(&[], &["devnode.internal:8547", "Box.LAN"]);
        assert!(a.host_allowed("devnode.internal:8547"));
        assert!(a.host_allowed("devnode.internal"));
        assert!(a.host_allowed("box.lan:1"));
        assert!(!a.host_allowed("other.lan"));
        assert!(access(&[], &["*"]).host_allowed("anything.example:1"));
        assert!(Access::new(&[], &["a/b".into()]).is_err());
    }

    #[test]
    fn origins_are_checked_and_compared_without_case() {
        let a = access(&["http://localhost:5173/", "https://App.example"], &[]);
        assert!(a.origin_allowed(b"http://localhost:5173"));
        assert!(a.origin_allowed(b"https://app.example"));
        assert!(!a.origin_allowed(b"http://localhost:5174"));
        assert!(!a.origin_allowed(b"null"));
        assert!(access(&["*"], &[]).origin_allowed(b"https://any.example"));
        assert!(!access(&[], &[]).origin_allowed(b"http://localhost:5173"));
        for bad in [
            "localhost:5173",
            "http://a/b",
            "http://",
            "http://a,http://b",
        ] {
            assert!(Access::new(&[bad.into()], &[]).is_err(), "{bad}");
        }
    }
}
