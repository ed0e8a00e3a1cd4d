//! A devnode on its own thread and the `careledger` binary run against it, each
//! test with its own chain, deployment file and block store.

use assert_cmd::Command;
use careledger_devnode::{Devnode, SpawnedDevnode};
use std::path::{Path, PathBuf};

pub(crate) struct Chain {
    pub(crate) url: String,
    pub(crate) keys: Vec<String>,
    pub(crate) addresses: Vec<String>,
    _dev: SpawnedDevnode,
}

impl Chain {
    /// An in-memory devnode serving on a free loopback port until dropped.
    pub(crate) fn start() -> Self {
        let dev = Devnode::spawn_ephemeral().expect("devnode starts");
        let accounts = dev.accounts();
        Self {
            url: dev.url().to_string(),
            keys: accounts
                .iter()
                .map(|a| format!("0x{}", alloy::hex::encode(a.signer.to_bytes())))
                .collect(),
            addresses: accounts.iter().map(|a| a.address().to_string()).collect(),
            _dev: dev,
        }
    }

    /// A JSON-RPC call's result, for what the CLI has no verb for (moving the
    /// clock); panics on an error answer.
    pub(crate) fn rpc(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        careledger_e2e::http::json_rpc(&self.url, method, params.clone())
            .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
    }
}

/// The contracts as scripts/build-contracts writes them (scripts/test builds them first).
pub(crate) fn contracts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/contracts");
    assert!(
        dir.join("access-token.wasm").exists(),
        "{} has no contracts: run scripts/build-contracts",
        dir.display()
    );
    dir
}

/// A raw leaf block (`bafkrei…`) of a block store directory: a block below the
/// root, to tamper with or remove.
pub(crate) fn raw_leaf(store: &Path) -> PathBuf {
    std::fs::read_dir(store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("bafkrei")
        })
        .unwrap_or_else(|| panic!("{} holds no raw leaf", store.display()))
}

/// One user's view: the chain, a key, the shared deployment file and store.
pub(crate) struct User<'a> {
    pub(crate) chain: &'a Chain,
    pub(crate) dir: &'a Path,
    pub(crate) key: Option<String>,
}

impl User<'_> {
    /// The binary with this user's environment (careledger_e2e::cli::careledger),
    /// killed after 120 s.
    pub(crate) fn cmd(&self) -> Command {
        let mut cmd = Command::from_std(careledger_e2e::cli::careledger(
            &assert_cmd::cargo::cargo_bin("careledger"),
            &self.chain.url,
            self.dir,
            self.key.as_deref(),
        ));
        cmd.timeout(std::time::Duration::from_secs(120));
        cmd
    }

    /// Runs `args` with --json and returns the parsed output; panics on failure.
    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd().args(args).arg("--json").output().expect("runs");
        careledger_e2e::cli::json_output(args, &out)
    }

    /// Runs `args`, expects failure, and returns its one line, `error: …`.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        one_line_error(args, &self.cmd().args(args).output().expect("runs"))
    }
}

/// The error of a run that had to fail (exit status 1, no panic): exactly one
/// line, `error: …`, as every CLI error is.
pub(crate) fn one_line_error(args: &[&str], out: &std::process::Output) -> String {
    let stderr = careledger_e2e::cli::error_output(args, out);
    let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "careledger {args:?}: one line expected, got {stderr}"
    );
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0].to_string()
}

/// A deployed CareLedger: 0 owner, 1 verifier, 2 patient, 3 doctor, 4 second doctor,
/// with the verifier accredited, the patient and both doctors registered and verified.
pub(crate) fn deployed<'a>(chain: &'a Chain, dir: &'a Path) -> Vec<User<'a>> {
    let users: Vec<User> = (0..6)
        .map(|i| User {
            chain,
            dir,
            key: Some(chain.keys[i].clone()),
        })
        .collect();
    users[0].json(&["deploy", "--contracts", contracts().to_str().unwrap()]);
    users[0].json(&["verifier", "add", &chain.addresses[1]]);
    users[2].json(&["patient", "register"]);
    users[3].json(&["doctor", "register", "--licence", "GMC-1"]);
    users[4].json(&["doctor", "register", "--licence", "GMC-2"]);
    users[1].json(&["doctor", "verify", &chain.addresses[3]]);
    users[1].json(&["doctor", "verify", &chain.addresses[4]]);
    users
}

/// A one-thread HTTP server on a free loopback port answering each request with
/// `handler(method, path, body) -> (status, json body)`; for stand-ins of remote
/// services (a lying IPFS node, a pinning service).
pub(crate) fn serve(handler: fn(&str, &str, &str) -> (u16, String)) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            let mut chunked = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                    chunked = true;
                }
            }
            let mut body = Vec::new();
            if chunked {
                // Read chunks until the zero-length one (uploads of CARs are streamed).
                loop {
                    let mut size = String::new();
                    if reader.read_line(&mut size).unwrap_or(0) == 0 {
                        break;
                    }
                    let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                    let mut chunk = vec![0; n + 2];
                    if reader.read_exact(&mut chunk).is_err() || n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
            } else {
                body.resize(length, 0);
                let _ = reader.read_exact(&mut body);
            }
            let mut parts = request_line.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (status, answer) = handler(method, path, &String::from_utf8_lossy(&body));
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

/// A js-ipfs daemon (scripts/ipfs/start, installed by scripts/setup) on a free
/// port, killed when dropped.
/// `careledger ipfs serve` on a store of its own, as another machine's CLI
/// would run it; killed when dropped.
pub(crate) struct ServedStore {
    child: std::process::Child,
    pub(crate) api: String,
    _dir: tempfile::TempDir,
}

impl ServedStore {
    pub(crate) fn start() -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_careledger"))
            .env_clear()
            .args([
                "ipfs",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--json",
                "--store",
            ])
            .arg(dir.path().join("store"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("careledger starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("ipfs serve's ready line ({e}): {line:?}"));
        Self {
            child,
            api: ready["listening"].as_str().unwrap().to_string(),
            _dir: dir,
        }
    }
}

impl Drop for ServedStore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct JsIpfs {
    child: std::process::Child,
    pub(crate) api: String,
    _dir: tempfile::TempDir,
}

impl JsIpfs {
    pub(crate) fn start() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let jsipfs = root.join("scripts/ipfs/node_modules/.bin/jsipfs");
        assert!(jsipfs.exists(), "js-ipfs is missing: run scripts/setup");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(root.join("scripts/ipfs/start"))
            .arg(dir.path().join("repo"))
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("scripts/ipfs/start runs");
        let api = format!("http://127.0.0.1:{port}");
        let mut ipfs = Self {
            child,
            api,
            _dir: dir,
        };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                ipfs.child.try_wait().unwrap().is_none(),
                "the js-ipfs daemon exited: run scripts/setup"
            );
            assert!(
                started.elapsed().as_secs() < 120,
                "js-ipfs did not start in 120 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        ipfs
    }
}

impl Drop for JsIpfs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-thread HTTP server on a free loopback port that answers every request
/// with `status` and exactly `body`, bytes as they are: a node gone wrong.
pub(crate) fn serve_raw(status: u16, body: &'static [u8]) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut request = vec![0; length];
            let _ = reader.read_exact(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    url
}

/// A deployment file naming contracts at 0x…01, 0x…02 and 0x…03 on chain 412346
/// from block 0, for commands run against a stand-in node.
pub(crate) fn fake_deployment(dir: &Path) -> PathBuf {
    let path = dir.join("deployment.json");
    std::fs::write(
        &path,
        br#"{"chainId":412346,"patientRegistry":"0x0000000000000000000000000000000000000001","accessToken":"0x0000000000000000000000000000000000000002","recordRegistry":"0x0000000000000000000000000000000000000003","deployBlock":0}"#,
    )
    .unwrap();
    path
}

/// Runs the CLI with `args` where clap must refuse them: exit status 2, no
/// panic, and the refusal's text.
pub(crate) fn refused_by_clap(user: &User, args: &[&str]) -> String {
    let out = user.cmd().args(args).output().expect("runs");
    let stderr = careledger_e2e::cli::usage_error_output(args, &out);
    assert!(stderr.starts_with("error: invalid value"), "{stderr}");
    stderr
}
