//! What a command prints: sentences for people, one JSON document for scripts.

use serde_json::Value;

/// A command's result in both forms; `main` prints one of them on stdout.
#[derive(Debug)]
pub struct Report {
    pub human: Vec<String>,
    pub json: Value,
}

impl Report {
    pub fn new(json: Value) -> Self {
        Self {
            human: Vec::new(),
            json,
        }
    }

    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.human.push(line.into());
        self
    }

    pub fn print(&self, json: bool) {
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&self.json).expect("values serialise")
            );
        } else {
            for line in &self.human {
                println!("{line}");
            }
        }
    }
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
