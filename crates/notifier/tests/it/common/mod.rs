//! The real parts the notifier tests run against: a devnode on its own thread
//! with CareLedger deployed through the CLI's library, aiosmtpd (a real SMTP
//! server writing a Maildir), and the `careledger-notifier` binary as a child
//! process that can be killed.
#![allow(dead_code)]

/// aiosmtpd, as the end-to-end suite runs it.
pub(crate) use careledger_e2e::smtp;

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use careledger_cli::context::Ctx;
use careledger_contact::{domain, RegisterRequest, RemoveRequest};
use careledger_devnode::{Devnode, SpawnedDevnode};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Chain {
    pub(crate) url: String,
    pub(crate) ws_url: String,
    pub(crate) keys: Vec<PrivateKeySigner>,
    _dev: SpawnedDevnode,
}

impl Chain {
    pub(crate) fn start() -> Self {
        let dev = Devnode::spawn_ephemeral().expect("devnode starts");
        Self {
            url: dev.url().to_string(),
            ws_url: dev.ws_url().to_string(),
            keys: dev.accounts().iter().map(|a| a.signer.clone()).collect(),
            _dev: dev,
        }
    }

    pub(crate) fn address(&self, i: usize) -> Address {
        self.keys[i].address()
    }
}

/// A deployed CareLedger: 0 owner, 1 verifier, 2 patient, 3 and 4 verified
/// doctors, 5 a second patient.
pub(crate) struct World {
    pub(crate) chain: Chain,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) deployment: careledger_bindings::Deployment,
}

impl World {
    pub(crate) async fn start() -> Self {
        let chain = Chain::start();
        let dir = tempfile::tempdir().unwrap();
        let world = Self {
            chain,
            dir,
            deployment: careledger_bindings::Deployment {
                chain_id: 0,
                patient_registry: Address::ZERO,
                access_token: Address::ZERO,
                record_registry: Address::ZERO,
                deploy_block: 0,
            },
        };
        let contracts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/contracts");
        assert!(
            contracts.join("access-token.wasm").exists(),
            "no contracts in {}: run scripts/build-contracts",
            contracts.display()
        );
        use careledger_cli::cmd::{deploy, roles};
        let (deployment, _) = deploy::run(&world.as_user(0), &contracts).await.unwrap();
        roles::verifier(&world.as_user(0), world.chain.address(1), true)
            .await
            .unwrap();
        roles::register_patient(&world.as_user(2)).await.unwrap();
        roles::register_patient(&world.as_user(5)).await.unwrap();
        for (i, licence) in [(3, "GMC-1"), (4, "GMC-2")] {
            roles::register_doctor(&world.as_user(i), &licence.parse().unwrap())
                .await
                .unwrap();
            roles::verify_doctor(&world.as_user(1), world.chain.address(i), false)
                .await
                .unwrap();
        }
        Self {
            deployment,
            ..world
        }
    }

    /// The CLI's context for account `i` (shared deployment file, own store).
    pub(crate) fn as_user(&self, i: usize) -> Ctx {
        Ctx::new(
            &self.chain.url.parse().unwrap(),
            Some(self.chain.keys[i].clone()),
            self.dir.path().join("deployment.json"),
            self.dir.path().join(format!("store-{i}")),
            None,
            false,
        )
        .unwrap()
    }

    pub(crate) fn deployment_file(&self) -> PathBuf {
        self.dir.path().join("deployment.json")
    }

    pub(crate) fn rpc(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        post_json(&self.chain.url, &body).1
    }

    /// A grant of everything from `patient` to `doctor`, ending `secs` from chain time.
    pub(crate) async fn grant(&self, patient: usize, doctor: usize, secs: u64) -> u64 {
        let ctx = self.as_user(patient);
        let expires = ctx.chain_time().await.unwrap() + secs;
        let call = careledger_bindings::IAccessToken::grantCall {
            doctor: self.chain.address(doctor),
            expires_at: expires,
            scope_kind: 0,
            category: B256::ZERO,
            record_ids: vec![],
        };
        let receipt = ctx
            .transact(self.deployment.access_token, call)
            .await
            .unwrap();
        receipt.block_number.unwrap()
    }
}

impl World {
    /// `patient` names `custodians` (registered accounts with a key) as its
    /// emergency custodians: without one no doctor can break the glass.
    pub(crate) async fn name_custodians(&self, patient: usize, custodians: &[usize]) {
        let call = careledger_bindings::IPatientRegistry::setEmergencyCustodiansCall {
            custodians: custodians.iter().map(|&i| self.chain.address(i)).collect(),
        };
        self.as_user(patient)
            .transact(self.deployment.patient_registry, call)
            .await
            .unwrap();
    }

    /// `doctor` opens break-glass access to `patient` for `reason`
    /// (careledger_common::emergency_reason); returns the block.
    pub(crate) async fn open_emergency(&self, doctor: usize, patient: usize, reason: u8) -> u64 {
        let call = careledger_bindings::IAccessToken::openEmergencyAccessCall {
            patient: self.chain.address(patient),
            reason,
        };
        let receipt = self
            .as_user(doctor)
            .transact(self.deployment.access_token, call)
            .await
            .unwrap();
        receipt.block_number.unwrap()
    }

    /// `custodian` re-wraps version `version` of `record` for `doctor` (the key
    /// bytes are opaque to the contract).
    pub(crate) async fn release_key(
        &self,
        custodian: usize,
        record: u64,
        version: u32,
        doctor: usize,
    ) {
        let call = careledger_bindings::IRecordRegistry::wrapKeysCall {
            record_id: alloy::primitives::U256::from(record),
            version,
            readers: vec![self.chain.address(doctor)],
            wrapped_keys: vec![vec![0x5a; 80].into()],
        };
        self.as_user(custodian)
            .transact(self.deployment.record_registry, call)
            .await
            .unwrap();
    }
}

impl World {
    /// The latest block's number.
    pub(crate) fn head(&self) -> u64 {
        let n = self.rpc("eth_blockNumber", serde_json::json!([]));
        u64::from_str_radix(
            n["result"]
                .as_str()
                .expect("a block number")
                .trim_start_matches("0x"),
            16,
        )
        .unwrap()
    }

    /// How many AccessGranted and AccessRevoked logs the token wrote so far:
    /// each is one notice to its doctor. A grant that finds its pair's 8 places
    /// taken burns the expired tokens first, each with an AccessRevoked (mailed
    /// as "cleared for a new one"), so a bulk of grants is more than one notice
    /// each.
    pub(crate) async fn access_events(&self) -> (usize, usize) {
        use alloy::providers::{Provider, ProviderBuilder};
        use alloy::rpc::types::Filter;
        use alloy::sol_types::SolEvent;
        use careledger_bindings::IAccessToken;
        let provider = ProviderBuilder::new().connect_http(self.chain.url.parse().unwrap());
        let mut counts = [0; 2];
        for (i, signature) in [
            IAccessToken::AccessGranted::SIGNATURE_HASH,
            IAccessToken::AccessRevoked::SIGNATURE_HASH,
        ]
        .into_iter()
        .enumerate()
        {
            let filter = Filter::new()
                .address(self.deployment.access_token)
                .event_signature(signature)
                .from_block(0);
            counts[i] = provider.get_logs(&filter).await.unwrap().len();
        }
        (counts[0], counts[1])
    }
}

/// Sends `n` grants of everything from `patient` to `doctor`, each lasting a
/// minute, without waiting for receipts (the devnode mines each on arrival):
/// bulk load for the exactly-once tests. The clock jumps past the live grants
/// every 8, the contract's cap per pair. `between(i)` runs after grant `i`.
impl World {
    pub(crate) async fn grant_many(
        &self,
        patient: usize,
        doctor: usize,
        n: usize,
        mut between: impl FnMut(usize),
    ) {
        use alloy::network::{EthereumWallet, TransactionBuilder};
        use alloy::providers::{Provider, ProviderBuilder};
        use alloy::sol_types::SolCall;
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.chain.keys[patient].clone()))
            .connect_http(self.chain.url.parse().unwrap());
        let ctx = self.as_user(patient);
        let mut expires = 0;
        for i in 0..n {
            // Also at 0: grants of an earlier call may still be live.
            if i % 8 == 0 {
                self.rpc("evm_increaseTime", serde_json::json!([120]));
                // Mined, so the chain time the next expiries count from has moved.
                self.rpc("evm_mine", serde_json::json!([]));
                expires = ctx.chain_time().await.unwrap() + 60;
            }
            let call = careledger_bindings::IAccessToken::grantCall {
                doctor: self.chain.address(doctor),
                expires_at: expires,
                scope_kind: 0,
                category: B256::ZERO,
                record_ids: vec![],
            };
            let tx = alloy::rpc::types::TransactionRequest::default()
                .with_to(self.deployment.access_token)
                .with_input(call.abi_encode())
                .with_gas_limit(3_000_000);
            // Mined on arrival: the receipt is not waited for.
            let _pending = provider
                .send_transaction(tx)
                .await
                .expect("the grant is accepted");
            between(i);
        }
    }
}

/// The start of most tests: a deployed world, aiosmtpd, and a notifier (with
/// `extra` configuration) that has doctor 3's address, confirmed. The
/// confirmation mail is taken out of the Maildir's new/: what the tests count
/// there are notices only (the outbox's `sent` counts the confirmation too).
pub(crate) async fn doctor3_subscribed(extra: &[(&str, &str)]) -> (World, smtp::Smtp, Notifier) {
    let world = World::start().await;
    let smtp = smtp::Smtp::start(world.dir.path());
    let notifier = Notifier::start(&world, smtp.port, extra);
    notifier.subscribe(&world, &smtp, &world.chain.keys[3], "doctor3@example.org");
    (world, smtp, notifier)
}

/// POSTs JSON and returns (status, body) with a std socket: no client crate.
pub(crate) fn post_json(url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    http("POST", url, Some(body))
}

pub(crate) fn http(
    method: &str,
    url: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let (status, _, json) = request(method, url, &[], body);
    (status, json)
}

/// `http` with extra request headers, also returning the response's headers
/// (names lower-cased).
pub(crate) fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> (u16, Vec<(String, String)>, serde_json::Value) {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let mut s = std::net::TcpStream::connect(host).expect("the server listens");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         {extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, json) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let response_headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (
        status,
        response_headers,
        serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
    )
}

pub(crate) use careledger_e2e::free_port;

/// The notifier binary, configured through its environment.
pub(crate) struct Notifier {
    pub(crate) child: Option<Child>,
    pub(crate) url: String,
    pub(crate) log: PathBuf,
    env: Vec<(String, String)>,
}

impl Notifier {
    pub(crate) fn start(world: &World, smtp_port: u16, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut env = vec![
            ("rpc_url".to_string(), world.chain.url.clone()),
            ("ws_url".into(), world.chain.ws_url.clone()),
            (
                "deployment".into(),
                world.deployment_file().display().to_string(),
            ),
            (
                "database".into(),
                world
                    .dir
                    .path()
                    .join("notifier.sqlite")
                    .display()
                    .to_string(),
            ),
            ("listen".into(), format!("127.0.0.1:{port}")),
            ("poll_interval_ms".into(), "200".into()),
            ("smtp_host".into(), "127.0.0.1".into()),
            ("smtp_port".into(), smtp_port.to_string()),
            ("smtp_security".into(), "none".into()),
            (
                "mail_from".into(),
                "CareLedger <notify@careledger.test>".into(),
            ),
            ("max_backoff_ms".into(), "1000".into()),
        ];
        for (k, v) in extra {
            env.retain(|(key, _)| key != k);
            env.push((k.to_string(), v.to_string()));
        }
        let mut n = Self {
            child: None,
            url: format!("http://127.0.0.1:{port}"),
            log: world.dir.path().join("notifier.log"),
            env,
        };
        n.spawn();
        n
    }

    pub(crate) fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_careledger-notifier"));
        cmd.env_clear()
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in &self.env {
            cmd.env(format!("CARELEDGER_NOTIFIER_{}", k.to_uppercase()), v);
        }
        self.child = Some(cmd.spawn().expect("the notifier starts"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(self.url.trim_start_matches("http://")).is_err() {
            assert!(
                Instant::now() < deadline,
                "the notifier did not listen: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and the exit status.
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        sigterm(c.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit 20 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn health(&self) -> serde_json::Value {
        http("GET", &format!("{}/health", self.url), None).1
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Registers `signer`'s email with a valid EIP-712 request.
    pub(crate) fn register(
        &self,
        world: &World,
        signer: &PrivateKeySigner,
        email: &str,
    ) -> (u16, serde_json::Value) {
        let nonce = self.next_nonce(signer.address());
        let expiry = careledger_notifier::now() + 600;
        let req = register_request(world, signer, signer.address(), email, nonce, expiry);
        post_json(&format!("{}/v1/contacts", self.url), &req)
    }

    /// Registers `signer`'s `email` and confirms it with the code mailed to it
    /// (taken from `smtp`'s new/): the address then receives the notices.
    pub(crate) fn subscribe(
        &self,
        world: &World,
        smtp: &smtp::Smtp,
        signer: &PrivateKeySigner,
        email: &str,
    ) -> String {
        let (status, body) = self.register(world, signer, email);
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["status"], "pending", "{body}");
        let code = smtp.take_code(email);
        let (status, body) = self.confirm(signer.address(), &code);
        assert_eq!(status, 200, "{body}");
        code
    }

    /// `POST /v1/contacts/confirm`.
    pub(crate) fn confirm(&self, account: Address, code: &str) -> (u16, serde_json::Value) {
        post_json(
            &format!("{}/v1/contacts/confirm", self.url),
            &serde_json::json!({ "account": account, "code": code }),
        )
    }

    /// `GET /v1/contacts/{account}/status`: none, pending or confirmed.
    pub(crate) fn status(&self, account: Address) -> String {
        let (status, j) = http(
            "GET",
            &format!("{}/v1/contacts/{account}/status", self.url),
            None,
        );
        assert_eq!(status, 200, "{j}");
        j["status"].as_str().expect("a status").to_string()
    }

    pub(crate) fn next_nonce(&self, account: Address) -> u64 {
        let (_, j) = http(
            "GET",
            &format!("{}/v1/contacts/{account}/nonce", self.url),
            None,
        );
        j["nextNonce"].as_u64().expect("a nonce")
    }

    /// Waits until /health says the notifier read the chain up to `block` and
    /// every queued mail left the outbox.
    pub(crate) fn wait_read(&self, block: u64, timeout: Duration) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let h = self.health();
            let o = &h["outbox"];
            if h["cursor"].as_u64().unwrap_or(0) >= block && o["pending"] == 0 && o["sending"] == 0
            {
                return h;
            }
            assert!(Instant::now() < deadline, "not caught up in time: {h}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until /health says every queued mail left the outbox.
    pub(crate) fn wait_idle(&self, events_at_least: u64, timeout: Duration) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let h = self.health();
            let o = &h["outbox"];
            if h["counters"]["events"].as_u64().unwrap_or(0) >= events_at_least
                && o["pending"] == 0
                && o["sending"] == 0
                && h["lagBlocks"] == 0
            {
                return h;
            }
            assert!(Instant::now() < deadline, "not idle in time: {h}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.kill();
    }
}

fn sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

pub(crate) fn register_request(
    world: &World,
    signer: &PrivateKeySigner,
    account: Address,
    email: &str,
    nonce: u64,
    expiry: u64,
) -> serde_json::Value {
    let d = domain(world.deployment.chain_id, world.deployment.patient_registry);
    let hash = RegisterRequest::signing_hash(account, email, nonce, expiry, &d);
    let sig = signer.sign_hash_sync(&hash).unwrap();
    serde_json::json!({
        "account": account, "email": email, "nonce": nonce, "expiry": expiry,
        "signature": format!("0x{}", alloy::hex::encode(sig.as_bytes())),
    })
}

pub(crate) fn remove_request(
    world: &World,
    signer: &PrivateKeySigner,
    nonce: u64,
    expiry: u64,
) -> serde_json::Value {
    let d = domain(world.deployment.chain_id, world.deployment.patient_registry);
    let account = signer.address();
    let hash = RemoveRequest::signing_hash(account, nonce, expiry, &d);
    let sig = signer.sign_hash_sync(&hash).unwrap();
    serde_json::json!({
        "account": account, "nonce": nonce, "expiry": expiry,
        "signature": format!("0x{}", alloy::hex::encode(sig.as_bytes())),
    })
}

pub(crate) fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// A mail's headers and body as a reader sees them: folded header lines are
/// joined and a quoted-printable body is decoded (lettre picks that encoding
/// for lines longer than 76 characters).
pub(crate) fn readable(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let head = head.replace("\n ", " ").replace("\n\t", " ");
    let qp = head
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable");
    if !qp {
        return format!("{head}\n\n{body}");
    }
    let body = body.replace("=\n", "");
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    format!("{head}\n\n{}", String::from_utf8_lossy(&out))
}
