//! The notifier's one error type.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("JSON-RPC: {0}")]
    Rpc(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("mail: {0}")]
    Mail(String),
    #[error("listening on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

impl Error {
    pub fn file(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Self::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }

    pub fn rpc(e: impl std::fmt::Display) -> Self {
        Self::Rpc(e.to_string())
    }
}
