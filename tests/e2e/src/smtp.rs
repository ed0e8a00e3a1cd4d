//! aiosmtpd writing a Maildir: a real SMTP server (scripts/setup installs it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Smtp {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
}

/// One stored message: its headers unfolded, and the whole text.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub raw: String,
}

impl Smtp {
    pub fn start(dir: &Path) -> Self {
        let maildir = dir.join("maildir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let port = crate::free_port();
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (scripts/setup installs aiosmtpd)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("aiosmtpd exited ({status}): run scripts/setup to install it");
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            maildir,
            child,
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.maildir.join("new")).unwrap() {
            let raw = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            // RFC 5322 unfolding: a header may continue on indented lines.
            let mut headers: Vec<String> = Vec::new();
            for line in raw.lines().take_while(|l| !l.is_empty()) {
                match headers.last_mut() {
                    Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
                    _ => headers.push(line.to_string()),
                }
            }
            let header = |name: &str| {
                headers
                    .iter()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                    .unwrap_or_default()
            };
            out.push(Mail {
                to: header("To"),
                subject: header("Subject"),
                message_id: header("Message-ID"),
                raw,
            });
        }
        out
    }

    /// The mails to `to` once there are at least `n` of them.
    pub fn wait_for(&self, to: &str, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mails: Vec<Mail> = self
                .mails()
                .into_iter()
                .filter(|m| m.to.contains(to))
                .collect();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} mails to {to} after 60 s",
                mails.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
