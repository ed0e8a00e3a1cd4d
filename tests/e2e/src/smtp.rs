//! aiosmtpd writing a Maildir: a real SMTP server (scripts/setup installs it),
//! shared by the end-to-end suite and the notifier's tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Each running server's port and Maildir, for a harness that knows the port
/// only (the notifier's, which must read the confirmation codes it mails).
static MAILDIRS: Mutex<Vec<(u16, PathBuf)>> = Mutex::new(Vec::new());

/// The Maildir of the server started on `port` in this process, if any.
pub fn maildir_of(port: u16) -> Option<PathBuf> {
    let dirs = MAILDIRS.lock().unwrap_or_else(|p| p.into_inner());
    dirs.iter()
        .find(|(p, _)| *p == port)
        .map(|(_, d)| d.clone())
}

/// The subject of the notifier's confirmation mails (crates/notifier/src/optin.rs).
pub const CONFIRMATION_SUBJECT: &str = "CareLedger: confirm this address for your notices";

/// A running aiosmtpd, stopped on drop.
pub struct Smtp {
    /// Its loopback port.
    pub port: u16,
    /// The Maildir it delivers to.
    pub maildir: PathBuf,
    child: Option<Child>,
}

/// One stored message: its headers unfolded, and the whole text.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The Message-ID header.
    pub message_id: String,
    /// The To header.
    pub to: String,
    /// The Subject header.
    pub subject: String,
    /// The whole message, headers and body.
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
        let mut dirs = MAILDIRS.lock().unwrap_or_else(|p| p.into_inner());
        dirs.retain(|(port, _)| *port != s.port);
        dirs.push((s.port, s.maildir.clone()));
        drop(dirs);
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

    /// The messages not yet taken (Maildir's new/): confirmations taken by
    /// [`Smtp::take_code`] are no longer among them.
    pub fn mails(&self) -> Vec<Mail> {
        read_new(&self.maildir)
    }

    /// The code of the confirmation mail sent to `to`, waited for (60 s at
    /// most); the mail moves to cur/, so that [`Smtp::mails`] and the waits
    /// count notices only.
    pub fn take_code(&self, to: &str) -> String {
        take_code(&self.maildir, to, Duration::from_secs(60))
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

/// One stored message, its headers unfolded (RFC 5322).
fn parse(raw: String) -> Mail {
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
    Mail {
        message_id: header("Message-ID"),
        to: header("To"),
        subject: header("Subject"),
        raw,
    }
}

/// The messages in `maildir`'s new/, with their file names.
fn read_new_files(maildir: &Path) -> Vec<(PathBuf, Mail)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(maildir.join("new")).unwrap() {
        let path = entry.unwrap().path();
        // Taken meanwhile by another reader: skipped.
        if let Ok(raw) = std::fs::read_to_string(&path) {
            out.push((path, parse(raw)));
        }
    }
    // Maildir names start with the delivery time.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn read_new(maildir: &Path) -> Vec<Mail> {
    read_new_files(maildir)
        .into_iter()
        .map(|(_, m)| m)
        .collect()
}

/// The code in the newest confirmation mail to `to` in `maildir`, waited for
/// up to `timeout`. Every confirmation mail to `to` moves from new/ to cur/
/// (read, in Maildir's terms).
pub fn take_code(maildir: &Path, to: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let confirmations: Vec<(PathBuf, Mail)> = read_new_files(maildir)
            .into_iter()
            .filter(|(_, m)| m.to.contains(to) && m.subject == CONFIRMATION_SUBJECT)
            .collect();
        if let Some((_, newest)) = confirmations.last() {
            let code = code_in(&newest.raw)
                .unwrap_or_else(|| panic!("no code in the confirmation mail: {}", newest.raw));
            for (path, _) in &confirmations {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                std::fs::rename(path, maildir.join("cur").join(format!("{name}:2,S"))).unwrap();
            }
            return code;
        }
        assert!(
            Instant::now() < deadline,
            "no confirmation mail to {to} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The 8 characters after "Confirmation code: " in a mail's text.
pub fn code_in(raw: &str) -> Option<String> {
    let at = raw.find("Confirmation code: ")? + "Confirmation code: ".len();
    let code: String = raw[at..].chars().take(8).collect();
    (code.len() == 8 && code.chars().all(|c| c.is_ascii_alphanumeric())).then_some(code)
}
