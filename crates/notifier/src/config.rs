//! Configuration: a TOML file, then `CARELEDGER_NOTIFIER_<KEY>` environment
//! variables over it, so secrets (the SMTP password) can stay out of the file.

use crate::error::{Error, Result};
use careledger_bindings::Deployment;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ENV_PREFIX: &str = "CARELEDGER_NOTIFIER_";

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Implicit TLS (port 465).
    Tls,
    /// STARTTLS, required (port 587).
    Starttls,
    /// No encryption: accepted only for a server on a loopback address.
    None,
}

/// A value that never prints: `{:?}` of a config shows `Secret(***)`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The notifier's settings, one per TOML key (and `CARELEDGER_NOTIFIER_<KEY>`
/// variable); an unknown key is refused rather than ignored, so a typo shows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// JSON-RPC over HTTP: logs, blocks and calls.
    pub rpc_url: String,
    /// JSON-RPC over WebSocket for `eth_subscribe("newHeads")`; without it (or
    /// while it is down) the notifier polls `rpc_url`.
    #[serde(default)]
    pub ws_url: Option<String>,
    /// The deployment file `careledger deploy` wrote.
    pub deployment: PathBuf,
    /// The SQLite database: cursor, outbox, sent log and contact directory.
    /// Default `careledger-notifier.sqlite`, in the working directory.
    #[serde(default = "defaults::database")]
    pub database: PathBuf,
    /// The HTTP endpoint: directory and health. Default `127.0.0.1:8600`.
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    /// Blocks an event must be buried under before it is mailed. Default 0.
    #[serde(default)]
    pub confirmations: u64,
    /// Milliseconds between two looks at `rpc_url` for new blocks; a WebSocket
    /// only wakes the follower sooner. Default 1000, at least 10.
    #[serde(default = "defaults::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Largest block range asked of `eth_getLogs` at once (public providers cap it).
    /// Default 2000 blocks.
    #[serde(default = "defaults::log_window")]
    pub log_window: u64,
    /// The SMTP server's host name or IP address: TLS checks its certificate
    /// against it.
    pub smtp_host: String,
    /// The SMTP server's port. Default 587 (submission, STARTTLS).
    #[serde(default = "defaults::smtp_port")]
    pub smtp_port: u16,
    /// How the SMTP connection is protected. Default `starttls`.
    #[serde(default = "defaults::smtp_security")]
    pub smtp_security: SmtpSecurity,
    /// The SMTP login, with `smtp_password`. Default none: no AUTH.
    #[serde(default)]
    pub smtp_user: Option<String>,
    /// The SMTP password, with `smtp_user`: best given as
    /// `CARELEDGER_NOTIFIER_SMTP_PASSWORD`, out of the file. Never printed.
    #[serde(default)]
    pub smtp_password: Option<Secret>,
    /// The From: address of every notification.
    pub mail_from: String,
    /// SMTP transactions in flight at once (the connection pool's size). Default 8.
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
    /// The longest wait between two attempts at a message while SMTP fails.
    /// Milliseconds, default 30000.
    #[serde(default = "defaults::max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// How far in the future a directory request may expire. Seconds, default 3600.
    #[serde(default = "defaults::max_request_ttl_secs")]
    pub max_request_ttl_secs: u64,
    /// Origins (`scheme://host[:port]`) of browser apps that may call the
    /// directory from another origin; in the environment, comma-separated.
    /// Default none: no cross-origin access.
    #[serde(default)]
    pub cors_origins: Vec<String>,
}

/// Keys whose environment value is a comma-separated list.
const LIST_KEYS: &[&str] = &["cors_origins"];

mod defaults {
    use super::SmtpSecurity;
    use std::net::SocketAddr;
    use std::path::PathBuf;
    pub(crate) fn database() -> PathBuf {
        PathBuf::from("careledger-notifier.sqlite")
    }
    pub(crate) fn listen() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8600))
    }
    pub(crate) fn poll_interval_ms() -> u64 {
        1000
    }
    pub(crate) fn log_window() -> u64 {
        2000
    }
    pub(crate) fn smtp_port() -> u16 {
        587
    }
    pub(crate) fn smtp_security() -> SmtpSecurity {
        SmtpSecurity::Starttls
    }
    pub(crate) fn max_in_flight() -> usize {
        8
    }
    pub(crate) fn max_backoff_ms() -> u64 {
        30_000
    }
    pub(crate) fn max_request_ttl_secs() -> u64 {
        3600
    }
}

impl Config {
    /// Reads `file` (if any), lays the environment over it, and checks the result.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let env = std::env::vars().filter_map(|(k, v)| {
            k.strip_prefix(ENV_PREFIX)
                .map(|key| (key.to_ascii_lowercase(), v))
        });
        Self::from_sources(file, env)
    }

    /// [`Config::load`] with the file and the variables given (keys lower case,
    /// without the prefix), so tests need not touch the process's environment.
    /// Fails with [`Error::File`] for an unreadable or malformed file, and
    /// [`Error::Config`] for an unknown key, a bad value or a failed check.
    pub fn from_sources(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
                text.parse::<toml::Table>()
                    .map_err(|e| Error::file(path, e.message()))?
            }
            None => toml::Table::new(),
        };
        for (key, value) in env {
            // CARELEDGER_NOTIFIER_CONFIG names the file itself (the --config flag's
            // variable): not a key of it.
            if key == "config" {
                continue;
            }
            if LIST_KEYS.contains(&key.as_str()) {
                let items = value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| toml::Value::String(item.to_string()));
                table.insert(key, toml::Value::Array(items.collect()));
                continue;
            }
            // A number or boolean in the environment is typed as TOML would type it.
            let typed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .filter(|v| !v.is_str() && !v.is_table() && !v.is_array())
                .unwrap_or(toml::Value::String(value));
            table.insert(key, typed);
        }
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config(e.message().to_string()))?;
        // An empty value switches the WebSocket off (polling only).
        config.ws_url = config.ws_url.filter(|u| !u.trim().is_empty());
        for origin in &mut config.cors_origins {
            *origin = origin.trim().trim_end_matches('/').to_string();
        }
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        if self.smtp_security == SmtpSecurity::None && !is_loopback(&self.smtp_host) {
            return Err(Error::Config(format!(
                "smtp_security = \"none\" is only allowed for a loopback server, not {}",
                self.smtp_host
            )));
        }
        if self.smtp_user.is_some() != self.smtp_password.is_some() {
            return Err(Error::Config(
                "smtp_user and smtp_password go together".into(),
            ));
        }
        if self.max_in_flight == 0 || self.log_window == 0 {
            return Err(Error::Config(
                "max_in_flight and log_window must be at least 1".into(),
            ));
        }
        self.mail_from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| Error::Config(format!("mail_from: {e}")))?;
        if let Some(bad) = self.cors_origins.iter().find(|o| !is_origin(o)) {
            return Err(Error::Config(format!(
                "cors_origins: {bad:?} is not an origin: give scheme://host[:port], e.g. \
                 http://localhost:8080 (no path, no wildcard)"
            )));
        }
        Ok(())
    }

    /// `poll_interval_ms` as a duration, at least 10 ms: a zero would spin.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(10))
    }

    /// The deployment file, read and checked by careledger-bindings.
    pub fn deployment(&self) -> Result<Deployment> {
        Deployment::load(&self.deployment).map_err(|e| Error::Config(e.to_string()))
    }
}

/// `http(s)://host[:port]`: what a browser sends as Origin. `*` is refused: the
/// directory takes signed requests only, but which sites may send them is the
/// operator's to list.
fn is_origin(origin: &str) -> bool {
    origin.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https")
            && !rest.is_empty()
            && !rest.contains(['/', '?', '#', '@', '*', ' ', ','])
    }) && axum::http::HeaderValue::from_str(origin).is_ok()
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const BASE: &[(&str, &str)] = &[
        ("rpc_url", "http://127.0.0.1:8547"),
        ("deployment", "d.json"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_security", "none"),
        ("mail_from", "CareLedger <notify@example.org>"),
    ];

    #[test]
    fn the_variable_naming_the_config_file_is_not_read_as_a_key_of_it() {
        let mut vars = env(BASE);
        vars.push(("config".into(), "/etc/careledger/notifier.toml".into()));
        let config = Config::from_sources(None, vars);
        assert!(config.is_ok(), "{:?}", config.err());
    }

    #[test]
    fn environment_is_typed_and_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("n.toml");
        std::fs::write(&file, "confirmations = 3\nsmtp_port = 25\n").unwrap();
        let mut vars = env(BASE);
        vars.push(("smtp_port".into(), "2525".into()));
        let c = Config::from_sources(Some(&file), vars).unwrap();
        assert_eq!(c.confirmations, 3);
        assert_eq!(c.smtp_port, 2525);
        assert_eq!(c.smtp_security, SmtpSecurity::None);
        assert_eq!(c.max_in_flight, 8);
    }

    #[test]
    fn the_smtp_password_never_prints() {
        let mut vars = env(BASE);
        vars.push(("smtp_user".into(), "n".into()));
        vars.push(("smtp_password".into(), "hunter2".into()));
        let c = Config::from_sources(None, vars).unwrap();
        assert_eq!(c.smtp_password.as_ref().unwrap().0, "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn plain_smtp_is_refused_for_a_remote_server() {
        let mut vars = env(BASE);
        vars.push(("smtp_host".into(), "mail.example.org".into()));
        let e = Config::from_sources(None, vars).unwrap_err().to_string();
        assert!(e.contains("only allowed for a loopback"), "{e}");
    }

    #[test]
    fn cors_origins_come_as_a_list_or_comma_separated() {
        let c = Config::from_sources(None, env(BASE)).unwrap();
        assert!(c.cors_origins.is_empty(), "none by default");
        let mut vars = env(BASE);
        vars.push((
            "cors_origins".into(),
            "http://localhost:8080, https://app.example/,".into(),
        ));
        let c = Config::from_sources(None, vars).unwrap();
        assert_eq!(
            c.cors_origins,
            ["http://localhost:8080", "https://app.example"]
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("n.toml");
        std::fs::write(&file, "cors_origins = [\"http://127.0.0.1:5173\"]\n").unwrap();
        let c = Config::from_sources(Some(&file), env(BASE)).unwrap();
        assert_eq!(c.cors_origins, ["http://127.0.0.1:5173"]);
        for bad in ["*", "localhost:8080", "http://a/b"] {
            let mut vars = env(BASE);
            vars.push(("cors_origins".into(), bad.into()));
            let e = Config::from_sources(None, vars).unwrap_err().to_string();
            assert!(e.contains("cors_origins"), "{e}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let mut vars = env(BASE);
        vars.push(("smtp_prot".into(), "25".into()));
        let e = Config::from_sources(None, vars).unwrap_err().to_string();
        assert!(e.contains("smtp_prot"), "{e}");
        let mut vars = env(BASE);
        vars.push(("mail_from".into(), "not an address".into()));
        let e = Config::from_sources(None, vars).unwrap_err().to_string();
        assert!(e.contains("mail_from"), "{e}");
    }
}
