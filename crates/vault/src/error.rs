//! The crate's one error type.

/// Why a vault operation failed. Messages are one line and name no secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading or writing record data: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a CareLedger ciphertext (bad header)")]
    BadHeader,
    #[error("the ciphertext was tampered with, truncated, or belongs to another record or key")]
    Decryption,
    #[error("the ciphertext is too long (more than 2^32 chunks)")]
    TooLong,
    #[error("the wrapped key is malformed or was not wrapped for this key and record")]
    Unwrap,
    #[error("invalid X25519 key: {0}")]
    InvalidKey(&'static str),
    #[error("key wrapping failed")]
    Wrap,
    #[error("block {0} is not in the store")]
    MissingBlock(String),
    #[error("block {0} does not match its CID")]
    BlockMismatch(String),
    #[error("ipfs: {0}")]
    Ipfs(String),
}
