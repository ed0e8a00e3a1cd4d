//! The notifier's database holds email addresses in clear: the file and the
//! ones SQLite keeps beside it (-wal, -shm) are the owner's only (0600)
//! whatever the umask, and files an earlier version left readable by others
//! are tightened at start, with a log line. No chain is needed: the notifier
//! opens its database before it reads one.

use careledger_e2e::free_port;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

struct Notifier {
    child: Child,
    log: PathBuf,
}

impl Notifier {
    /// The binary under `umask`, with its database at `db`, once it listens.
    fn start(dir: &Path, db: &Path, umask: &str) -> Self {
        let deployment = dir.join("deployment.json");
        std::fs::write(
            &deployment,
            r#"{"chainId": 1, "patientRegistry": "0x0000000000000000000000000000000000000001",
               "accessToken": "0x0000000000000000000000000000000000000002",
               "recordRegistry": "0x0000000000000000000000000000000000000003", "deployBlock": 0}"#,
        )
        .unwrap();
        let log = dir.join("notifier.log");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let port = free_port();
        let vars = [
            // Nothing listens there: the follower retries, the rest runs.
            ("RPC_URL", "http://127.0.0.1:9".to_string()),
            ("WS_URL", String::new()),
            ("DEPLOYMENT", deployment.display().to_string()),
            ("DATABASE", db.display().to_string()),
            ("LISTEN", format!("127.0.0.1:{port}")),
            ("SMTP_HOST", "127.0.0.1".into()),
            ("SMTP_PORT", free_port().to_string()),
            ("SMTP_SECURITY", "none".into()),
            ("MAIL_FROM", "CareLedger <notify@careledger.test>".into()),
        ];
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!("umask {umask} && exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_careledger-notifier"))
            .env_clear()
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in vars {
            cmd.env(format!("CARELEDGER_NOTIFIER_{k}"), v);
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "the notifier exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "the notifier did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, log }
    }

    /// SIGKILL: the -wal and -shm files stay, as after a crash.
    fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The database, its WAL and its shared-memory index, all there.
fn files(db: &Path) -> [PathBuf; 3] {
    let files = [
        db.to_path_buf(),
        with_suffix(db, "-wal"),
        with_suffix(db, "-shm"),
    ];
    for f in &files {
        assert!(f.exists(), "{} missing", f.display());
    }
    files
}

#[test]
fn the_database_and_its_sidecars_are_0600_whatever_the_umask() {
    for umask in ["000", "022", "077"] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("notifier.sqlite");
        let notifier = Notifier::start(dir.path(), &db, umask);
        for f in files(&db) {
            assert_eq!(mode(&f), 0o600, "{} under umask {umask}", f.display());
        }
        let log = notifier.kill();
        assert!(!log.contains("readable by others"), "{log}");
    }
}

#[test]
fn a_database_left_readable_by_others_is_tightened_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notifier.sqlite");
    Notifier::start(dir.path(), &db, "022").kill();
    // As an earlier version left them (0644), after a crash (-wal, -shm kept).
    for f in files(&db) {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let notifier = Notifier::start(dir.path(), &db, "022");
    for f in files(&db) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    let log = notifier.kill();
    for f in files(&db) {
        let line = log
            .lines()
            .find(|l| {
                l.contains("readable by others") && l.contains(&format!("path={} ", f.display()))
            })
            .unwrap_or_else(|| panic!("no log line for {}: {log}", f.display()));
        assert!(line.contains("was=0644"), "{line}");
    }
}
