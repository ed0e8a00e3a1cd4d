//! The Stylus contracts beside their Solidity twins (abi/twins/, built by
//! `scripts/forge build`) on one chain: every operation runs on both, their
//! results, events and reverts must be equal, and the gas of each is recorded.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use careledger_bindings::{IAccessToken, IPatientRegistry, IRecordRegistry};

use crate::net::{repo_root, Account};

/// One implementation's three contracts.
#[derive(Debug, Clone, Copy)]
pub struct Contracts {
    /// PatientRegistry.
    pub registry: Address,
    /// AccessToken.
    pub token: Address,
    /// RecordRegistry.
    pub records: Address,
}

/// Gas of one operation on each implementation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// What was done, as the gas table names it.
    pub operation: String,
    /// Gas on the Stylus contracts.
    pub stylus: u64,
    /// The same operation once the three programs are in ArbOS's cache (as the
    /// CacheManager's auction winners are on Arbitrum), if the chain let us cache.
    pub stylus_cached: Option<u64>,
    /// Gas on the Solidity twins.
    pub solidity: u64,
    /// What any transaction with this calldata pays before executing a byte of
    /// code: 21,000 plus 4 gas per zero and 16 per non-zero calldata byte.
    pub intrinsic: u64,
    /// How it was measured: a mined transaction's `gasUsed`, or `eth_estimateGas` of a view.
    pub measure: &'static str,
}

impl Row {
    /// Stylus over Solidity.
    pub fn ratio(&self) -> f64 {
        self.stylus as f64 / self.solidity as f64
    }

    /// Cached Stylus over Solidity on the gas above [`Row::intrinsic`]: the part the
    /// contracts' code decides.
    pub fn cached_execution_ratio(&self) -> Option<f64> {
        self.stylus_cached.map(|gas| {
            gas.saturating_sub(self.intrinsic) as f64
                / self.solidity.saturating_sub(self.intrinsic) as f64
        })
    }

    /// Cached Stylus over Solidity, if the programs could be cached.
    pub fn cached_ratio(&self) -> Option<f64> {
        self.stylus_cached
            .map(|gas| gas as f64 / self.solidity as f64)
    }
}

/// Who acts: an owner (deployed both), an accredited verifier, a patient, doctors
/// (as many as the largest grant count, plus one), and a stranger.
pub struct Actors {
    /// Deploys both sets and owns them.
    pub owner: Account,
    /// Accredited on both sets.
    pub verifier: Account,
    /// The patient who grants and adds records.
    pub patient: Account,
    /// The doctors it grants to.
    pub doctors: Vec<Account>,
    /// An account with no role, for the reverts.
    pub stranger: Account,
}

impl Actors {
    fn all(&self) -> impl Iterator<Item = &Account> {
        [&self.owner, &self.verifier, &self.patient, &self.stranger]
            .into_iter()
            .chain(&self.doctors)
    }
}

/// The forge artifact's creation code of `abi/twins/<name>.sol` or `abi/consumers/<name>.sol`.
pub fn creation_code(name: &str) -> Vec<u8> {
    let path = repo_root().join(format!("target/forge/{name}.sol/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `scripts/forge build` (the Solidity twins)",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).expect("a forge artifact");
    let hex = json["bytecode"]["object"]
        .as_str()
        .expect("bytecode.object in the artifact");
    alloy::hex::decode(hex.trim_start_matches("0x")).expect("hex bytecode")
}

/// Sends transactions and calls as any of the actors.
pub struct Driver<P> {
    provider: P,
}

/// A transaction's outcome, compared between the implementations.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    output: Bytes,
    /// (topics, data) of every log, in order; addresses differ between the sets.
    logs: Vec<(Vec<B256>, Bytes)>,
}

/// A driver on the chain at `url` that signs for every one of `actors`.
pub async fn connect(url: &str, actors: &Actors) -> Driver<impl Provider + Clone> {
    let mut wallet = EthereumWallet::default();
    for a in actors.all() {
        let signer: PrivateKeySigner = a.key.parse().expect("a key");
        wallet.register_signer(signer);
    }
    Driver {
        provider: ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(url.parse().expect("a URL")),
    }
}

impl<P: Provider + Clone> Driver<P> {
    async fn send(&self, from: Address, tx: TransactionRequest) -> TransactionReceipt {
        let receipt = self
            .provider
            .send_transaction(tx.with_from(from))
            .await
            .expect("the transaction is accepted")
            .get_receipt()
            .await
            .expect("the transaction is mined");
        assert!(receipt.status(), "transaction from {from} reverted");
        receipt
    }

    async fn deploy(&self, from: Address, code: Vec<u8>) -> Address {
        let r = self
            .send(from, TransactionRequest::default().with_deploy_code(code))
            .await;
        r.contract_address.expect("a created contract")
    }

    /// Deploys the Solidity twins and wires them as `careledger deploy` wires the
    /// Stylus contracts; accredits `actors.verifier`.
    pub async fn deploy_twins(&self, actors: &Actors) -> Contracts {
        let owner = actors.owner.address;
        let with_args = |name: &str, args: Vec<u8>| {
            let mut code = creation_code(name);
            code.extend(args);
            code
        };
        let registry = self
            .deploy(owner, with_args("PatientRegistry", owner.abi_encode()))
            .await;
        let token = self
            .deploy(owner, with_args("AccessToken", registry.abi_encode()))
            .await;
        let records = self
            .deploy(
                owner,
                with_args("RecordRegistry", (registry, token).abi_encode_params()),
            )
            .await;
        let c = Contracts {
            registry,
            token,
            records,
        };
        self.tx(
            owner,
            token,
            IAccessToken::linkRecordRegistryCall {
                record_registry: records,
            }
            .abi_encode(),
        )
        .await;
        self.tx(
            owner,
            registry,
            IPatientRegistry::addVerifierCall {
                verifier: actors.verifier.address,
            }
            .abi_encode(),
        )
        .await;
        c
    }

    /// A transaction: its gas, its outcome (the call's output from an eth_call on
    /// the state before it, then the mined receipt's logs), and the number of the
    /// block that holds it.
    async fn tx(&self, from: Address, to: Address, data: Vec<u8>) -> (u64, Outcome, u64) {
        let req = TransactionRequest::default()
            .with_to(to)
            .with_input(data.clone());
        let output = self
            .provider
            .call(req.clone().with_from(from))
            .await
            .unwrap_or_else(|e| panic!("call to {to} from {from} failed: {e}"));
        let r = self.send(from, req).await;
        let logs = r
            .inner
            .logs()
            .iter()
            .map(|l| (l.topics().to_vec(), l.data().data.clone()))
            .collect();
        let block = r.block_number.expect("a mined receipt has a block");
        (r.gas_used, Outcome { output, logs }, block)
    }

    /// A view: `eth_estimateGas` of it, and its output.
    async fn view(&self, from: Address, to: Address, data: Vec<u8>) -> (u64, Bytes) {
        let req = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(data);
        let output = self
            .provider
            .call(req.clone())
            .await
            .unwrap_or_else(|e| panic!("view on {to} failed: {e}"));
        let gas = self
            .provider
            .estimate_gas(req)
            .await
            .expect("estimateGas of a view");
        (gas, output)
    }

    /// The revert data of a call expected to fail.
    async fn revert(&self, from: Address, to: Address, data: Vec<u8>) -> Bytes {
        let req = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(data);
        let err = self.provider.call(req).await.expect_err("the call reverts");
        err.as_error_resp()
            .and_then(|e| e.as_revert_data())
            .unwrap_or_else(|| panic!("a revert with data, got {err}"))
    }

    /// Timestamp of block `n`.
    async fn block_time(&self, n: u64) -> u64 {
        self.provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(n))
            .await
            .expect("a block")
            .expect("a mined block")
            .header
            .timestamp
    }

    /// Timestamp of the head block.
    async fn now(&self) -> u64 {
        self.provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .expect("the head")
            .expect("a head block")
            .header
            .timestamp
    }
}

/// 21,000 plus calldata gas (EIP-2028).
fn intrinsic(data: &[u8]) -> u64 {
    21_000
        + data
            .iter()
            .map(|b| if *b == 0 { 4 } else { 16 })
            .sum::<u64>()
}

/// Which contract of a set an operation goes to.
#[derive(Clone, Copy)]
enum To {
    Registry,
    Token,
    Records,
}

impl To {
    fn of(self, c: &Contracts) -> Address {
        match self {
            To::Registry => c.registry,
            To::Token => c.token,
            To::Records => c.records,
        }
    }
}

/// Runs the same operations on both sets, checks that they agree, and returns the
/// gas table: registration, verification, grant, addRecord, getRecord, revoke, and
/// hasAccess after the patient has granted each count of `grant_counts` doctors.
pub async fn compare<P: Provider + Clone>(
    d: &Driver<P>,
    actors: &Actors,
    stylus: Contracts,
    solidity: Contracts,
    grant_counts: &[usize],
) -> Vec<Row> {
    let sets = [stylus, solidity];
    let mut rows = Vec::new();
    let patient = actors.patient.address;
    let verifier = actors.verifier.address;

    // (the output, the blocks holding the Stylus and the Solidity transaction)
    macro_rules! both_tx {
        ($row:expr, $from:expr, $to:expr, $data:expr) => {{
            let data: Vec<u8> = $data;
            let base = intrinsic(&data);
            let (gs, os, bs) = d.tx($from, $to.of(&sets[0]), data.clone()).await;
            let (gd, od, bd) = d.tx($from, $to.of(&sets[1]), data).await;

            assert_eq!(os, od, "{:?}: Stylus and Solidity disagree", $row);
            if let Some(name) = $row {
                rows.push(Row {
                    operation: name,
                    stylus: gs,
                    stylus_cached: None,
                    solidity: gd,
                    intrinsic: base,
                    measure: "gasUsed",
                });
            }
            (os.output, [bs, bd])
        }};
    }
    macro_rules! both_view {
        ($row:expr, $from:expr, $to:expr, $data:expr) => {{
            let data: Vec<u8> = $data;
            let base = intrinsic(&data);
            let (gs, os) = d.view($from, $to.of(&sets[0]), data.clone()).await;
            let (gd, od) = d.view($from, $to.of(&sets[1]), data).await;
            assert_eq!(os, od, "{}: Stylus and Solidity disagree", $row);
            rows.push(Row {
                operation: $row,
                stylus: gs,
                stylus_cached: None,
                solidity: gd,
                intrinsic: base,
                measure: "eth_estimateGas",
            });
            os
        }};
    }
    macro_rules! both_revert {
        ($what:expr, $from:expr, $to:expr, $data:expr) => {{
            let data: Vec<u8> = $data;
            let rs = d.revert($from, $to.of(&sets[0]), data.clone()).await;
            let rd = d.revert($from, $to.of(&sets[1]), data).await;
            assert_eq!(rs, rd, "{}: the reverts differ", $what);
            assert!(rs.len() >= 4, "{}: a custom error", $what);
        }};
    }

    both_tx!(
        Some("registerPatient".to_string()),
        patient,
        To::Registry,
        IPatientRegistry::registerPatientCall {
            encryption_key: B256::repeat_byte(0x11),
        }
        .abi_encode()
    );
    for (i, doc) in actors.doctors.iter().enumerate() {
        both_tx!(
            (i == 0).then(|| "registerDoctor".to_string()),
            doc.address,
            To::Registry,
            IPatientRegistry::registerDoctorCall {
                encryption_key: B256::with_last_byte(i as u8 + 1),
                licence_hash: B256::repeat_byte(0x22),
            }
            .abi_encode()
        );
    }
    // Nobody verifies a doctor but a verifier; an unverified doctor gets no grant.
    let first = actors.doctors[0].address;
    let expires = d.now().await + 86_400;
    let grant = |doctor: Address| {
        IAccessToken::grantCall {
            doctor,
            expires_at: expires,
            scope_kind: 0,
            category: B256::ZERO,
            record_ids: vec![],
        }
        .abi_encode()
    };
    both_revert!(
        "grant to an unverified doctor",
        patient,
        To::Token,
        grant(first)
    );
    both_revert!(
        "verify by a stranger",
        actors.stranger.address,
        To::Registry,
        IPatientRegistry::verifyDoctorCall { doctor: first }.abi_encode()
    );
    for (i, doc) in actors.doctors.iter().enumerate() {
        both_tx!(
            (i == 0).then(|| "verifyDoctor".to_string()),
            verifier,
            To::Registry,
            IPatientRegistry::verifyDoctorCall {
                doctor: doc.address
            }
            .abi_encode()
        );
    }

    // A record as the CLI writes one: a 36-byte CIDv1 and an 80-byte HPKE envelope.
    let cid = {
        let mut c = vec![0x01, 0x70, 0x12, 0x20];
        c.extend([0xab; 32]);
        Bytes::from(c)
    };
    let add = IRecordRegistry::addRecordCall {
        cid: cid.clone(),
        content_hash: B256::repeat_byte(0x33),
        category: B256::repeat_byte(0x44),
        readers: vec![patient],
        wrapped_keys: vec![Bytes::from(vec![0x55; 80])],
    }
    .abi_encode();
    let (out, blocks) = both_tx!(
        Some("addRecord (36-byte CID, 1 reader)".to_string()),
        patient,
        To::Records,
        add
    );
    let record_id = U256::abi_decode(&out).expect("a record id");
    let added_at = [d.block_time(blocks[0]).await, d.block_time(blocks[1]).await];

    let (out, _) = both_tx!(
        Some("grant (all records, to a verified doctor)".to_string()),
        patient,
        To::Token,
        grant(first)
    );
    let first_token = U256::abi_decode(&out).expect("a token id");
    // Each implementation stamps the record with the time of its own block, which
    // may be a second apart: the timestamps are checked against those blocks, the
    // rest for equality.
    let get = IRecordRegistry::getRecordCall { record_id }.abi_encode();
    let (gs, os) = d.view(first, sets[0].records, get.clone()).await;
    let (gd, od) = d.view(first, sets[1].records, get.clone()).await;
    let decode = |b: &Bytes| {
        IRecordRegistry::getRecordCall::abi_decode_returns(b).expect("getRecord's answer")
    };
    let (rs, rd) = (decode(&os), decode(&od));
    assert_eq!([rs._5, rd._5], added_at, "getRecord's timestamps");
    assert_eq!(
        (rs._0, rs._1, &rs._2, rs._3, rs._4),
        (rd._0, rd._1, &rd._2, rd._3, rd._4),
        "getRecord: Stylus and Solidity disagree"
    );
    rows.push(Row {
        operation: "getRecord (a granted doctor; RecordRegistry → AccessToken → PatientRegistry)"
            .to_string(),
        stylus: gs,
        stylus_cached: None,
        solidity: gd,
        intrinsic: intrinsic(&get),
        measure: "eth_estimateGas",
    });
    both_revert!(
        "getRecord by a stranger",
        actors.stranger.address,
        To::Records,
        IRecordRegistry::getRecordCall { record_id }.abi_encode()
    );

    let mut granted = 1;
    for &count in grant_counts {
        assert!(
            count <= actors.doctors.len(),
            "{count} grants need as many doctors"
        );
        while granted < count {
            both_tx!(
                None::<String>,
                patient,
                To::Token,
                grant(actors.doctors[granted].address)
            );
            granted += 1;
        }
        let last = actors.doctors[count - 1].address;
        let out = both_view!(
            format!(
                "hasAccess (patient with {count} live grant{})",
                if count == 1 { "" } else { "s" }
            ),
            last,
            To::Token,
            IAccessToken::hasAccessCall {
                patient,
                doctor: last,
                record_id,
            }
            .abi_encode()
        );
        assert!(
            bool::abi_decode(&out).expect("a bool"),
            "{count}: access expected"
        );
    }
    let ungranted = actors.doctors[actors.doctors.len() - 1].address;
    if granted < actors.doctors.len() {
        let out = both_view!(
            "hasAccess (a verified doctor without a grant)".to_string(),
            ungranted,
            To::Token,
            IAccessToken::hasAccessCall {
                patient,
                doctor: ungranted,
                record_id,
            }
            .abi_encode()
        );
        assert!(!bool::abi_decode(&out).expect("a bool"));
    }

    both_tx!(
        Some("revoke".to_string()),
        patient,
        To::Token,
        IAccessToken::revokeCall {
            token_id: first_token
        }
        .abi_encode()
    );
    both_revert!(
        "revoke twice",
        patient,
        To::Token,
        IAccessToken::revokeCall {
            token_id: first_token
        }
        .abi_encode()
    );
    both_revert!(
        "getRecord after revocation",
        first,
        To::Records,
        IRecordRegistry::getRecordCall { record_id }.abi_encode()
    );
    rows
}

/// Deploys CareLedger through `careledger deploy` and the twins beside it on `net`,
/// then [`compare`]s them; `dir` holds the CLI's files. With `cached`, does it all
/// again on a second deployment after caching the programs (ArbWasmCache, as the
/// chain owner: the funder on a devnode) and fills [`Row::stylus_cached`].
pub fn run(
    net: &crate::Net,
    dir: &std::path::Path,
    grant_counts: &[usize],
    cached: bool,
) -> Vec<Row> {
    let most = grant_counts.iter().copied().max().unwrap_or(1);
    let patient = net.account(false);
    // One more than granted: the doctor without a grant.
    let doctors: Vec<Account> = (0..=most).map(|_| net.account(false)).collect();
    let stranger = net.account(false);
    let pass = |sub: &str| {
        let dir = dir.join(sub);
        std::fs::create_dir_all(&dir).expect("a pass's dir");
        let world = crate::cli::World::deploy(net, &dir);
        let actors = Actors {
            owner: world.owner.clone(),
            verifier: world.verifier.clone(),
            patient: patient.clone(),
            doctors: doctors.clone(),
            stranger: stranger.clone(),
        };
        let a: Vec<Address> = world
            .contracts()
            .iter()
            .map(|a| a.parse().expect("an address in the deployment file"))
            .collect();
        let stylus = Contracts {
            registry: a[0],
            token: a[1],
            records: a[2],
        };
        let rows = net.block_on(async {
            let d = connect(&net.url, &actors).await;
            let solidity = d.deploy_twins(&actors).await;
            compare(&d, &actors, stylus, solidity, grant_counts).await
        });
        (rows, stylus)
    };
    let (mut rows, stylus) = pass("uncached");
    // The cache holds code hashes: a second deployment of the same WASM is cached too.
    if cached && net.cache_programs(&[stylus.registry, stylus.token, stylus.records]) {
        let (again, _) = pass("cached");
        for (row, other) in rows.iter_mut().zip(again) {
            assert_eq!(row.operation, other.operation);
            assert_eq!(
                row.solidity, other.solidity,
                "{}: Solidity's gas moved",
                row.operation
            );
            row.stylus_cached = Some(other.stylus);
        }
    }
    rows
}

/// The table as Markdown: operation, gas of each, and Stylus / Solidity.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| operation | Solidity | Stylus | Stylus / Solidity | Stylus, cached | cached / Solidity | same, above intrinsic | measured as |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    let two = |x: Option<f64>| x.map_or("n/a".to_string(), |r| format!("{r:.2}"));
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} | {} | {} | {} | {} |\n",
            r.operation,
            r.solidity,
            r.stylus,
            r.ratio(),
            r.stylus_cached.map_or("n/a".to_string(), |g| g.to_string()),
            two(r.cached_ratio()),
            two(r.cached_execution_ratio()),
            r.measure
        ));
    }
    out
}
