//! The CLI's one error type. Every variant prints as one line that says what to do.

use alloy::primitives::Address;

/// What went wrong, by whose doing: each kind says where to look, and `main`
/// prints any of them as one line with exit status 1 (clap refuses a malformed
/// argument before any of these, with status 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something the user gave is wrong in a way only seen once the command runs
    /// (an expiry already past by the chain's clock, an output file that exists,
    /// a missing password): fix the command.
    #[error("{0}")]
    Usage(String),
    /// A command that signs or decrypts was given neither a keystore nor a private key.
    #[error("no key: pass --keystore FILE (password from CARELEDGER_PASSWORD or --password-file) or set CARELEDGER_PRIVATE_KEY")]
    NoKey,
    /// A keystore file that is not JSON, or whose MAC refuses the password.
    #[error("cannot open keystore {path}: wrong password or not a keystore")]
    Keystore {
        /// The keystore file, as given.
        path: String,
    },
    /// A keystore file that is refused before any derivation: its kind, size or
    /// parameters are not a keystore's.
    #[error("keystore {path}: {reason}")]
    BadKeystore {
        /// The keystore file, as given.
        path: String,
        /// Which check it failed.
        reason: String,
    },
    /// A `--web-key` file that does not open (wrong passphrase, not a key file).
    #[error("--web-key {path}: {reason}")]
    WebKey {
        /// The key file, as given.
        path: String,
        /// Why it does not open.
        reason: String,
    },
    /// The record key at hand is not the one the account registered on chain.
    #[error("your record key is not the one {0} registered: if you set this account up in the web app, pass its key file with --web-key FILE")]
    WrongRecordKey(Address),
    /// A command that needs the contracts found no deployment file.
    #[error(
        "deployment file {path} not found: run `careledger deploy` first or pass --deployment"
    )]
    NoDeployment {
        /// Where the file was looked for.
        path: String,
    },
    /// A deployment file that is not JSON of the expected fields, or holds a bad address.
    #[error("deployment file {path} is malformed: {reason}")]
    BadDeployment {
        /// The deployment file.
        path: String,
        /// What is wrong in it.
        reason: String,
    },
    /// `deploy` cannot read a contract's WASM.
    #[error(
        "{path}: {source} (build the contracts with scripts/build-contracts, or pass --contracts)"
    )]
    NoContracts {
        /// The WASM file it looked for.
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The deployment file and the node disagree on the chain id: the wrong file or
    /// the wrong node, and either way the addresses mean nothing there.
    #[error("the deployment file is for chain {file}, but the node at --rpc-url is chain {node}")]
    WrongChain {
        /// The chain id in the deployment file.
        file: u64,
        /// The chain id the node reports.
        node: u64,
    },
    /// A network peer (`what`: the node, the notifier) that cannot be reached or
    /// does not answer in time.
    #[error("cannot reach {what} at {url}: {reason}")]
    Unreachable {
        /// The kind of peer, as the message names it.
        what: &'static str,
        /// Its URL, as given.
        url: String,
        /// The connection failure, the timeout or the HTTP status.
        reason: String,
    },
    /// A call or transaction the node reports reverted, with the contract's error
    /// decoded.
    #[error("{0}")]
    Reverted(String),
    /// What the chain holds refuses the request, found before any transaction
    /// was sent (as the contract's revert would have said).
    #[error("{0}")]
    Refused(String),
    /// A transaction that was mined with a failed status (its hash).
    #[error("transaction {0} failed on chain")]
    TxFailed(String),
    /// The node answered with an error that is not a revert, or with something
    /// that is not JSON-RPC, or a transaction's receipt never came.
    #[error("rpc: {0}")]
    Rpc(String),
    /// A notifier that answered, but refused or did not answer like one.
    #[error("{0}")]
    Notifier(String),
    /// The vault's failures: encryption, the block store, an IPFS node, FHIR checks.
    #[error("{0}")]
    Vault(#[from] careledger_vault::Error),
    /// Reading or writing one named file failed.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// An input or output failure that is not one file's: a pipe, the terminal, stdout.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: &'static str,
        /// The failure.
        source: std::io::Error,
    },
    /// An account has no X25519 key on chain to wrap a record key for.
    #[error("{0} is not registered with an encryption key")]
    NoEncryptionKey(Address),
    /// The account that would open a record's key has none published for that version.
    #[error("no key for record {record} version {version} was published for {reader}: ask the patient to share it (careledger grants sync), or in an emergency wait for the patient's custodians to release it")]
    NoWrappedKey {
        /// The record's id.
        record: u64,
        /// The record's key version.
        version: u32,
        /// The account that lacks a key.
        reader: Address,
    },
    /// The demo's in-process devnode did not start or has no usable URL.
    #[error("devnode: {0}")]
    Devnode(String),
    /// A step of `demo` whose outcome was not the expected one (the step itself
    /// printed which).
    #[error("the demo found a step that did not behave")]
    DemoFailed,
    /// A server (`ipfs serve`, `demo --web`) cannot bind its address.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address, as given.
        addr: String,
        /// The bind failure.
        reason: String,
    },
    /// Ctrl-C or SIGTERM ended a command before it was done (when, in words).
    #[error("stopped by a signal {0}")]
    Interrupted(&'static str),
    /// The signal handlers could not be installed.
    #[error("cannot listen for SIGINT and SIGTERM: {0}")]
    Signals(String),
    /// A failure of this program or of what it runs on, not of the input, the
    /// network or the chain (a TLS backend that does not start, a signer that fails).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result, with [`Error`] by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How much of a text from the network an error quotes.
const QUOTED_CHARS: usize = 60;

/// A node's or service's answer, said in one short, printable line: its length
/// and its first characters, escaped. What comes back may be binary, huge, or made
/// to move the cursor and recolour the terminal, so it is never printed as it is.
/// Characters, not bytes: the HTTP client hands over the body decoded, each byte
/// that is not UTF-8 one replacement character.
pub fn summary(text: &str) -> String {
    let size = text.chars().count();
    if size == 0 {
        return "an empty answer".into();
    }
    format!(
        "{size} character{} starting {}",
        if size == 1 { "" } else { "s" },
        crate::output::quote(text, QUOTED_CHARS)
    )
}

/// A message from outside (a node's error message, a transport error that may
/// quote an answer) as one printable line of bounded length.
pub fn printable(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let quoted = crate::output::quote(&line, 4 * QUOTED_CHARS);
    // Without the quotes: it is a message, not a value.
    quoted[1..quoted.len() - 1].to_string()
}

/// An error as the one line `main` prints: control characters (newlines, the
/// escape that starts terminal sequences) and bidirectional overrides escaped,
/// whatever text from outside a variant carries.
pub fn terminal_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Error {
    /// [`Error::File`] for `path`, as `map_err` takes it.
    pub fn file(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::File {
            path: path.display().to_string(),
            source,
        }
    }

    /// [`Error::Io`] for `what`, as `map_err` takes it.
    pub fn io(what: &'static str, source: std::io::Error) -> Self {
        Self::Io { what, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_from_the_network_are_summarised_in_one_short_printable_line() {
        let garbage: String = (0u8..=255).cycle().take(10_000).map(char::from).collect();
        let s = summary(&garbage);
        assert!(s.starts_with("10000 characters starting"), "{s}");
        assert!(s.len() < 400, "{s}");
        assert!(s.bytes().all(|b| (b' '..=b'~').contains(&b)), "{s}");
        assert_eq!(summary(""), "an empty answer");
        assert_eq!(summary("x"), "1 character starting \"x\"");
        let p = printable("line one\nline two\u{1b}[31m red");
        assert_eq!(p, "line one line two\\u{1b}[31m red");
        assert!(printable(&garbage).len() < 1_000);
    }

    #[test]
    fn the_printed_error_line_has_no_control_characters() {
        assert_eq!(
            terminal_line("a\nb\u{1b}[2J \u{202e}c … d"),
            "a\\nb\\u{1b}[2J \\u{202e}c … d"
        );
    }
}
