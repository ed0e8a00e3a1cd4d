//! One request cannot stall or exhaust the node: eth_call and eth_estimateGas are
//! capped in gas (geth's `rpc.gascap`) and time (`rpc.evmtimeout`) and run
//! without holding up mining; block counts and clock moves are bounded.

use crate::common;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::state::{AccountOverride, StateOverride};
use alloy::rpc::types::TransactionRequest;
use careledger_devnode::rpc::RpcConfig;
use careledger_devnode::{Devnode, NodeConfig, RPC_GAS_CAP};
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A gas limit no cap allows: 2^50, Arbitrum's block gas limit.
const HUGE_GAS: u64 = 1 << 50;

/// Runtime code that loops forever: `JUMPDEST PUSH1 0 JUMP`.
const EVM_LOOP: [u8; 4] = [0x5b, 0x60, 0x00, 0x56];

/// Runtime code returning the gas left after `GAS` as a 32-byte word.
const GAS_LEFT: [u8; 10] = [0x5a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3, 0x00];

/// Where the override-installed code lives in these tests.
const TARGET: Address = Address::repeat_byte(0x42);

async fn node(config: NodeConfig) -> Devnode {
    let rpc = RpcConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..RpcConfig::default()
    };
    Devnode::start(config, rpc).await.expect("devnode starts")
}

/// `code` at [`TARGET`] through a state override.
fn with_code(code: &[u8]) -> StateOverride {
    let mut overrides = StateOverride::default();
    overrides.insert(
        TARGET,
        AccountOverride {
            code: Some(Bytes::copy_from_slice(code)),
            ..Default::default()
        },
    );
    overrides
}

fn call_to_target(gas: Option<u64>) -> TransactionRequest {
    let tx = TransactionRequest::default().with_to(TARGET);
    match gas {
        Some(gas) => tx.with_gas_limit(gas),
        None => tx,
    }
}

/// The JSON-RPC error (code, message) of a failed request.
fn failure<T: std::fmt::Debug>(
    result: Result<T, alloy::transports::RpcError<alloy::transports::TransportErrorKind>>,
) -> (i64, String) {
    let err = result.expect_err("expected an error");
    error_code(&err).unwrap_or_else(|| panic!("not a JSON-RPC error: {err}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_asking_for_more_gas_than_the_cap_runs_with_the_cap_as_geth_does() {
    let dev = node(NodeConfig::default()).await;
    let p = connect(&dev.url(), signer(&dev, 0));
    let gas_left = |gas| {
        let p = p.clone();
        async move {
            let out = p
                .call(call_to_target(gas))
                .overrides(with_code(&GAS_LEFT))
                .await
                .unwrap();
            U256::from_be_slice(&out).to::<u64>()
        }
    };
    // The intrinsic 21,000 and GAS's own 2 are spent before it reads the meter.
    assert_eq!(gas_left(Some(HUGE_GAS)).await, RPC_GAS_CAP - 21_002);
    assert_eq!(gas_left(Some(100_000)).await, 100_000 - 21_002);
    assert_eq!(
        gas_left(None).await,
        32_000_000 - 21_002,
        "no gas given: nitro's 32M"
    );
    // Capped, not refused: a transfer asking for 2^50 is estimated as usual.
    let transfer = TransactionRequest::default()
        .with_to(Address::repeat_byte(7))
        .with_value(U256::from(1))
        .with_gas_limit(HUGE_GAS);
    assert_eq!(p.estimate_gas(transfer).await.unwrap(), 21_000);
    dev.stop().await;

    // A cap of its own (and 0 for none).
    let dev = node(NodeConfig {
        rpc_gas_cap: 1_000_000,
        ..NodeConfig::default()
    })
    .await;
    let p = connect(&dev.url(), signer(&dev, 0));
    let out = p
        .call(call_to_target(Some(HUGE_GAS)))
        .overrides(with_code(&GAS_LEFT))
        .await
        .unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(1_000_000 - 21_002));
    dev.stop().await;
    let dev = node(NodeConfig {
        rpc_gas_cap: 0,
        ..NodeConfig::default()
    })
    .await;
    let p = connect(&dev.url(), signer(&dev, 0));
    let out = p
        .call(call_to_target(Some(HUGE_GAS)))
        .overrides(with_code(&GAS_LEFT))
        .await
        .unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(HUGE_GAS - 21_002));
    dev.stop().await;
}

/// A Stylus program whose entry point never returns.
fn wasm_loop() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (memory (export "memory") 1 1)
            (func (export "user_entrypoint") (param i32) (result i32)
                (loop $forever (br $forever))
                i32.const 0))"#,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_evm_or_stylus_loop_asking_for_2_pow_50_gas_ends_at_the_gas_cap() {
    // A small cap keeps the test fast; the default cap's value is checked above.
    // No time limit: the cap alone must end the loops.
    let dev = node(NodeConfig {
        rpc_gas_cap: 5_000_000,
        rpc_evm_timeout: Duration::ZERO,
        ..NodeConfig::default()
    })
    .await;
    let p = connect(&dev.url(), signer(&dev, 0));
    let program = deploy_stylus(&p, &wasm_loop(), true).await;
    for (what, to, overrides) in [
        ("EVM", TARGET, with_code(&EVM_LOOP)),
        ("Stylus", program, StateOverride::default()),
    ] {
        let call = TransactionRequest::default()
            .with_to(to)
            .with_gas_limit(HUGE_GAS);
        let started = Instant::now();
        let (code, message) = failure(p.call(call.clone()).overrides(overrides.clone()).await);
        eprintln!("{what} loop, eth_call: {:?}", started.elapsed());
        assert_eq!(code, -32000);
        assert!(message.contains("OutOfGas"), "{message}");
        let started = Instant::now();
        let (code, message) = failure(p.estimate_gas(call).overrides(overrides).await);
        eprintln!("{what} loop, eth_estimateGas: {:?}", started.elapsed());
        assert_eq!(code, -32000);
        assert!(message.contains("OutOfGas"), "{message}");
    }
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_past_the_time_limit_is_aborted_with_geths_message() {
    // No gas cap: only the clock stops the loop.
    let dev = node(NodeConfig {
        rpc_gas_cap: 0,
        rpc_evm_timeout: Duration::from_millis(300),
        ..NodeConfig::default()
    })
    .await;
    let p = connect(&dev.url(), signer(&dev, 0));
    for estimate in [false, true] {
        let started = Instant::now();
        let result = if estimate {
            p.estimate_gas(call_to_target(Some(HUGE_GAS)))
                .overrides(with_code(&EVM_LOOP))
                .await
                .map(|_| ())
        } else {
            p.call(call_to_target(Some(HUGE_GAS)))
                .overrides(with_code(&EVM_LOOP))
                .await
                .map(|_| ())
        };
        let took = started.elapsed();
        eprintln!("timed out (estimate: {estimate}) after {took:?}");
        let (code, message) = failure(result);
        assert_eq!(code, -32000);
        assert_eq!(message, "execution aborted (timeout = 300ms)");
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
    // A loop in a nested call is stopped too, and its caller's result discarded.
    let looper = Address::repeat_byte(0x43);
    let mut caller = vec![
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x73,
    ];
    caller.extend_from_slice(looper.as_slice());
    caller.extend_from_slice(&[0x5a, 0xf1, 0x00]); // GAS CALL STOP
    let mut overrides = with_code(&caller);
    overrides.insert(
        looper,
        AccountOverride {
            code: Some(Bytes::from_static(&EVM_LOOP)),
            ..Default::default()
        },
    );
    let started = Instant::now();
    let (_, message) = failure(
        p.call(call_to_target(Some(HUGE_GAS)))
            .overrides(overrides)
            .await,
    );
    assert_eq!(message, "execution aborted (timeout = 300ms)");
    assert!(started.elapsed() < Duration::from_secs(3));
    // So is a fan-out of calls without a single jump: code that calls itself
    // twice makes a call tree only the gas (here 2^50) would end.
    let one_call = [
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x30, 0x5a, 0xf1,
    ];
    let fan_out = [&one_call[..], &one_call[..], &[0x00]].concat();
    let started = Instant::now();
    let (_, message) = failure(
        p.call(call_to_target(Some(HUGE_GAS)))
            .overrides(with_code(&fan_out))
            .await,
    );
    assert_eq!(message, "execution aborted (timeout = 300ms)");
    assert!(started.elapsed() < Duration::from_secs(3));
    // A call within the limit is unaffected.
    let out = p
        .call(call_to_target(Some(HUGE_GAS)))
        .overrides(with_code(&GAS_LEFT))
        .await
        .unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(HUGE_GAS - 21_002));
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_call_does_not_hold_up_mining_a_transaction_sent_meanwhile() {
    let dev = node(NodeConfig {
        rpc_gas_cap: 0,
        rpc_evm_timeout: Duration::from_secs(4),
        ..NodeConfig::default()
    })
    .await;
    let p = connect(&dev.url(), signer(&dev, 0));
    let looping = {
        let p = p.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = p
                .call(call_to_target(Some(HUGE_GAS)))
                .overrides(with_code(&EVM_LOOP))
                .await;
            (result, started.elapsed())
        })
    };
    // Let the call start executing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = p.get_block_number().await.unwrap();
    let started = Instant::now();
    let receipt = send_ok(
        &p,
        TransactionRequest::default()
            .with_to(Address::repeat_byte(9))
            .with_value(U256::from(5)),
    )
    .await;
    let mined_in = started.elapsed();
    eprintln!("transfer mined in {mined_in:?} while a call loops");
    assert!(!looping.is_finished(), "the call still runs");
    assert_eq!(receipt.block_number, Some(before + 1));
    assert_eq!(
        p.get_balance(Address::repeat_byte(9)).await.unwrap(),
        U256::from(5)
    );
    assert!(mined_in < Duration::from_secs(2), "{mined_in:?}");
    let (result, took) = looping.await.unwrap();
    let (_, message) = failure(result);
    assert_eq!(message, "execution aborted (timeout = 4s)");
    assert!(took >= Duration::from_secs(3), "{took:?}");
    dev.stop().await;
}

/// A raw JSON-RPC request through alloy: (result or (code, message)).
async fn raw(
    p: &impl Provider,
    method: &'static str,
    params: Value,
) -> Result<Value, (i64, String)> {
    p.raw_request::<_, Value>(method.into(), params)
        .await
        .map_err(|e| error_code(&e).unwrap_or_else(|| panic!("{method}: {e}")))
}

#[tokio::test(flavor = "multi_thread")]
async fn mining_more_blocks_than_the_limit_in_one_request_is_refused_and_mines_nothing() {
    let dev = node(NodeConfig::default()).await;
    let p = connect(&dev.url(), signer(&dev, 0));
    let head = p.get_block_number().await.unwrap();
    for (method, params) in [
        ("evm_mine", json!([{"blocks": "0xffffffff"}])),
        ("evm_mine", json!([{"blocks": 10_001}])),
        ("anvil_mine", json!(["0xffffffff"])),
        ("anvil_mine", json!(["0xffffffffffffffff", "0x1"])),
        ("hardhat_mine", json!(["0x2711"])),
    ] {
        let started = Instant::now();
        let (code, message) = raw(&p, method, params.clone()).await.unwrap_err();
        assert_eq!(code, -32602, "{method} {params}: {message}");
        assert!(message.contains("at most 10000 blocks"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    assert_eq!(p.get_block_number().await.unwrap(), head);

    // The limit itself is mined, quickly.
    let started = Instant::now();
    raw(&p, "anvil_mine", json!(["0x2710"])).await.unwrap();
    let took = started.elapsed();
    eprintln!("10,000 blocks mined in {took:?}");
    assert_eq!(p.get_block_number().await.unwrap(), head + 10_000);
    assert!(took < Duration::from_secs(10), "{took:?}");
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_move_or_interval_that_would_overflow_block_timestamps_is_refused() {
    let dev = node(NodeConfig::default()).await;
    let p = connect(&dev.url(), signer(&dev, 0));
    let head = p.get_block_number().await.unwrap();

    let (code, message) = raw(&p, "evm_increaseTime", json!([u64::MAX]))
        .await
        .unwrap_err();
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("past 2^64 - 1"), "{message}");
    let (code, _) = raw(&p, "evm_increaseTime", json!(["0xffffffffffffffff"]))
        .await
        .unwrap_err();
    assert_eq!(code, -32602);
    // Nothing was added by the refusals.
    assert_eq!(
        raw(&p, "evm_increaseTime", json!([3600])).await.unwrap(),
        json!(3600)
    );

    // Up to the last representable second is fine; one more is not.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let room = u64::MAX - now - 3600 - 60;
    raw(&p, "evm_increaseTime", json!([room])).await.unwrap();
    let (code, _) = raw(&p, "evm_increaseTime", json!([120])).await.unwrap_err();
    assert_eq!(code, -32602);
    raw(&p, "evm_mine", json!([])).await.unwrap();
    let block = p
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    assert!(block.header.timestamp > u64::MAX - 120);
    // eth_call still works at the end of time.
    p.call(call_to_target(None))
        .overrides(with_code(&GAS_LEFT))
        .await
        .unwrap();

    // An interval that would pass u64 is refused before any block is mined.
    let head = head + 1;
    let (code, message) = raw(&p, "anvil_mine", json!(["0x2", "0xffffffffffffffff"]))
        .await
        .unwrap_err();
    assert_eq!(code, -32602, "{message}");
    let (code, _) = raw(&p, "anvil_mine", json!(["0x3", "0x3c"]))
        .await
        .unwrap_err();
    assert_eq!(code, -32602);
    assert_eq!(p.get_block_number().await.unwrap(), head);
    dev.stop().await;
}
