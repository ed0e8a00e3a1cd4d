//! The `careledger-notifier` binary following a world's deployment, mailing to
//! aiosmtpd, its log kept for the privacy scan.

use crate::cli::{binary, User, World};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Notifier {
    child: Child,
    pub url: String,
    pub log: PathBuf,
}

impl Notifier {
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
        let n = Self { child, url, log };
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

    /// `careledger notify register EMAIL` as `user`: its address for the notices.
    pub fn register(&self, user: &User, email: &str) {
        let r = user.json(&["notify", "register", email, "--notifier", &self.url]);
        assert_eq!(r["registered"], true, "{r}");
    }

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
