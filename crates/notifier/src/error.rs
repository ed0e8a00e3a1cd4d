//! The notifier's one error type.

use thiserror::Error;

/// A result whose error is the notifier's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the notifier, or one of its steps, failed: one line for the operator.
#[derive(Debug, Error)]
pub enum Error {
    /// A configuration value is missing or wrong, or the deployment file it
    /// names cannot be read: the message names the key.
    #[error("configuration: {0}")]
    Config(String),
    /// The configuration file or the database file could not be read, parsed
    /// or made private (0600).
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong with it.
        reason: String,
    },
    /// SQLite failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The JSON-RPC node failed or answered inconsistently, or no longer holds
    /// the blocks read (a reorg deeper than the notifier remembers).
    #[error("JSON-RPC: {0}")]
    Rpc(String),
    /// The SMTP client could not be set up (its TLS parameters for `smtp_host`).
    #[error("SMTP: {0}")]
    Smtp(String),
    /// A mail could not be built from its outbox row: it is marked `failed`.
    #[error("mail: {0}")]
    Mail(String),
    /// The HTTP endpoint could not listen on its address.
    #[error("listening on {addr}: {reason}")]
    Listen {
        /// The address from `listen`.
        addr: String,
        /// What the OS said.
        reason: String,
    },
}

impl Error {
    /// An [`Error::File`] for `path`, whatever the underlying error.
    pub fn file(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Self::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }

    /// An [`Error::Rpc`] from any JSON-RPC client error (for `map_err`).
    pub fn rpc(e: impl std::fmt::Display) -> Self {
        Self::Rpc(e.to_string())
    }
}
