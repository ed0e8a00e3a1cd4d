//! Helpers shared by the devnode integration tests that deploy real programs:
//! the contracts' ABIs (read from abi/), ArbWasm, deployment and activation.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use alloy::transports::{RpcError, TransportErrorKind};
use careledger_devnode::Devnode;
use std::path::PathBuf;

pub(crate) mod raw_http;

/// The contracts' Solidity interfaces, exactly as `scripts/export-abi` writes them.
pub(crate) use careledger_bindings as abi;
pub(crate) use careledger_bindings::arbos::{ArbWasm, ArbWasmCache, ARB_WASM, ARB_WASM_CACHE};

pub(crate) fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A contract's WASM as scripts/build-contracts writes it.
pub(crate) fn wasm(name: &str) -> Vec<u8> {
    let path = repo_root()
        .join("target/contracts")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run scripts/build-contracts first)",
            path.display()
        )
    })
}

/// A forge artifact (target/forge/<file>), as `scripts/forge build` writes it.
pub(crate) fn forge_artifact(file: &str) -> serde_json::Value {
    let path = repo_root().join("target/forge").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nthe Solidity artifacts are missing: run `scripts/forge build` \
             (scripts/test does before `cargo test`)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Init code that returns `runtime` (cargo-stylus's 43-byte prelude).
pub(crate) fn init_code_for(runtime: &[u8]) -> Bytes {
    let mut code = vec![0x7f];
    code.extend_from_slice(&U256::from(runtime.len()).to_be_bytes::<32>());
    code.extend_from_slice(&[0x80, 0x60, 0x2b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, 0x00]);
    code.extend_from_slice(runtime);
    code.into()
}

/// Init code deploying `wasm` as a Stylus program (`EF F0 00 00` ‖ brotli).
pub(crate) fn stylus_init_code(wasm: &[u8]) -> Bytes {
    init_code_for(&stylus_vm::program::encode_program(wasm))
}

/// Calldata of the SDK's `stylus_constructor` entry with ABI-encoded `args`.
pub(crate) fn constructor_call(args: &[u8]) -> Bytes {
    let mut data = keccak256("stylus_constructor()")[..4].to_vec();
    data.extend_from_slice(args);
    data.into()
}

pub(crate) fn signer(dev: &Devnode, i: usize) -> PrivateKeySigner {
    dev.node.accounts()[i].signer.clone()
}

/// An HTTP provider that signs as `signer`.
pub(crate) fn connect(url: &str, signer: PrivateKeySigner) -> impl Provider + Clone {
    let url: alloy::transports::http::reqwest::Url = url.parse().expect("node url");
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
}

/// Sends and waits for the receipt, whatever its status.
pub(crate) async fn send(provider: &impl Provider, tx: TransactionRequest) -> TransactionReceipt {
    provider
        .send_transaction(tx)
        .await
        .expect("transaction accepted")
        .get_receipt()
        .await
        .expect("a receipt")
}

/// Sends and asserts success.
pub(crate) async fn send_ok(
    provider: &impl Provider,
    tx: TransactionRequest,
) -> TransactionReceipt {
    let receipt = send(provider, tx).await;
    assert!(receipt.status(), "transaction failed: {receipt:?}");
    receipt
}

/// Deploys `init` (a CREATE) and returns the new address.
pub(crate) async fn deploy(provider: &impl Provider, init: Bytes) -> Address {
    let receipt = send_ok(
        provider,
        TransactionRequest::default().with_deploy_code(init),
    )
    .await;
    receipt.contract_address.expect("a contract address")
}

/// `ArbWasm.activateProgram(program)` with 1 ETH (the surplus over the fee comes back).
pub(crate) async fn activate(provider: &impl Provider, program: Address) -> TransactionReceipt {
    let call = ArbWasm::activateProgramCall { program }.abi_encode();
    send_ok(
        provider,
        TransactionRequest::default()
            .with_to(ARB_WASM)
            .with_input(call)
            .with_value(ether(1)),
    )
    .await
}

/// Deploys `wasm` as a Stylus program, activating it if asked.
pub(crate) async fn deploy_stylus(
    provider: &impl Provider,
    wasm: &[u8],
    activate_it: bool,
) -> Address {
    let address = deploy(provider, stylus_init_code(wasm)).await;
    if activate_it {
        activate(provider, address).await;
    }
    address
}

/// Calls `to` with `data` in a transaction that must succeed.
pub(crate) async fn call_ok(
    provider: &impl Provider,
    to: Address,
    data: Bytes,
) -> TransactionReceipt {
    send_ok(
        provider,
        TransactionRequest::default().with_to(to).with_input(data),
    )
    .await
}

/// The revert data of a failed `eth_call` (code 3 with hex `data`).
pub(crate) fn revert_data<E: std::fmt::Debug>(err: &RpcError<E>) -> Bytes {
    err.as_error_resp()
        .and_then(|e| e.as_revert_data())
        .unwrap_or_else(|| panic!("not a revert: {err:?}"))
}

/// The JSON-RPC error code and message, if the node answered with an error object.
pub(crate) fn error_code(err: &RpcError<TransportErrorKind>) -> Option<(i64, String)> {
    err.as_error_resp().map(|e| (e.code, e.message.to_string()))
}

/// The three CareLedger programs, deployed, activated, constructed and linked, with
/// a registered patient, a registered doctor verified by a separate verifier.
pub(crate) struct CareLedger {
    pub url: String,
    pub registry: Address,
    pub token: Address,
    pub records: Address,
    pub owner: PrivateKeySigner,
    pub patient: PrivateKeySigner,
    pub doctor: PrivateKeySigner,
    pub verifier: PrivateKeySigner,
}

impl CareLedger {
    /// Deploys the three programs as contracts_on_devnode.rs does; accounts 0-3 are
    /// owner, patient, doctor and verifier.
    pub(crate) async fn deploy(dev: &Devnode) -> Self {
        let url = dev.url();
        let (owner, patient, doctor, verifier) = (
            signer(dev, 0),
            signer(dev, 1),
            signer(dev, 2),
            signer(dev, 3),
        );
        let p = connect(&url, owner.clone());
        let registry = deploy_stylus(&p, &wasm("patient-registry"), true).await;
        let token = deploy_stylus(&p, &wasm("access-token"), true).await;
        let records = deploy_stylus(&p, &wasm("record-registry"), true).await;
        call_ok(
            &p,
            registry,
            constructor_call(&owner.address().abi_encode()),
        )
        .await;
        call_ok(&p, token, constructor_call(&registry.abi_encode())).await;
        call_ok(
            &p,
            records,
            constructor_call(&(registry, token).abi_encode_params()),
        )
        .await;
        call_ok(
            &p,
            token,
            abi::IAccessToken::linkRecordRegistryCall {
                record_registry: records,
            }
            .abi_encode()
            .into(),
        )
        .await;
        call_ok(
            &p,
            registry,
            abi::IPatientRegistry::addVerifierCall {
                verifier: verifier.address(),
            }
            .abi_encode()
            .into(),
        )
        .await;
        let as_ = |s: &PrivateKeySigner| connect(&url, s.clone());
        call_ok(
            &as_(&patient),
            registry,
            abi::IPatientRegistry::registerPatientCall {
                encryption_key: B256::repeat_byte(1),
            }
            .abi_encode()
            .into(),
        )
        .await;
        call_ok(
            &as_(&doctor),
            registry,
            abi::IPatientRegistry::registerDoctorCall {
                encryption_key: B256::repeat_byte(2),
                licence_hash: B256::repeat_byte(3),
            }
            .abi_encode()
            .into(),
        )
        .await;
        call_ok(
            &as_(&verifier),
            registry,
            abi::IPatientRegistry::verifyDoctorCall {
                doctor: doctor.address(),
            }
            .abi_encode()
            .into(),
        )
        .await;
        Self {
            url,
            registry,
            token,
            records,
            owner,
            patient,
            doctor,
            verifier,
        }
    }

    pub(crate) fn as_(&self, s: &PrivateKeySigner) -> impl Provider + Clone {
        connect(&self.url, s.clone())
    }
}

/// A grant expiry one day after the wall clock (block times follow it).
pub(crate) fn tomorrow() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
        + 86_400
}
