//! What a command prints: sentences for people, one JSON document for scripts.

use serde_json::Value;

/// A command's result in both forms; `main` prints one of them on stdout.
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

/// A progress bar on stderr for work that may take over a second; hidden when
/// stderr is not a terminal or output is for machines.
pub fn bar(enabled: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A spinner-with-steps bar for multi-transaction work (deploy, sync).
pub fn steps(enabled: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:12} [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}
