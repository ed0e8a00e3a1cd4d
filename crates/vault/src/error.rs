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
    #[error("the content of {0} does not match the hash on chain")]
    HashMismatch(String),
    #[error("ipfs: {0}")]
    Ipfs(String),
    /// A block that is not a well-formed dag-pb node (see
    /// [`crate::ipfs::dagpb`]); the text is the reason.
    #[error("malformed dag-pb node: {0}")]
    DagPb(String),
    // CAR files and remote IPFS services (kubo RPC, pinning services).
    #[error("malformed CAR: {0}")]
    Car(String),
    #[error("IPFS node: {0}")]
    Node(String),
    #[error("pinning service refused the access token: {0}")]
    PinUnauthorized(String),
    #[error("pinning service has no pin request {0}")]
    PinNotFound(String),
    #[error("pinning service: {0}")]
    Pinning(String),
    /// Built from fixed text and positions only, never from the record.
    #[error("not a valid FHIR R4 Bundle: {0}")]
    Fhir(String),
    /// A key file (see [`crate::keyfile`]) that is well formed but does not open
    /// with this passphrase. Indistinguishable from a file whose ciphertext,
    /// salt or parameters were altered.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// A key file that is not one: bad JSON, unknown version or KDF, bad lengths,
    /// parameters out of bounds. Built from fixed text, never from the passphrase.
    #[error("malformed key file: {0}")]
    KeyFile(String),
    /// An argument of the wrong shape (a 19-byte address, a record id that is
    /// not a decimal number, a CID that does not parse), from callers such as
    /// the browser build that take bytes and strings rather than types.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl Error {
    /// Recovers a vault error that crossed a `Read` or `Write` as an I/O error, so
    /// callers see "block … is not in the store" rather than a generic I/O failure.
    pub fn from_io(e: std::io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(Ok(err)) = e.into_inner().map(|b| b.downcast::<Error>()) {
                return *err;
            }
            return Error::Ipfs("a store error was lost in transit".into());
        }
        Error::Io(e)
    }
}
