//! The `careledger-notifier` binary following a world's deployment, mailing to
//! aiosmtpd, its log kept for the privacy scan. Its addresses are double
//! opt-in: [`Notifier::register`] completes both steps with the code mailed.

use crate::cli::{binary, User, World};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `careledger-notifier`, killed on drop.
pub struct Notifier {
    child: Child,
    /// Its HTTP API, as `--notifier` takes it.
    pub url: String,
    /// Its stderr: everything it logs, at debug level.
    pub log: PathBuf,
    /// The Maildir of the aiosmtpd it mails to, where the codes are read.
    maildir: Option<PathBuf>,
}

impl Notifier {
    /// Starts the notifier on `world`'s deployment, mailing to the SMTP server on
    /// `smtp_port`, and waits until it listens.
    pub fn start(world: &World, smtp_port: u16) -> Self {
        let port = crate::free_port();
        let log = world.dir.join("notifier.log");
        let env = [
            ("RPC_URL", world.net.url.clone()),
            ("WS_URL", world.net.ws_url.clone()),
            ("DEPLOYMENT", world.deployment_file().display().to_string()),
            (
                "DATABASE",
                world.dir.join("notifier.sqlite").display().to_string(),
            ),
            ("LISTEN", format!("127.0.0.1:{port}")),
            ("POLL_INTERVAL_MS", "250".into()),
            ("SMTP_HOST", "127.0.0.1".into()),
            ("SMTP_PORT", smtp_port.to_string()),
            ("SMTP_SECURITY", "none".into()),
            ("MAIL_FROM", "CareLedger <notify@careledger.test>".into()),
        ];
        let mut cmd = Command::new(binary("careledger-notifier"));
        cmd.env_clear()
            // Everything the notifier logs, so that the privacy scan reads all of it.
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(format!("CARELEDGER_NOTIFIER_{k}"), v);
        }
        let child = cmd.spawn().expect("the notifier starts");
        let url = format!("http://127.0.0.1:{port}");
        let n = Self {
            child,
            url,
            log,
            maildir: crate::smtp::maildir_of(smtp_port),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the notifier did not listen: {}",
                std::fs::read_to_string(&n.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        n
    }

    /// `careledger notify register EMAIL` as `user`, then `careledger notify
    /// confirm CODE` with the code mailed to EMAIL: its address for the notices.
    /// The confirmation mail leaves the Maildir's new/ (see
    /// [`crate::smtp::take_code`]), so the tests' waits see notices only.
    pub fn register(&self, user: &User, email: &str) {
        self.register_pending(user, email);
        let code = self.take_code(email);
        self.confirm(user, &code);
    }

    /// `careledger notify register EMAIL` only: the address waits for its code.
    pub fn register_pending(&self, user: &User, email: &str) -> serde_json::Value {
        let r = user.json(&["notify", "register", email, "--notifier", &self.url]);
        assert_eq!(r["status"], "pending", "{r}");
        r
    }

    /// The code of the confirmation mail to `email`, taken from the Maildir.
    pub fn take_code(&self, email: &str) -> String {
        let maildir = self
            .maildir
            .as_ref()
            .expect("the notifier mails to an Smtp started by this process");
        crate::smtp::take_code(maildir, email, Duration::from_secs(60))
    }

    /// `careledger notify confirm CODE` as `user`; panics if refused.
    pub fn confirm(&self, user: &User, code: &str) -> serde_json::Value {
        let r = user.json(&["notify", "confirm", code, "--notifier", &self.url]);
        assert_eq!(r["status"], "confirmed", "{r}");
        r
    }

    /// `careledger notify status` as `user`: none, pending or confirmed.
    pub fn status(&self, user: &User) -> String {
        let r = user.json(&["notify", "status", "--notifier", &self.url]);
        r["status"].as_str().expect("a status").to_string()
    }

    /// The answer of `GET /health`.
    pub fn health(&self) -> serde_json::Value {
        crate::http::request("GET", &format!("{}/health", self.url), None)
            .expect("/health answers")
            .1
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
