//! What a command prints: sentences for people, one JSON document for scripts.

use serde_json::Value;

/// A command's result in both forms; `main` prints one of them on stdout.
#[derive(Debug)]
pub struct Report {
    /// The lines for people, printed without --json.
    pub human: Vec<String>,
    /// The document for scripts, printed with --json.
    pub json: Value,
}

impl Report {
    /// A report of `json` with no lines yet.
    pub fn new(json: Value) -> Self {
        Self {
            human: Vec::new(),
            json,
        }
    }

    /// The report with one more line for people.
    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.human.push(line.into());
        self
    }

    /// Writes the report on stdout. A reader that went away (`| head`) is not an
    /// error; other failures to write are.
    pub fn print(&self, json: bool) -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let written = if json {
            let text = serde_json::to_string_pretty(&self.json).expect("values serialise");
            writeln!(out, "{text}")
        } else {
            self.human
                .iter()
                .try_for_each(|line| writeln!(out, "{line}"))
        };
        match written.and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        }
    }
}

/// Writes one line on stdout as it happens (`watch`, `custodian watch`); `false`
/// once the reader has gone (`careledger watch | head`), which ends a watch quietly.
pub fn print_line(line: &str) -> crate::error::Result<bool> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(crate::error::Error::io("writing to stdout", e)),
    }
}

/// Unix seconds from the chain as an RFC 3339 UTC time; past the year 9999 as
/// its number (careledger-bindings, shared with the notifier).
pub use careledger_bindings::time::{rfc3339 as time, LAST_RFC3339};

/// Text from outside (an argument, a node's answer) in quotes, safe to print on
/// a terminal: printable ASCII as it is, anything else escaped, at most `max`
/// characters of it.
pub fn quote(s: &str, max: usize) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        match c {
            '"' | '\\' => out.extend(c.escape_default()),
            ' '..='~' => out.push(c),
            _ => out.extend(c.escape_default()),
        }
    }
    out.push('"');
    out
}

/// A progress bar over bytes on stderr for work that may take over a second;
/// hidden when output is for machines (indicatif also hides it off a terminal).
pub fn bar(enabled: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    styled(
        enabled,
        len,
        what,
        "{prefix:12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
    )
}

/// A bar over steps (transactions) for multi-transaction work.
pub fn steps(enabled: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    styled(
        enabled,
        len,
        what,
        "{prefix:12} [{bar:30}] {pos}/{len} {msg}",
    )
}

fn styled(enabled: bool, len: u64, what: &str, template: &str) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_printable_ascii_and_short() {
        assert_eq!(quote("0x12zz", 50), "\"0x12zz\"");
        assert_eq!(quote("a\u{1b}[2J\n\"b", 50), "\"a\\u{1b}[2J\\n\\\"b\"");
        assert_eq!(quote("é", 50), "\"\\u{e9}\"");
        assert_eq!(quote("abcdef", 3), "\"abc...\"");
    }
}
