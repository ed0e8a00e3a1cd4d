//! ArbWasm.activateProgram in real transactions on a devnode: what it rejects and
//! why, and the lifecycle of an accepted program (fee, event, version, up to date).

use crate::common;

use alloy::network::TransactionBuilder;
use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolError, SolEvent};
use careledger_devnode::Devnode;
use common::*;

/// Enough for activation's fixed ~1.66 M gas plus its checks.
const ACTIVATION_GAS: u64 = 5_000_000;

fn module(body: &str) -> Vec<u8> {
    wat::parse_str(body).unwrap_or_else(|e| panic!("bad test WAT: {e}\n{body}"))
}

/// A module with `extra` and an entry point that succeeds.
fn program_with(extra: &str) -> Vec<u8> {
    module(&format!(
        r#"(module
            {extra}
            (memory (export "memory") 1 1)
            (func (export "user_entrypoint") (param i32) (result i32) i32.const 0))"#
    ))
}

/// A valid program that echoes its calldata.
fn echo_program() -> Vec<u8> {
    module(
        r#"(module
            (import "vm_hooks" "read_args" (func $read_args (param i32)))
            (import "vm_hooks" "write_result" (func $write_result (param i32 i32)))
            (memory (export "memory") 1 1)
            (func (export "user_entrypoint") (param $len i32) (result i32)
                (call $read_args (i32.const 0))
                (call $write_result (i32.const 0) (local.get $len))
                i32.const 0))"#,
    )
}

fn activate_request(program: Address, value: U256) -> TransactionRequest {
    TransactionRequest::default()
        .with_to(ARB_WASM)
        .with_input(ArbWasm::activateProgramCall { program }.abi_encode())
        .with_value(value)
}

/// An activation transaction with a fixed gas limit (a reverting call cannot be estimated).
async fn activate_tx(
    provider: &impl Provider,
    program: Address,
    value: U256,
) -> TransactionReceipt {
    send(
        provider,
        activate_request(program, value).with_gas_limit(ACTIVATION_GAS),
    )
    .await
}

/// `eth_call` of `data` to `to`: its revert data (panics on success).
async fn call_reverts(provider: &impl Provider, to: Address, data: Bytes) -> Bytes {
    let err = provider
        .call(TransactionRequest::default().with_to(to).with_input(data))
        .await
        .expect_err("the call must revert");
    revert_data(&err)
}

/// The program reverts with ProgramNotActivated() in a call and in a transaction,
/// and ArbWasm knows no version for its code hash.
async fn assert_not_activated(provider: &impl Provider, program: Address) {
    let not_activated = Bytes::from(ArbWasm::ProgramNotActivated {}.abi_encode());
    assert_eq!(
        call_reverts(provider, program, Bytes::from_static(b"hello")).await,
        not_activated,
        "calling the program"
    );
    let code = provider.get_code_at(program).await.unwrap();
    let version = ArbWasm::codehashVersionCall {
        codehash: keccak256(&code),
    };
    assert_eq!(
        call_reverts(provider, ARB_WASM, version.abi_encode().into()).await,
        not_activated,
        "codehashVersion"
    );
    let receipt = send(
        provider,
        TransactionRequest::default()
            .with_to(program)
            .with_input(Bytes::from_static(b"hello"))
            .with_gas_limit(1_000_000),
    )
    .await;
    assert!(!receipt.status(), "a transaction to an inactive program");
}

#[tokio::test(flavor = "multi_thread")]
async fn activation_rejects_unsupported_wasm_with_a_reason() {
    let cases = [
        (
            "reference types",
            program_with("(table 1 externref)"),
            "reference types",
        ),
        (
            "a start function",
            program_with("(func $init) (start $init)"),
            "start function",
        ),
        (
            "an import from a module other than vm_hooks",
            program_with(r#"(import "env" "abort" (func))"#),
            "env.abort",
        ),
        (
            "an unknown vm_hooks import",
            program_with(r#"(import "vm_hooks" "launch_missiles" (func))"#),
            "unknown hostio vm_hooks.launch_missiles",
        ),
        (
            "a hostio with the wrong signature",
            program_with(r#"(import "vm_hooks" "read_args" (func (param i64)))"#),
            "read_args",
        ),
        (
            "SIMD",
            module(
                r#"(module (memory (export "memory") 1 1)
                    (func (export "user_entrypoint") (param i32) (result i32)
                        v128.const i32x4 0 0 0 0 drop i32.const 0))"#,
            ),
            "SIMD",
        ),
    ];
    let dev = Devnode::ephemeral().await.unwrap();
    let sender = signer(&dev, 1);
    let p = connect(&dev.url(), sender.clone());
    for (what, wasm, needle) in &cases {
        let program = deploy(&p, stylus_init_code(wasm)).await;
        let code = p.get_code_at(program).await.unwrap();
        assert_eq!(
            &code[..4],
            &[0xef, 0xf0, 0x00, 0x00],
            "{what}: Stylus prefix"
        );

        // The reason, as eth_call reports it: Error(string) in the revert data.
        let err = p
            .call(activate_request(program, ether(1)))
            .await
            .expect_err("activation must fail");
        let (code_no, message) = error_code(&err).expect("a JSON-RPC error");
        assert_eq!(code_no, 3, "{what}: execution reverted");
        let data = revert_data(&err);
        let reason = alloy::sol_types::Revert::abi_decode(&data)
            .unwrap_or_else(|e| panic!("{what}: revert data is not Error(string): {e}"))
            .reason;
        assert!(
            reason.starts_with("activation failed: ") && reason.contains(needle),
            "{what}: reason {reason:?} should name {needle:?}"
        );
        assert!(message.contains(needle), "{what}: message {message:?}");
        eprintln!("{what}: {reason}");

        // The transaction: reverted, all gas burnt (as nitro), the value returned,
        // no ProgramActivated event.
        let before = p.get_balance(sender.address()).await.unwrap();
        let receipt = activate_tx(&p, program, ether(1)).await;
        assert!(!receipt.status(), "{what}: activation transaction reverts");
        assert_eq!(receipt.gas_used, ACTIVATION_GAS, "{what}: gas burnt");
        assert!(receipt.inner.logs().is_empty(), "{what}: no event");
        let after = p.get_balance(sender.address()).await.unwrap();
        let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        assert_eq!(before - after, fee, "{what}: only gas is paid");

        assert_not_activated(&p, program).await;
    }
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn activation_charges_the_fee_emits_the_event_and_is_done_once() {
    let dev = Devnode::ephemeral().await.unwrap();
    // Not account 0: that is nitro-devnode's network fee account, which gets the fee.
    let sender = signer(&dev, 1);
    let fee_account = signer(&dev, 0).address();
    let p = connect(&dev.url(), sender.clone());
    let arb = ArbWasm::new(ARB_WASM, &p);
    let stylus_version = arb.stylusVersion().call().await.unwrap();
    assert!(stylus_version >= 1);

    // Not a program: ProgramNotWasm() for an EOA and for EVM code.
    let evm = deploy(&p, init_code_for(&[0x00])).await;
    for target in [fee_account, evm] {
        let err = p
            .call(activate_request(target, ether(1)))
            .await
            .unwrap_err();
        assert_eq!(
            revert_data(&err),
            Bytes::from(ArbWasm::ProgramNotWasm {}.abi_encode())
        );
    }

    let program = deploy(&p, stylus_init_code(&echo_program())).await;
    let codehash = keccak256(p.get_code_at(program).await.unwrap());
    assert_not_activated(&p, program).await;

    // Too little value: ProgramInsufficientValue(have, want), in a call and a transaction.
    let err = p
        .call(activate_request(program, U256::ZERO))
        .await
        .unwrap_err();
    let short = ArbWasm::ProgramInsufficientValue::abi_decode(&revert_data(&err))
        .expect("ProgramInsufficientValue");
    assert_eq!(short.have, U256::ZERO);
    assert!(short.want > U256::ZERO, "a data fee is charged");
    let receipt = activate_tx(&p, program, U256::from(1)).await;
    assert!(!receipt.status(), "1 wei is not enough");
    assert!(
        receipt.gas_used < ACTIVATION_GAS,
        "a plain revert keeps the gas left"
    );
    assert_not_activated(&p, program).await;

    // Activation: (version, fee) returned, the fee paid to the network fee account,
    // the surplus returned, ProgramActivated emitted by ArbWasm.
    let quoted = arb
        .activateProgram(program)
        .value(ether(1))
        .call()
        .await
        .unwrap();
    assert_eq!(quoted.version, stylus_version);
    assert!(quoted.dataFee > U256::ZERO);
    let (sender_before, fees_before) = (
        p.get_balance(sender.address()).await.unwrap(),
        p.get_balance(fee_account).await.unwrap(),
    );
    let receipt = activate_tx(&p, program, ether(1)).await;
    assert!(receipt.status(), "activation: {receipt:?}");
    let logs = receipt.inner.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].address(), ARB_WASM);
    let event = ArbWasm::ProgramActivated::decode_log_data(logs[0].data()).unwrap();
    assert_eq!(event.codehash, codehash);
    assert_eq!(event.program, program);
    assert_eq!(event.version, stylus_version);
    assert!(event.dataFee > U256::ZERO);
    assert_eq!(event.dataFee, quoted.dataFee, "same block time, same fee");
    let gas = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(
        sender_before - p.get_balance(sender.address()).await.unwrap(),
        gas + event.dataFee
    );
    assert_eq!(
        p.get_balance(fee_account).await.unwrap() - fees_before,
        event.dataFee
    );

    // The versions, and the program runs.
    assert_eq!(
        arb.codehashVersion(codehash).call().await.unwrap(),
        stylus_version
    );
    assert_eq!(
        arb.programVersion(program).call().await.unwrap(),
        stylus_version
    );
    let echoed = p
        .call(
            TransactionRequest::default()
                .with_to(program)
                .with_input(Bytes::from_static(b"hello stylus")),
        )
        .await
        .unwrap();
    assert_eq!(echoed, Bytes::from_static(b"hello stylus"));

    // Twice: ProgramUpToDate(), also for the same code at another address.
    let up_to_date = Bytes::from(ArbWasm::ProgramUpToDate {}.abi_encode());
    let twin = deploy(&p, stylus_init_code(&echo_program())).await;
    assert_eq!(
        arb.programVersion(twin).call().await.unwrap(),
        stylus_version
    );
    for target in [program, twin] {
        let err = p
            .call(activate_request(target, ether(1)))
            .await
            .unwrap_err();
        assert_eq!(revert_data(&err), up_to_date);
        let receipt = activate_tx(&p, target, ether(1)).await;
        assert!(!receipt.status(), "activating an active program");
        assert!(receipt.inner.logs().is_empty());
    }
    dev.stop().await;
}

/// ArbWasmCache: the chain owner caches a program, whose calls then pay only the
/// cached init gas (programInitGas's second figure); anyone else burns its gas;
/// eviction restores the full price.
#[tokio::test(flavor = "multi_thread")]
async fn a_cached_program_pays_only_the_cached_init_gas() {
    let dev = Devnode::ephemeral().await.unwrap();
    let owner = connect(&dev.url(), signer(&dev, 0));
    let stranger = connect(&dev.url(), signer(&dev, 1));
    let program = deploy_stylus(&owner, &wasm("patient-registry"), true).await;
    let codehash = keccak256(owner.get_code_at(program).await.unwrap());
    let view = TransactionRequest::default()
        .with_to(program)
        .with_input(common::abi::IPatientRegistry::ownerCall {}.abi_encode());
    let cost = || {
        let (owner, view) = (owner.clone(), view.clone());
        async move { owner.estimate_gas(view).await.unwrap() }
    };
    let init = ArbWasm::new(ARB_WASM, &owner)
        .programInitGas(program)
        .call()
        .await
        .unwrap();
    assert!(init.gas > init.gasWhenCached, "{init:?}");
    let cache = ArbWasmCache::new(ARB_WASM_CACHE, &owner);
    assert!(cache
        .isCacheManager(signer(&dev, 0).address())
        .call()
        .await
        .unwrap());
    assert!(!cache.codehashIsCached(codehash).call().await.unwrap());
    let uncached = cost().await;

    // Only the chain owner (or a cache manager) may cache: others lose their gas.
    let refused = send(
        &stranger,
        TransactionRequest::default()
            .with_to(ARB_WASM_CACHE)
            .with_input(ArbWasmCache::cacheProgramCall { addr: program }.abi_encode())
            .with_gas_limit(100_000),
    )
    .await;
    assert!(!refused.status());
    assert_eq!(refused.gas_used, 100_000);
    assert!(!cache.codehashIsCached(codehash).call().await.unwrap());

    let cached = call_ok(
        &owner,
        ARB_WASM_CACHE,
        ArbWasmCache::cacheProgramCall { addr: program }
            .abi_encode()
            .into(),
    )
    .await;
    let event = cached.inner.logs()[0]
        .log_decode::<ArbWasmCache::UpdateProgramCache>()
        .unwrap();
    assert_eq!((event.inner.codehash, event.inner.cached), (codehash, true));
    assert!(cache.codehashIsCached(codehash).call().await.unwrap());
    let cheaper = cost().await;
    assert_eq!(uncached - cheaper, init.gas - init.gasWhenCached);

    call_ok(
        &owner,
        ARB_WASM_CACHE,
        ArbWasmCache::evictCodehashCall { codehash }
            .abi_encode()
            .into(),
    )
    .await;
    assert!(!cache.codehashIsCached(codehash).call().await.unwrap());
    assert_eq!(cost().await, uncached);
}
