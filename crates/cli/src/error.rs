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
    pub fn file(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::File {
            path: path.display().to_string(),
            source,
        }
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
