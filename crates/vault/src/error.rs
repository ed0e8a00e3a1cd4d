//! The crate's one error type.

/// Why a vault operation failed. Messages are one line and name no secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's reader or writer, or the block store's disk, failed. A vault error
    /// that crossed a `Read` or `Write` as an I/O error is recovered by [`Error::from_io`].
    #[error("reading or writing record data: {0}")]
    Io(#[from] std::io::Error),
    /// No `CLV1` header of [`crate::stream`], or a chunk size this version does not write.
    #[error("not a CareLedger ciphertext (bad header)")]
    BadHeader,
    /// A chunk that does not authenticate or is cut short: one variant for every cause,
    /// since the AEAD cannot tell tampering, another record's context or another key apart.
    #[error("the ciphertext was tampered with, truncated, or belongs to another record or key")]
    Decryption,
    /// The STREAM construction's 32-bit chunk counter would wrap.
    #[error("the ciphertext is too long (more than 2^32 chunks)")]
    TooLong,
    /// A wrapped key that does not open (wrong length, another reader, another record):
    /// one variant, as for [`Error::Decryption`], since HPKE's AEAD cannot tell a wrong
    /// key from a wrong record.
    #[error("the wrapped key is malformed or was not wrapped for this key and record")]
    Unwrap,
    /// Bytes that are not an X25519 key; the text says which half (`public` or `secret`).
    #[error("invalid X25519 key: {0}")]
    InvalidKey(&'static str),
    /// HPKE could not seal to the reader's key: a low-order X25519 point, whose shared
    /// secret is all zeros (RFC 9180 requires refusing it).
    #[error("key wrapping failed")]
    Wrap,
    /// A block the DAG links to is absent from the store; the text is its CID.
    #[error("block {0} is not in the store")]
    MissingBlock(String),
    /// A block whose bytes do not hash to its CID: the store or node altered it.
    #[error("block {0} does not match its CID")]
    BlockMismatch(String),
    /// Content whose sha-256 is not the hash on chain (a substituted ciphertext), reported
    /// before anything is decrypted from it; the text names the content, by CID if any.
    #[error("the content of {0} does not match the hash on chain")]
    HashMismatch(String),
    /// A DAG this crate cannot read or move (a codec other than dag-pb or raw, a root
    /// that is not a UnixFS file, a CID that does not parse), or a block file that is
    /// not a regular file.
    #[error("ipfs: {0}")]
    Ipfs(String),
    /// A block that is not a well-formed dag-pb node (see
    /// [`crate::ipfs::dagpb`]); the text is the reason.
    #[error("malformed dag-pb node: {0}")]
    DagPb(String),
    // CAR files and remote IPFS services (kubo RPC, pinning services).
    /// A CARv1 stream that does not parse (bad header, truncated section) or that
    /// `KuboClient::import` cannot send (more than one root).
    #[error("malformed CAR: {0}")]
    Car(String),
    /// A kubo RPC node that is unreachable, times out, answers with an error or reports
    /// other roots than it was sent; also an RPC URL that does not parse.
    #[error("IPFS node: {0}")]
    Node(String),
    /// HTTP 401 from a pinning service: the access token is wrong or expired, not the request.
    #[error("pinning service refused the access token: {0}")]
    PinUnauthorized(String),
    /// HTTP 404 for a pin request id: the service holds no such request (removed, or
    /// never made on this account).
    #[error("pinning service has no pin request {0}")]
    PinNotFound(String),
    /// Any other pinning service failure: a bad endpoint URL or token, transport, an
    /// HTTP status or an answer that does not parse.
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
