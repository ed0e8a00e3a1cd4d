//! The HTTP side of the CLI for a browser app on the same machine: kubo's RPC
//! subset over the embedded block store (`api.rs`), the built app and its
//! configuration (`web.rs`), behind a guard (`guard.rs`). `careledger ipfs serve`
//! and `careledger demo --web` run it.
//!
//! Loopback only: the store is writable and nothing here authenticates, so the
//! listening address, the Host header (DNS rebinding) and the Origin of RPC calls
//! (another site posting to 127.0.0.1) are all checked.

mod api;
mod guard;
mod web;

use crate::error::{Error, Result};
use crate::signals::Stop;
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;

pub use web::AppConfig;

/// What one server serves.
pub struct Options {
    /// The embedded block store's directory (the CLI's `--store`).
    pub store: PathBuf,
    /// Origins (`scheme://host[:port]`) other than the server's own that may call it.
    pub allow_origins: Vec<String>,
    /// The built single-page app, if any.
    pub web: Option<PathBuf>,
    /// Where `/careledger.json` comes from.
    pub app: AppConfig,
}

/// The address to listen on, refused unless it is loopback (`localhost` is
/// taken as 127.0.0.1); `flag` names the option in the error.
pub fn loopback(listen: &str, flag: &str) -> Result<SocketAddr> {
    let text = listen.trim();
    let addr = match text.strip_prefix("localhost:") {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
        None => text.parse::<SocketAddr>().ok(),
    }
    .ok_or_else(|| {
        Error::Usage(format!(
            "{flag} {listen:?} is not an address: give IP:PORT, e.g. 127.0.0.1:5001"
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(Error::Usage(format!(
            "{flag} {addr}: refusing a non-loopback address (the store is writable and \
             unauthenticated); use 127.0.0.1 or [::1]"
        )));
    }
    Ok(addr)
}

/// Binds `addr`; the listener's real address (port 0 picks one) is what to print.
pub async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listen_error = |e: std::io::Error| Error::Listen {
        addr: addr.to_string(),
        reason: e.to_string(),
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(listen_error)?;
    let bound = listener.local_addr().map_err(listen_error)?;
    Ok((listener, bound))
}

/// The whole application: the RPC API, the configuration, the app if any.
pub fn router(opts: Options) -> Result<Router> {
    let origins = guard::origins(&opts.allow_origins)?;
    let security = web::Security::new(&opts.app);
    let mut app = api::routes(opts.store).merge(web::config_route(opts.app));
    app = match opts.web {
        Some(dir) => {
            let files = web::Files::new(dir)?;
            app.fallback(move |method, uri| files.clone().serve(method, uri))
        }
        None => app.fallback(web::not_found),
    };
    // Outermost, so that every answer (the app, its configuration, the API, a
    // refusal) carries the security headers.
    Ok(
        guard::wrap(app, origins).layer(axum::middleware::map_response_with_state(
            security,
            web::secure,
        )),
    )
}

/// Serves until `stop` (SIGTERM or Ctrl-C), then lets the requests in flight finish.
pub async fn run(listener: tokio::net::TcpListener, app: Router, mut stop: Stop) -> Result<()> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.requested().await })
        .await
        .map_err(|e| Error::Listen {
            addr,
            reason: e.to_string(),
        })
}

/// A notifier's base URL for the app: http(s), no trailing slash.
pub fn notifier_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match host {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.into()),
        _ => Err(Error::Usage(format!(
            "--notifier {url:?} is not an http(s) URL"
        ))),
    }
}

/// Prints `line` on stdout and flushes it: scripts wait for it before connecting.
pub fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
