//! The browser app: its built files (`--web DIR`, a single-page app, so any path
//! that is not a file gets index.html) and `/careledger.json`, the configuration
//! it starts from, read from the deployment file at each request so that a
//! `careledger deploy` made while the server runs is seen.
//!
//! Files are served by hand rather than with tower-http's ServeDir: a dozen
//! content types and a path check are all a loopback app server needs, and
//! ServeDir would bring mime_guess and tokio's `fs` into every build of the CLI.

use crate::deployment::Deployment;
use crate::error::{Error, Result};
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where `/careledger.json` comes from.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The deployment file (the CLI's `--deployment`).
    pub deployment: PathBuf,
    /// The chain's JSON-RPC endpoint, as the browser should reach it.
    pub rpc_url: String,
    /// A careledger-notifier's base URL, if there is one.
    pub notifier: Option<String>,
}

impl AppConfig {
    /// The document the app reads; `ipfsApi` "" means this server (same origin).
    pub fn document(&self, d: &Deployment) -> Value {
        let chain_name = if d.chain_id == careledger_devnode::CHAIN_ID {
            "CareLedger devnode".to_string()
        } else {
            format!("Chain {}", d.chain_id)
        };
        json!({
            "chainId": d.chain_id,
            "chainName": chain_name,
            "rpcUrl": self.rpc_url,
            "patientRegistry": d.patient_registry,
            "accessToken": d.access_token,
            "recordRegistry": d.record_registry,
            "deployBlock": d.deploy_block,
            "ipfsApi": "",
            "notifier": self.notifier,
        })
    }
}

/// The headers every answer carries: a Content-Security-Policy that lets the app
/// load only its own files, run its WebAssembly vault, and talk to this server,
/// the chain's RPC endpoint and the notifier named in `/careledger.json`; no
/// framing (clickjacking), no sniffing, no referrer.
#[derive(Clone)]
pub(super) struct Security {
    csp: HeaderValue,
}

impl Security {
    pub(super) fn new(app: &AppConfig) -> Self {
        // The built app has no inline script or style element, and React sets
        // style properties through the CSSOM, which style-src does not govern.
        let mut connect = vec!["'self'".to_string()];
        for url in std::iter::once(app.rpc_url.as_str()).chain(app.notifier.as_deref()) {
            if let Some(origin) = csp_origin(url) {
                if !connect.contains(&origin) {
                    connect.push(origin);
                }
            }
        }
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src {}; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            connect.join(" ")
        );
        let csp = HeaderValue::from_str(&policy)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
        Self { csp }
    }

    pub(super) fn apply(&self, headers: &mut axum::http::HeaderMap) {
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
}

/// Adds [`Security`]'s headers to a response (a `map_response` layer).
pub(super) async fn secure(State(security): State<Security>, mut response: Response) -> Response {
    security.apply(response.headers_mut());
    response
}

/// `scheme://host[:port]` of an http(s) URL, as a CSP source; `None` for anything
/// else or anything that could smuggle a directive (`;`, `,`, spaces, quotes).
fn csp_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let clean = !authority.is_empty()
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    clean.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

pub(super) fn config_route(app: AppConfig) -> Router {
    Router::new()
        .route("/careledger.json", get(config))
        .with_state(Arc::new(app))
}

async fn config(State(app): State<Arc<AppConfig>>) -> Response {
    let path = app.deployment.clone();
    let loaded =
        tokio::task::spawn_blocking(move || Deployment::load(&path).map_err(Error::from)).await;
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    match loaded {
        Ok(Ok(d)) => (no_store, Json(app.document(&d))).into_response(),
        Ok(Err(Error::NoDeployment { path })) => (
            StatusCode::SERVICE_UNAVAILABLE,
            no_store,
            Json(json!({"error": format!(
                "no deployment file at {path}: deploy the contracts first (careledger deploy \
                 --deployment {path}), or use careledger demo --web"
            )})),
        )
            .into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            no_store,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "reading the deployment failed"})),
        )
            .into_response(),
    }
}

/// Without `--web`: nothing but the API and the configuration.
pub(super) async fn not_found(uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("nothing at {}: serve an app with --web DIR", uri.path())})),
    )
        .into_response()
}

/// The built app's directory.
#[derive(Clone)]
pub(super) struct Files {
    root: Arc<PathBuf>,
}

impl Files {
    pub(super) fn new(dir: PathBuf) -> Result<Self> {
        let root = dir.canonicalize().map_err(|e| Error::file(&dir, e))?;
        if !root.join("index.html").is_file() {
            return Err(Error::Usage(format!(
                "--web {}: no index.html there (build the app first: npm run build in web/)",
                dir.display()
            )));
        }
        Ok(Self {
            root: Arc::new(root),
        })
    }

    pub(super) async fn serve(self, method: Method, uri: Uri) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD")],
                "the app's files are read with GET\n",
            )
                .into_response();
        }
        let root = self.root.clone();
        let path = uri.path().to_string();
        let found = tokio::task::spawn_blocking(move || read(&root, &path)).await;
        match found {
            Ok(Some((file, bytes))) => {
                let mut response = if method == Method::HEAD {
                    let mut r = ().into_response();
                    r.headers_mut()
                        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                    r
                } else {
                    bytes.into_response()
                };
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&file)),
                );
                // A rebuilt app is seen at the next load.
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                response
            }
            Ok(None) => (StatusCode::NOT_FOUND, "index.html is gone from --web\n").into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// The file for a request path and its bytes: the file itself if the path names
/// one inside `root` (no `..`, no hidden files, no symlink out), the index of a
/// directory, else the app's index.html; `None` only if that is gone too.
fn read(root: &Path, path: &str) -> Option<(PathBuf, Vec<u8>)> {
    let index = root.join("index.html");
    let wanted = inside(root, path)
        .map(|p| if p.is_dir() { p.join("index.html") } else { p })
        .filter(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
        .filter(|p| p.starts_with(root))
        .unwrap_or(index);
    let bytes = std::fs::read(&wanted).ok()?;
    Some((wanted, bytes))
}

fn inside(root: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let mut file = root.to_path_buf();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') || segment.contains(['\\', '\0', ':']) {
            return None;
        }
        file.push(segment);
    }
    Some(file)
}

fn content_type(file: &Path) -> &'static str {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_app() {
        let root = Path::new("/srv/app");
        assert_eq!(
            inside(root, "/assets/a%20b.js"),
            Some(root.join("assets/a b.js"))
        );
        assert_eq!(inside(root, "/"), Some(root.to_path_buf()));
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/x",
            "/a/../../x",
            "/.env",
            "/a%5c..%5cx",
            "/%ff",
        ] {
            assert_eq!(inside(root, bad), None, "{bad}");
        }
        assert_eq!(content_type(Path::new("x/app.WASM")), "application/wasm");
    }

    #[test]
    fn the_policy_names_the_rpc_and_notifier_origins_only() {
        assert_eq!(
            csp_origin("HTTP://127.0.0.1:8547/rpc?x#y").as_deref(),
            Some("http://127.0.0.1:8547")
        );
        assert_eq!(
            csp_origin("https://[::1]:9/").as_deref(),
            Some("https://[::1]:9")
        );
        for bad in [
            "ws://127.0.0.1:1",
            "http://a;script-src *",
            "http://a b",
            "http://u@host",
            "http://",
            "/rpc",
        ] {
            assert_eq!(csp_origin(bad), None, "{bad}");
        }
        let app = AppConfig {
            deployment: PathBuf::from("d.json"),
            rpc_url: "http://127.0.0.1:8547".into(),
            notifier: Some("http://localhost:8600".into()),
        };
        let csp = Security::new(&app).csp;
        let csp = csp.to_str().unwrap();
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:8547 http://localhost:8600;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
}
