//! The CLI's one error type. Every variant prints as one line that says what to do.

use alloy::primitives::Address;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("no key: pass --keystore FILE (password from CARELEDGER_PASSWORD or --password-file) or set CARELEDGER_PRIVATE_KEY")]
    NoKey,
    #[error("cannot open keystore {path}: wrong password or not a keystore")]
    Keystore { path: String },
    #[error(
        "deployment file {path} not found: run `careledger deploy` first or pass --deployment"
    )]
    NoDeployment { path: String },
    #[error("deployment file {path} is malformed: {reason}")]
    BadDeployment { path: String, reason: String },
    #[error("the deployment file is for chain {file}, but the node at --rpc-url is chain {node}")]
    WrongChain { file: u64, node: u64 },
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{0}")]
    Reverted(String),
    #[error("transaction {0} failed on chain")]
    TxFailed(String),
    #[error("rpc: {0}")]
    Rpc(String),
    #[error("{0}")]
    Vault(#[from] careledger_vault::Error),
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not registered with an encryption key")]
    NoEncryptionKey(Address),
    #[error("no key for record {record} version {version} was published for {reader}: ask the patient to share it (careledger grants sync), or in an emergency wait for the patient's custodians to release it")]
    NoWrappedKey {
        record: u64,
        version: u32,
        reader: Address,
    },
    #[error("devnode: {0}")]
    Devnode(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("stopped by a signal {0}")]
    Interrupted(&'static str),
    #[error("cannot listen for SIGINT and SIGTERM: {0}")]
    Signals(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn file(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::File {
            path: path.display().to_string(),
            source,
        }
    }
}
