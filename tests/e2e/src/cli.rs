//! The `careledger` binary as users run it: one process per command, each user with
//! a key in the environment, every output kept for the privacy scan.

use crate::net::{repo_root, Account, Net};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `careledger` as one user runs it against one deployment: nothing inherited
/// from the test's environment but PATH, the node at `rpc_url`, the deployment
/// file and block store of `dir` (`deployment.json`, `ipfs/`), and the user's
/// key if any. The one runner of the CLI's tests and the end-to-end tests.
pub fn careledger(binary: &Path, rpc_url: &str, dir: &Path, key: Option<&str>) -> Command {
    let mut cmd = Command::new(binary);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CARELEDGER_RPC_URL", rpc_url)
        .env("CARELEDGER_DEPLOYMENT", dir.join("deployment.json"))
        .env("CARELEDGER_STORE", dir.join("ipfs"));
    if let Some(key) = key {
        cmd.env("CARELEDGER_PRIVATE_KEY", key);
    }
    cmd
}

/// The parsed `--json` output of `careledger args`, which must have succeeded.
pub fn json_output(args: &[&str], out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "careledger {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "careledger {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The trimmed stderr of `careledger args`, which must have failed as a
/// run-time error (exit status 1), not as a usage error (2) or a panic.
pub fn error_output(args: &[&str], out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "careledger {args:?} should fail: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "careledger {args:?} panicked: {stderr}"
    );
    stderr.trim().to_string()
}

/// The stderr of `careledger args`, which clap must have refused as a usage
/// error (exit status 2, no JSON), without a panic.
pub fn usage_error_output(args: &[&str], out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(2),
        "careledger {args:?} should be refused as usage: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "careledger {args:?} panicked: {stderr}"
    );
    stderr.trim().to_string()
}

/// A built binary of the workspace, next to this test's executable
/// (`cargo test --workspace` builds every package's binaries before it runs tests).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/<name>
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("a target dir")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p careledger-cli -p careledger-notifier` first \
         (scripts/test's `cargo test --workspace` builds it)",
        path.display()
    );
    path
}

/// One deployment's users: the same deployment file and IPFS store (the
/// embedded store stands in for the IPFS network every user reaches), and a log of
/// every command's stdout and stderr.
pub struct World<'n> {
    /// The chain it is deployed on.
    pub net: &'n Net,
    /// Its directory: the deployment file, the IPFS store and what commands write.
    pub dir: PathBuf,
    /// Every command's stdout and stderr, appended.
    pub log: PathBuf,
    /// The deployer, who owns the contracts.
    pub owner: Account,
    /// The verifier the owner accredited.
    pub verifier: Account,
}

/// One user.
pub struct User<'w, 'n> {
    /// The deployment it uses.
    pub world: &'w World<'n>,
    /// Its key, as `CARELEDGER_PRIVATE_KEY` of each command.
    pub account: Account,
}

impl<'n> World<'n> {
    /// Deploys CareLedger with a fresh owner and accredits a fresh verifier.
    pub fn deploy(net: &'n Net, dir: &Path) -> Self {
        let world = Self {
            net,
            dir: dir.to_path_buf(),
            log: dir.join("cli.log"),
            owner: net.account(true),
            verifier: net.account(false),
        };
        let contracts = repo_root().join("target/contracts");
        assert!(
            contracts.join("access-token.wasm").exists(),
            "{} has no contracts: run scripts/build-contracts",
            contracts.display()
        );
        let owner = world.user(world.owner.clone());
        owner.json(&["deploy", "--contracts", &contracts.display().to_string()]);
        owner.json(&["verifier", "add", &world.verifier.addr()]);
        world
    }

    /// `account` as a user of this deployment, with no role taken.
    pub fn user<'w>(&'w self, account: Account) -> User<'w, 'n> {
        User {
            world: self,
            account,
        }
    }

    /// A fresh, registered patient.
    pub fn patient<'w>(&'w self) -> User<'w, 'n> {
        let u = self.user(self.net.account(false));
        u.json(&["patient", "register"]);
        u
    }

    /// A fresh doctor, registered and verified.
    pub fn doctor<'w>(&'w self, licence: &str) -> User<'w, 'n> {
        let u = self.user(self.net.account(false));
        u.json(&["doctor", "register", "--licence", licence]);
        self.user(self.verifier.clone())
            .json(&["doctor", "verify", &u.account.addr()]);
        u
    }

    /// The deployment file `careledger deploy` wrote.
    pub fn deployment_file(&self) -> PathBuf {
        self.dir.join("deployment.json")
    }

    /// The embedded IPFS store every user shares.
    pub fn store(&self) -> PathBuf {
        self.dir.join("ipfs")
    }

    /// The contracts' addresses from the deployment file.
    pub fn contracts(&self) -> Vec<String> {
        let d: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.deployment_file()).unwrap()).unwrap();
        ["patientRegistry", "accessToken", "recordRegistry"]
            .iter()
            .map(|k| {
                d[k].as_str()
                    .unwrap_or_else(|| panic!("{k} in the deployment file: {d}"))
                    .to_string()
            })
            .collect()
    }
}

impl User<'_, '_> {
    fn cmd(&self, args: &[&str]) -> Output {
        let w = self.world;
        let out = careledger(
            &binary("careledger"),
            &w.net.url,
            &w.dir,
            Some(&self.account.key),
        )
        .args(args)
        .output()
        .expect("careledger runs");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&w.log)
            .unwrap();
        writeln!(log, "$ careledger {}", args.join(" ")).unwrap();
        log.write_all(&out.stdout).unwrap();
        log.write_all(&out.stderr).unwrap();
        out
    }

    /// `args` with --json: the parsed output; panics on failure.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        json_output(args, &self.cmd(&all))
    }

    /// `args`, expected to fail: its error (exit status 1, no panic).
    pub fn fails(&self, args: &[&str]) -> String {
        error_output(args, &self.cmd(args))
    }

    /// `args`, expected to be refused by clap: its message (exit status 2).
    pub fn misuses(&self, args: &[&str]) -> String {
        usage_error_output(args, &self.cmd(args))
    }

    /// The user's address, checksummed.
    pub fn addr(&self) -> String {
        self.account.addr()
    }

    /// Reads record `id` into `file` (relative to the world's dir) and returns its bytes.
    pub fn read(&self, id: &str, file: &str) -> Vec<u8> {
        self.json(&["record", "get", id, "-o", file]);
        std::fs::read(self.world.dir.join(file)).unwrap()
    }

    /// Whether reading record `id` is refused with "access denied" (and leaves no file).
    pub fn refused(&self, id: &str) -> bool {
        let file = format!("refused-{}-{id}.out", &self.addr()[2..10]);
        let err = self.fails(&["record", "get", id, "-o", &file]);
        assert!(!self.world.dir.join(&file).exists(), "a partial output");
        err.contains("access denied")
    }
}
