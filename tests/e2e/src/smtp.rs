//! aiosmtpd writing a Maildir: a real SMTP server (scripts/setup installs it),
//! shared by the end-to-end suite and the notifier's tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Smtp {
    pub port: u16,
    pub maildir: PathBuf,
    child: Option<Child>,
}

/// One stored message: its headers unfolded, and the whole text.
#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub raw: String,
}

impl Smtp {
    /// A server on a free loopback port writing into `dir/maildir`.
    pub fn start(dir: &Path) -> Self {
        let maildir = dir.join("maildir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let mut s = Self {
            port: crate::free_port(),
            maildir,
            child: None,
        };
        s.resume();
        s
    }

    /// Starts (again) on the same port and Maildir.
    pub fn resume(&mut self) {
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
            ])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (scripts/setup installs aiosmtpd)");
        let child = self.child.insert(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("aiosmtpd exited ({status}): run scripts/setup to install it");
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (what it stored stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
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
                message_id: header("Message-ID"),
                to: header("To"),
                subject: header("Subject"),
                raw,
            });
        }
        out
    }

    /// Waits until `n` messages are stored, to anyone.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        self.wait_until(n, timeout, |_| true)
    }

    /// The mails to `to` once there are at least `n` of them (60 s at most).
    pub fn wait_for_to(&self, to: &str, n: usize) -> Vec<Mail> {
        self.wait_until(n, Duration::from_secs(60), |m| m.to.contains(to))
    }

    fn wait_until(&self, n: usize, timeout: Duration, keep: impl Fn(&Mail) -> bool) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails: Vec<Mail> = self.mails().into_iter().filter(|m| keep(m)).collect();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} mails after {timeout:?}",
                mails.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}
