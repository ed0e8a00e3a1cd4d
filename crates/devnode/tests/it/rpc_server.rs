//! The JSON-RPC server against an in-memory fake chain: every method through an
//! alloy provider (HTTP and WebSocket), malformed requests through raw HTTP.

use std::time::Duration;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::network::TransactionBuilder;
use alloy::primitives::{address, b256, bytes, keccak256, Address, Bytes, TxKind, B256, U256};
use alloy::providers::{Provider, ProviderBuilder, WsConnect};
use alloy::rpc::types::state::{AccountOverride, StateOverride};
use alloy::rpc::types::{Filter, SyncStatus, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::RpcError;
use careledger_devnode::rpc::server::rpc_module;
use careledger_devnode::rpc::Backend;
use careledger_devnode::rpc::{serve, RpcConfig};
use fake::{
    http_raw, http_raw_head, start, test_config, Fake, CHAIN_ID, DEV_ACCOUNT, HALTER,
    INTERNAL_FAILURE, PROGRAM_NOT_ACTIVATED, REVERTER,
};
use serde_json::{json, Value};

/// Long enough for a 2-core machine under load, short enough to fail a hang.
const TIMEOUT: Duration = Duration::from_secs(20);

fn http(url: &str) -> impl Provider {
    ProviderBuilder::new().connect_http(url.parse().unwrap())
}

/// The JSON-RPC error of a failed alloy call: (code, message, data).
fn rpc_error<T: std::fmt::Debug>(
    result: Result<T, RpcError<alloy::transports::TransportErrorKind>>,
) -> (i64, String, Option<Value>) {
    let err = result.expect_err("expected a JSON-RPC error");
    let resp = err
        .as_error_resp()
        .unwrap_or_else(|| panic!("not an error response: {err}"));
    let data = resp
        .data
        .as_ref()
        .map(|d| serde_json::from_str(d.get()).unwrap());
    (resp.code, resp.message.to_string(), data)
}

#[tokio::test]
async fn identity_methods_round_trip() {
    let (_fake, server) = start().await;
    let p = http(&server.url());

    assert_eq!(p.get_chain_id().await.unwrap(), CHAIN_ID);
    assert_eq!(p.get_net_version().await.unwrap(), CHAIN_ID);
    assert!(p
        .get_client_version()
        .await
        .unwrap()
        .starts_with("careledger-stylus-devnode/v"));
    let listening: bool = p.raw_request("net_listening".into(), ()).await.unwrap();
    assert!(listening);
    assert_eq!(p.syncing().await.unwrap(), SyncStatus::None);
    assert_eq!(p.get_accounts().await.unwrap(), vec![DEV_ACCOUNT]);
    assert_eq!(p.get_block_number().await.unwrap(), 0);
    assert_eq!(p.get_gas_price().await.unwrap(), 100_000_000);
    assert_eq!(p.get_max_priority_fee_per_gas().await.unwrap(), 0);
    assert_eq!(p.get_blob_base_fee().await.unwrap(), 1);
    let hash: B256 = p
        .raw_request("web3_sha3".into(), (bytes!("01"),))
        .await
        .unwrap();
    assert_eq!(hash, keccak256([1u8]));
    server.stop().await;
}

#[tokio::test]
async fn state_queries_pass_address_and_block() {
    let (fake, server) = start().await;
    let p = http(&server.url());
    let who = address!("00000000000000000000000000000000000000aa");
    fake.set_account(
        who,
        U256::from(7),
        3,
        bytes!("6001"),
        U256::from(5),
        B256::with_last_byte(9),
    );

    assert_eq!(p.get_balance(who).await.unwrap(), U256::from(7));
    assert_eq!(fake.last_block_id(), Some(BlockId::latest()));
    assert_eq!(p.get_transaction_count(who).pending().await.unwrap(), 3);
    assert_eq!(fake.last_block_id(), Some(BlockId::pending()));
    assert_eq!(p.get_code_at(who).number(0).await.unwrap(), bytes!("6001"));
    assert_eq!(fake.last_block_id(), Some(BlockId::number(0)));
    let slot = p.get_storage_at(who, U256::from(5)).await.unwrap();
    assert_eq!(slot, U256::from(9));
    assert_eq!(
        p.get_storage_at(who, U256::from(6)).await.unwrap(),
        U256::ZERO
    );

    // geth takes the slot as a full 32-byte word as well as a quantity.
    let word: B256 = p
        .raw_request(
            "eth_getStorageAt".into(),
            (who, B256::with_last_byte(5), "latest"),
        )
        .await
        .unwrap();
    assert_eq!(word, B256::with_last_byte(9));
    // The block parameter is optional, as in geth.
    let bal: U256 = p
        .raw_request("eth_getBalance".into(), (who,))
        .await
        .unwrap();
    assert_eq!(bal, U256::from(7));

    // An unknown block is the backend's InvalidParams: -32602.
    let (code, message, _) = rpc_error(p.get_balance(who).number(99).await);
    assert_eq!(code, -32602);
    assert!(message.contains("unknown block"), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn call_and_estimate_forward_block_and_state_override() {
    let (fake, server) = start().await;
    let p = http(&server.url());
    let target = address!("00000000000000000000000000000000000000bb");
    let req = TransactionRequest::default()
        .to(target)
        .input(bytes!("d70c0ca7").into());

    // alloy asks for "pending" unless told otherwise.
    assert_eq!(p.call(req.clone()).await.unwrap(), bytes!("d70c0ca7"));
    assert_eq!(fake.last_block_id(), Some(BlockId::pending()));
    assert_eq!(fake.last_override_count(), None);
    let out = p.call(req.clone()).block(BlockId::number(0)).await.unwrap();
    assert_eq!(out, bytes!("d70c0ca7"));
    assert_eq!(fake.last_block_id(), Some(BlockId::number(0)));

    let overrides: StateOverride = [(
        target,
        AccountOverride::default().with_code(bytes!("eff00000")),
    )]
    .into_iter()
    .collect();
    let out = p
        .call(req.clone())
        .block(BlockId::pending())
        .overrides(overrides.clone())
        .await;
    assert_eq!(out.unwrap(), bytes!("d70c0ca7"));
    assert_eq!(fake.last_block_id(), Some(BlockId::pending()));
    assert_eq!(fake.last_override_count(), Some(1));

    assert_eq!(p.estimate_gas(req.clone()).await.unwrap(), 50_000);
    let deploy = TransactionRequest::default().input(bytes!("6000").into());
    assert_eq!(
        p.estimate_gas(deploy).overrides(overrides).await.unwrap(),
        53_000
    );
    assert_eq!(fake.last_override_count(), Some(1));

    // cargo-stylus sends `input`, older tools `data`: both parse. Without a
    // block the state is "latest", as in geth.
    let out: Bytes = p
        .raw_request("eth_call".into(), (json!({"to": target, "data": "0x01"}),))
        .await
        .unwrap();
    assert_eq!(out, bytes!("01"));
    assert_eq!(fake.last_block_id(), Some(BlockId::latest()));
    let out: Bytes = p
        .raw_request(
            "eth_call".into(),
            (
                json!({"to": target, "input": "0x02"}),
                "latest",
                Value::Null,
            ),
        )
        .await
        .unwrap();
    assert_eq!(out, bytes!("02"));

    // Block overrides are refused, not silently ignored.
    let refused = p
        .raw_request::<_, Bytes>(
            "eth_call".into(),
            (
                json!({"to": target}),
                "latest",
                json!({}),
                json!({"number": "0x5"}),
            ),
        )
        .await;
    assert_eq!(rpc_error(refused).0, -32602);
    server.stop().await;
}

#[tokio::test]
async fn revert_is_code_3_with_reason_and_hex_data() {
    let (_fake, server) = start().await;
    let p = http(&server.url());
    let req = TransactionRequest::default()
        .to(REVERTER)
        .input(bytes!("d70c0ca7").into());

    let (code, message, data) = rpc_error(p.call(req.clone()).await);
    assert_eq!(code, 3);
    assert_eq!(message, "execution reverted: ProgramNotActivated()");
    assert_eq!(data, Some(json!(PROGRAM_NOT_ACTIVATED)));

    let (code, message, data) = rpc_error(p.estimate_gas(req).await);
    assert_eq!(code, 3);
    assert!(message.contains("revert"));
    assert_eq!(data, Some(json!(PROGRAM_NOT_ACTIVATED)));

    // The raw body, as cargo-stylus reads it.
    let (status, body) = http_raw(
        server.local_addr(),
        "POST",
        &json!({"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to": REVERTER}]})
            .to_string(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["error"],
        json!({"code": 3, "message": "execution reverted: ProgramNotActivated()", "data": PROGRAM_NOT_ACTIVATED})
    );
    server.stop().await;
}

#[tokio::test]
async fn halt_invalid_transaction_and_internal_errors_keep_geth_codes() {
    let (_fake, server) = start().await;
    let p = http(&server.url());

    let halt = p.call(TransactionRequest::default().to(HALTER)).await;
    let (code, message, data) = rpc_error(halt);
    assert_eq!((code, message.as_str(), data), (-32000, "out of gas", None));

    let bad_raw = p
        .send_raw_transaction(&[0x02, 0xc0])
        .await
        .map(|p| *p.tx_hash());
    let (code, message, _) = rpc_error(bad_raw);
    assert_eq!(code, -32000);
    assert!(message.contains("cannot decode"), "{message}");

    let (code, message, _) = rpc_error(p.get_code_at(INTERNAL_FAILURE).await);
    assert_eq!(code, -32603);
    assert_eq!(message, "internal error: database unavailable");
    server.stop().await;
}

#[tokio::test]
async fn raw_transaction_is_mined_and_queryable() {
    let (fake, server) = start().await;
    let p = http(&server.url());
    let signer = PrivateKeySigner::random();
    let to = address!("00000000000000000000000000000000000000cc");
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: 50_000,
        max_fee_per_gas: 200_000_000,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(to),
        value: U256::from(1),
        input: bytes!("c0ffee"),
        access_list: Default::default(),
    };
    let sig = alloy::signers::SignerSync::sign_hash_sync(&signer, &tx.signature_hash()).unwrap();
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();

    let pending = p.send_raw_transaction(&raw).await.unwrap();
    let hash = *pending.tx_hash();
    let receipt = tokio::time::timeout(TIMEOUT, pending.get_receipt())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(receipt.transaction_hash, hash);
    assert_eq!(receipt.block_number, Some(1));
    assert_eq!(receipt.from, signer.address());
    assert!(receipt.status());
    assert_eq!(receipt.inner.logs().len(), 1);

    let tx = p
        .get_transaction_by_hash(hash)
        .await
        .unwrap()
        .expect("known transaction");
    assert_eq!(tx.block_number, Some(1));
    assert_eq!(tx.inner.signer(), signer.address());

    let block = p
        .get_block_by_number(BlockNumberOrTag::Latest)
        .full()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.header.number, 1);
    assert_eq!(
        block.transactions.txns().next().unwrap().inner.tx_hash(),
        &hash
    );
    let by_hash = p
        .get_block_by_hash(block.header.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        by_hash.transactions.hashes().collect::<Vec<_>>(),
        vec![hash]
    );
    let count = p
        .get_block_transaction_count_by_number(1.into())
        .await
        .unwrap();
    assert_eq!(count, Some(1));
    let count = p
        .get_block_transaction_count_by_hash(block.header.hash)
        .await
        .unwrap();
    assert_eq!(count, Some(1));
    // The block flag is optional here (geth requires it; accepting less breaks nobody).
    let header_only: Value = p
        .raw_request("eth_getBlockByNumber".into(), ("0x1",))
        .await
        .unwrap();
    assert_eq!(header_only["transactions"], json!([hash]));

    let logs = p
        .get_logs(&Filter::new().address(to).from_block(0))
        .await
        .unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].transaction_hash, Some(hash));
    let none = p
        .get_logs(&Filter::new().address(REVERTER).from_block(0))
        .await
        .unwrap();
    assert!(none.is_empty());

    // Unknown things are null, not errors: alloy polls receipts.
    let unknown = b256!("00000000000000000000000000000000000000000000000000000000000000ff");
    assert!(p.get_transaction_receipt(unknown).await.unwrap().is_none());
    assert!(p.get_transaction_by_hash(unknown).await.unwrap().is_none());
    assert!(p.get_block_by_number(99.into()).await.unwrap().is_none());
    assert!(p.get_block_by_hash(unknown).await.unwrap().is_none());
    assert_eq!(
        p.get_block_transaction_count_by_number(99.into())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        p.get_block_transaction_count_by_hash(unknown)
            .await
            .unwrap(),
        None
    );
    assert_eq!(fake.block_number(), 1);
    server.stop().await;
}

#[tokio::test]
async fn send_transaction_is_signed_by_the_node_after_alloy_fills_it() {
    let (_fake, server) = start().await;
    // The default provider fills nonce, gas, fees and chain id: eth_getTransactionCount,
    // eth_estimateGas, eth_feeHistory/eth_getBlockByNumber and eth_chainId.
    let p = http(&server.url());
    let req = TransactionRequest::default()
        .with_from(DEV_ACCOUNT)
        .with_to(address!("00000000000000000000000000000000000000dd"))
        .with_value(U256::from(5));
    let pending = p.send_transaction(req).await.unwrap();
    let receipt = tokio::time::timeout(TIMEOUT, pending.get_receipt())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(receipt.from, DEV_ACCOUNT);
    assert_eq!(receipt.gas_used, 21_000);
    server.stop().await;
}

#[tokio::test]
async fn fee_history_round_trips_and_checks_percentiles() {
    let (fake, server) = start().await;
    let p = http(&server.url());
    fake.mine_empty(3);
    let history = p
        .get_fee_history(10, BlockNumberOrTag::Latest, &[20.0])
        .await
        .unwrap();
    assert_eq!(history.oldest_block, 0);
    assert_eq!(history.base_fee_per_gas.len(), 5);
    assert_eq!(history.reward.as_ref().unwrap().len(), 4);

    // cargo-stylus's exact call, block count as a hex string.
    let raw: Value = p
        .raw_request("eth_feeHistory".into(), ("0xa", "latest", [20.0]))
        .await
        .unwrap();
    assert_eq!(raw["oldestBlock"], "0x0");
    // A decimal block count works too (geth's HexOrDecimal64).
    let _: Value = p
        .raw_request("eth_feeHistory".into(), (2, "latest"))
        .await
        .unwrap();

    let bad = p
        .get_fee_history(2, BlockNumberOrTag::Latest, &[50.0, 20.0])
        .await;
    assert_eq!(rpc_error(bad).0, -32602);
    server.stop().await;
}

#[tokio::test]
async fn dev_methods_move_the_clock_and_mine() {
    let (fake, server) = start().await;
    let p = http(&server.url());

    let offset: u64 = p
        .raw_request("evm_increaseTime".into(), (3600,))
        .await
        .unwrap();
    assert_eq!(offset, 3600);
    let offset: u64 = p
        .raw_request("evm_increaseTime".into(), ("0x10",))
        .await
        .unwrap();
    assert_eq!(offset, 3616);

    let answer: String = p.raw_request("evm_mine".into(), ()).await.unwrap();
    assert_eq!(answer, "0x0");
    assert_eq!(fake.mined(), vec![None]);
    let _: String = p
        .raw_request("evm_mine".into(), (2_000_000_000u64,))
        .await
        .unwrap();
    let _: String = p
        .raw_request("evm_mine".into(), ("0x77359401",))
        .await
        .unwrap();
    let _: String = p
        .raw_request(
            "evm_mine".into(),
            (json!({"timestamp": 2_000_000_010u64, "blocks": 2}),),
        )
        .await
        .unwrap();
    assert_eq!(
        fake.mined(),
        vec![
            None,
            Some(2_000_000_000),
            Some(2_000_000_001),
            Some(2_000_000_010),
            None
        ]
    );
    assert_eq!(p.get_block_number().await.unwrap(), 5);

    let last = fake.latest_timestamp();
    let _: Value = p
        .raw_request("anvil_mine".into(), ("0x2", "0xa"))
        .await
        .unwrap();
    let tail = fake.mined().split_off(5);
    assert_eq!(tail, vec![Some(last + 10), Some(last + 20)]);
    let _: Value = p.raw_request("hardhat_mine".into(), ()).await.unwrap();
    assert_eq!(fake.mined().len(), 8);
    assert_eq!(p.get_block_number().await.unwrap(), 8);
    server.stop().await;
}

#[tokio::test]
async fn debug_trace_transaction_forwards_or_errors() {
    let (fake, server) = start().await;
    let p = http(&server.url());
    let hash = fake.mine_transfer();
    let trace: Value = p
        .raw_request(
            "debug_traceTransaction".into(),
            (hash, json!({"tracer": "callTracer"})),
        )
        .await
        .unwrap();
    assert_eq!(trace["type"], "CALL");
    let trace: Value = p
        .raw_request("debug_traceTransaction".into(), (hash,))
        .await
        .unwrap();
    assert_eq!(trace["type"], "CALL");

    let missing = p
        .raw_request::<_, Value>("debug_traceTransaction".into(), (B256::ZERO,))
        .await;
    let (code, message, _) = rpc_error(missing);
    assert_eq!(code, -32000);
    assert!(message.contains("no trace"), "{message}");
    server.stop().await;
}

/// One raw POST; returns the JSON-RPC error code (or None) and the HTTP status.
async fn post_code(server_addr: std::net::SocketAddr, body: &str) -> (u16, Option<i64>) {
    let (status, text) = http_raw(server_addr, "POST", body, &[]).await;
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("response is not JSON ({e}): {text:?}"));
    (status, json["error"]["code"].as_i64())
}

#[tokio::test]
async fn malformed_requests_get_json_rpc_errors() {
    let (_fake, server) = start().await;
    let addr = server.local_addr();
    let good = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;

    assert_eq!(post_code(addr, "{not json").await.1, Some(-32700));
    let unknown = r#"{"jsonrpc":"2.0","id":1,"method":"eth_mine_bitcoin","params":[]}"#;
    assert_eq!(post_code(addr, unknown).await.1, Some(-32601));
    let wrong_type = r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[42]}"#;
    assert_eq!(post_code(addr, wrong_type).await.1, Some(-32602));
    let missing = r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[]}"#;
    assert_eq!(post_code(addr, missing).await.1, Some(-32602));
    let bad_tag =
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["soon",false]}"#;
    assert_eq!(post_code(addr, bad_tag).await.1, Some(-32602));
    let bad_kind = r#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["everything"]}"#;
    // Subscriptions need a WebSocket; over HTTP jsonrpsee answers with an error too.
    assert!(post_code(addr, bad_kind).await.1.is_some());

    // A batch answers each entry.
    let batch = format!("[{good},{unknown}]");
    let (status, text) = http_raw(addr, "POST", &batch, &[]).await;
    assert_eq!(status, 200);
    let answers: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answers[0]["result"], "0x64aba");
    assert_eq!(answers[1]["error"]["code"], -32601);

    let (status, code) = post_code(addr, good).await;
    assert_eq!((status, code), (200, None));
    server.stop().await;
}

#[tokio::test]
async fn oversized_body_is_refused_and_the_server_keeps_serving() {
    let (_fake, server) = start().await;
    let addr = server.local_addr();
    let padding = "0".repeat(10_000_000);
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x{padding}"]}}"#
    );
    let (status, text) = http_raw(addr, "POST", &huge, &[]).await;
    assert_eq!(status, 413, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert!(json["error"]["code"].as_i64().is_some(), "{text}");

    // Still serving, over HTTP and WebSocket.
    let p = http(&server.url());
    assert_eq!(p.get_chain_id().await.unwrap(), CHAIN_ID);
    let ws = ProviderBuilder::new()
        .connect_ws(WsConnect::new(server.ws_url()))
        .await
        .unwrap();
    assert_eq!(ws.get_chain_id().await.unwrap(), CHAIN_ID);
    server.stop().await;
}

#[tokio::test]
async fn cors_is_answered_only_for_the_origins_a_developer_allows() {
    let preflight = |origin| {
        [
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ]
    };
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#;

    // By default no web page may call the node: no CORS header for any origin.
    let (_fake, server) = start().await;
    let addr = server.local_addr();
    let (_, head) = http_raw_head(addr, "OPTIONS", "", &preflight("http://localhost:5173")).await;
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    let origin = [("Origin", "http://localhost:5173")];
    let (status, head) = http_raw_head(addr, "POST", body, &origin).await;
    assert_eq!(
        status, 200,
        "non-browser clients sending an Origin still get answers"
    );
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    server.stop().await;

    // An allowed origin gets CORS; another does not.
    let config = RpcConfig {
        allow_origins: vec!["http://localhost:5173/".into()],
        ..test_config()
    };
    let server = serve(Fake::new(), config).await.unwrap();
    let addr = server.local_addr();
    let (status, head) =
        http_raw_head(addr, "OPTIONS", "", &preflight("http://localhost:5173")).await;
    assert!((200..300).contains(&status), "{status} {head}");
    assert!(
        head.contains("access-control-allow-origin: http://localhost:5173"),
        "{head}"
    );
    let (_, head) = http_raw_head(addr, "POST", body, &origin).await;
    assert!(
        head.contains("access-control-allow-origin: http://localhost:5173"),
        "{head}"
    );
    let (_, head) = http_raw_head(addr, "OPTIONS", "", &preflight("https://evil.example")).await;
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    server.stop().await;

    // `*` opens it to every page, as anvil's default does.
    let config = RpcConfig {
        allow_origins: vec!["*".into()],
        ..test_config()
    };
    let server = serve(Fake::new(), config).await.unwrap();
    let (_, head) = http_raw_head(
        server.local_addr(),
        "OPTIONS",
        "",
        &preflight("https://any.example"),
    )
    .await;
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    server.stop().await;

    // Something that is not an origin is a start-up error, not a silent no.
    let config = RpcConfig {
        allow_origins: vec!["localhost:5173".into()],
        ..test_config()
    };
    let err = serve(Fake::new(), config).await.unwrap_err();
    assert!(err.to_string().contains("not an origin"), "{err}");
}

#[tokio::test]
async fn a_host_header_naming_another_domain_is_refused_against_dns_rebinding() {
    let (_fake, server) = start().await;
    let addr = server.local_addr();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#;
    let port = addr.port();
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.example:{port}"),
    ] {
        let (status, text) = http_raw(addr, "POST", body, &[("Host", &host)]).await;
        assert_eq!(status, 403, "{host}: {text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid host"),
            "{text}"
        );
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("192.168.1.20:{port}"),
    ] {
        let (status, text) = http_raw(addr, "POST", body, &[("Host", &host)]).await;
        assert_eq!(status, 200, "{host}: {text}");
    }
    server.stop().await;

    let config = RpcConfig {
        allow_hosts: vec!["devnode.lan".into()],
        ..test_config()
    };
    let server = serve(Fake::new(), config).await.unwrap();
    let addr = server.local_addr();
    let (status, _) = http_raw(addr, "POST", body, &[("Host", "devnode.lan:8547")]).await;
    assert_eq!(status, 200);
    let (status, _) = http_raw(addr, "POST", body, &[("Host", "other.lan:8547")]).await;
    assert_eq!(status, 403);
    server.stop().await;
}

/// The status code of a WebSocket handshake with these extra headers.
async fn ws_handshake_status(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> u16 {
    use std::io::{Read, Write};
    let host = headers
        .iter()
        .find(|(name, _)| *name == "Host")
        .map_or_else(|| addr.to_string(), |(_, value)| value.to_string());
    let mut request = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (name, value) in headers.iter().filter(|(name, _)| *name != "Host") {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        head.split(' ').nth(1).unwrap().parse().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_websocket_from_a_web_page_of_an_origin_not_allowed_is_refused() {
    let config = RpcConfig {
        allow_origins: vec!["http://127.0.0.1:5173".into()],
        ..test_config()
    };
    let server = serve(Fake::new(), config).await.unwrap();
    let addr = server.local_addr();
    // Browsers apply no CORS to WebSockets: the Origin is checked at the handshake.
    assert_eq!(
        ws_handshake_status(addr, &[("Origin", "https://evil.example")]).await,
        403
    );
    assert_eq!(
        ws_handshake_status(addr, &[("Origin", "http://127.0.0.1:5173")]).await,
        101
    );
    // Tools send no Origin and are not affected.
    assert_eq!(ws_handshake_status(addr, &[]).await, 101);
    assert_eq!(
        ws_handshake_status(addr, &[("Host", "evil.example:8547")]).await,
        403,
        "the Host check covers WebSockets too"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_batch_above_the_limit_gets_one_error_and_a_batch_at_it_is_answered() {
    let (_fake, server) = start().await;
    let addr = server.local_addr();
    let batch = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_chainId"}))
                .collect(),
        )
        .to_string()
    };
    let (status, text) = http_raw(addr, "POST", &batch(1000), &[]).await;
    assert_eq!(status, 200);
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 1000);
    let (_, text) = http_raw(addr, "POST", &batch(1001), &[]).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert!(answer["error"]["code"].as_i64().is_some(), "{text}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("batch"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn ws_new_heads_subscription_receives_mined_blocks() {
    let (fake, server) = start().await;
    let ws = ProviderBuilder::new()
        .connect_ws(WsConnect::new(server.ws_url()))
        .await
        .unwrap();
    let mut stream = ws.subscribe_blocks().await.unwrap();

    fake.mine_empty(1);
    let hash = fake.mine_transfer();
    let first = tokio::time::timeout(TIMEOUT, stream.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.number, 1);
    let second = tokio::time::timeout(TIMEOUT, stream.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.number, 2);
    assert_eq!(fake.block_hash(2), second.hash);
    // Plain calls share the socket.
    assert_eq!(ws.get_block_number().await.unwrap(), 2);
    assert!(ws.get_transaction_receipt(hash).await.unwrap().is_some());
    server.stop().await;
}

#[tokio::test]
async fn ws_logs_subscription_applies_address_and_topic_filter() {
    let (fake, server) = start().await;
    let ws = ProviderBuilder::new()
        .connect_ws(WsConnect::new(server.ws_url()))
        .await
        .unwrap();
    let a = address!("000000000000000000000000000000000000000a");
    let b = address!("000000000000000000000000000000000000000b");
    let ping = keccak256("Ping()");
    let pong = keccak256("Pong()");

    let mut by_address = ws.subscribe_logs(&Filter::new().address(a)).await.unwrap();
    let mut by_topic = ws
        .subscribe_logs(&Filter::new().event_signature(pong))
        .await
        .unwrap();

    fake.mine_logs(&[(b, ping), (a, ping), (b, pong), (a, pong)]);
    fake.mine_logs(&[(a, ping)]);

    let mut got = Vec::new();
    for _ in 0..3 {
        let log = tokio::time::timeout(TIMEOUT, by_address.recv())
            .await
            .unwrap()
            .unwrap();
        got.push((log.address(), log.topics()[0], log.block_number.unwrap()));
    }
    assert_eq!(got, vec![(a, ping, 1), (a, pong, 1), (a, ping, 2)]);

    let mut got = Vec::new();
    for _ in 0..2 {
        let log = tokio::time::timeout(TIMEOUT, by_topic.recv())
            .await
            .unwrap()
            .unwrap();
        got.push((log.address(), log.topics()[0]));
    }
    assert_eq!(got, vec![(b, pong), (a, pong)]);
    // Nothing else was sent to the topic subscription.
    let extra = tokio::time::timeout(Duration::from_millis(300), by_topic.recv()).await;
    assert!(extra.is_err(), "unexpected log {extra:?}");
    server.stop().await;
}

#[tokio::test]
async fn ws_unsubscribe_and_unsupported_kinds() {
    let (fake, server) = start().await;
    let ws = ProviderBuilder::new()
        .connect_ws(WsConnect::new(server.ws_url()))
        .await
        .unwrap();

    // alloy swaps the server's id for a local one and sends eth_unsubscribe itself,
    // always with request id 1: a call of ours must have used id 1 before, or
    // alloy would hand it the unsubscribe answer.
    let sub = ws.subscribe_blocks().await.unwrap();
    assert_eq!(ws.get_block_number().await.unwrap(), 0);
    ws.unsubscribe(sub.local_id().to_owned()).await.unwrap();

    let pending = ws
        .raw_request::<_, U256>("eth_subscribe".into(), ("newPendingTransactions",))
        .await;
    let (code, message, _) = rpc_error(pending);
    assert_eq!(code, -32602);
    assert!(message.contains("unsupported subscription"), "{message}");
    let bad_filter = ws
        .raw_request::<_, U256>("eth_subscribe".into(), ("logs", json!({"address": 5})))
        .await;
    assert_eq!(rpc_error(bad_filter).0, -32602);

    // The socket still works, and blocks mined with no subscriber do not trouble it.
    fake.mine_empty(2);
    assert_eq!(ws.get_block_number().await.unwrap(), 2);
    server.stop().await;
}

/// The wire shapes, without alloy in between: geth's notification envelope,
/// and eth_unsubscribe answering true once, then false.
#[tokio::test]
async fn subscription_messages_have_geth_shape() {
    let fake = Fake::new();
    let module = rpc_module(fake.clone()).unwrap();
    let subscribe = r#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"#;
    let (resp, mut notes) = module.raw_json_request(subscribe, 8).await.unwrap();
    let resp: Value = serde_json::from_str(resp.get()).unwrap();
    let id = resp["result"].clone();

    let hash = fake.mine_transfer();
    let note = tokio::time::timeout(TIMEOUT, notes.recv())
        .await
        .unwrap()
        .unwrap();
    let note: Value = serde_json::from_str(note.get()).unwrap();
    assert_eq!(note["jsonrpc"], "2.0");
    assert_eq!(note["method"], "eth_subscription");
    assert_eq!(note["params"]["subscription"], id);
    assert_eq!(note["params"]["result"]["number"], "0x1");
    assert!(note["params"]["result"]["hash"].is_string());

    let logs = r#"{"jsonrpc":"2.0","id":2,"method":"eth_subscribe","params":["logs",{"address":"0x00000000000000000000000000000000000000dd"}]}"#;
    let (_, mut log_notes) = module.raw_json_request(logs, 8).await.unwrap();
    fake.mine_transfer();
    let note = tokio::time::timeout(TIMEOUT, log_notes.recv())
        .await
        .unwrap()
        .unwrap();
    let note: Value = serde_json::from_str(note.get()).unwrap();
    assert_eq!(
        note["params"]["result"]["address"],
        "0x00000000000000000000000000000000000000dd"
    );
    assert_eq!(note["params"]["result"]["blockNumber"], "0x2");
    assert_ne!(note["params"]["result"]["transactionHash"], json!(hash));

    let unsubscribe = json!({"jsonrpc":"2.0","id":3,"method":"eth_unsubscribe","params":[id]});
    let (resp, _) = module
        .raw_json_request(&unsubscribe.to_string(), 1)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(resp.get()).unwrap()["result"],
        true
    );
    let (resp, _) = module
        .raw_json_request(&unsubscribe.to_string(), 1)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(resp.get()).unwrap()["result"],
        false
    );
}

#[tokio::test]
async fn server_binds_port_zero_and_stops_gracefully() {
    let fake = Fake::new();
    let server = serve(fake.clone(), test_config()).await.unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(server.url(), format!("http://{addr}"));
    assert_eq!(server.ws_url(), format!("ws://{addr}"));

    // The port is taken while it runs.
    let clash = serve(
        fake,
        RpcConfig {
            addr,
            ..test_config()
        },
    )
    .await;
    assert!(clash.unwrap_err().to_string().contains("cannot listen"));

    server.stop().await;
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn default_config_matches_nitro_devnode() {
    let config = RpcConfig::default();
    assert_eq!(config.addr, "127.0.0.1:8547".parse().unwrap());
    assert!(
        config.allow_origins.is_empty(),
        "no web page may call the node unless a developer allows its origin"
    );
    assert!(config.allow_hosts.is_empty());
    assert_eq!(config.max_batch_len, 1000, "geth's batch limit");
    assert!(config.max_request_body_bytes < 10_000_000);
    let _: Address = DEV_ACCOUNT;
}

/// An in-memory chain behind the `Backend` trait, plus raw-HTTP helpers. It keeps
/// no history: block ids are only checked and recorded, so tests can see what the
/// server passed on.
mod fake {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use alloy::consensus::transaction::{Recovered, SignerRecoverable};
    use alloy::consensus::{
        Eip658Value, Header as ConsensusHeader, Receipt, ReceiptEnvelope, ReceiptWithBloom,
        SignableTransaction, Transaction as _, TxEip1559, TxEnvelope,
    };
    use alloy::eips::eip2718::Decodable2718;
    use alloy::eips::{BlockId, BlockNumberOrTag};
    use alloy::primitives::{
        address, keccak256, Address, Bloom, Bytes, LogData, Signature, TxKind, B256, U256,
    };
    use alloy::rpc::types::state::StateOverride;
    use alloy::rpc::types::{
        Block, BlockTransactions, FeeHistory, Filter, Header, Log, Transaction, TransactionReceipt,
        TransactionRequest,
    };
    use careledger_devnode::rpc::{
        serve, Backend, BackendError, BackendResult, MinedBlock, RpcConfig, RpcServer,
    };
    use tokio::sync::broadcast;

    /// nitro-devnode's chain id.
    pub(crate) const CHAIN_ID: u64 = 412_346;
    /// The account the node signs for.
    pub(crate) const DEV_ACCOUNT: Address = address!("3f1Eae7D46d88F08fc2F8ed27FCb2AB183EB2d0E");
    /// Calls to it revert with ArbWasm's `ProgramNotActivated()`.
    pub(crate) const REVERTER: Address = address!("0000000000000000000000000000000000000071");
    /// Calls to it halt (out of gas).
    pub(crate) const HALTER: Address = address!("00000000000000000000000000000000000000fe");
    /// Reading its code is an internal failure.
    pub(crate) const INTERNAL_FAILURE: Address =
        address!("00000000000000000000000000000000000000ee");
    /// `ProgramNotActivated()` selector, as the error `data` must carry it.
    pub(crate) const PROGRAM_NOT_ACTIVATED: &str = "0x6f809c4e";
    const BASE_FEE: u64 = 100_000_000;
    const GENESIS_TIME: u64 = 1_700_000_000;

    #[derive(Default, Clone)]
    struct Account {
        balance: U256,
        nonce: u64,
        code: Bytes,
        storage: HashMap<U256, B256>,
    }

    #[derive(Default)]
    struct State {
        blocks: Vec<Block>,
        receipts: HashMap<B256, TransactionReceipt>,
        logs: Vec<Log>,
        accounts: HashMap<Address, Account>,
        time_offset: u64,
        mined: Vec<Option<u64>>,
        last_block_id: Option<BlockId>,
        last_override_count: Option<usize>,
    }

    /// The fake chain.
    pub(crate) struct Fake {
        state: Mutex<State>,
        heads: broadcast::Sender<MinedBlock>,
    }

    impl Fake {
        /// A chain with a genesis block and nothing else.
        pub(crate) fn new() -> Arc<Self> {
            let fake = Arc::new(Self {
                state: Mutex::new(State::default()),
                heads: broadcast::channel(64).0,
            });
            fake.push_block(Vec::new(), Vec::new(), Some(GENESIS_TIME));
            fake
        }

        pub(crate) fn set_account(
            &self,
            who: Address,
            balance: U256,
            nonce: u64,
            code: Bytes,
            slot: U256,
            value: B256,
        ) {
            let storage = HashMap::from([(slot, value)]);
            let account = Account {
                balance,
                nonce,
                code,
                storage,
            };
            self.state.lock().unwrap().accounts.insert(who, account);
        }

        pub(crate) fn last_block_id(&self) -> Option<BlockId> {
            self.state.lock().unwrap().last_block_id
        }

        pub(crate) fn last_override_count(&self) -> Option<usize> {
            self.state.lock().unwrap().last_override_count
        }

        /// Timestamps asked of `Backend::mine`, in order.
        pub(crate) fn mined(&self) -> Vec<Option<u64>> {
            self.state.lock().unwrap().mined.clone()
        }

        pub(crate) fn latest_timestamp(&self) -> u64 {
            self.state
                .lock()
                .unwrap()
                .blocks
                .last()
                .unwrap()
                .header
                .timestamp
        }

        pub(crate) fn block_hash(&self, number: usize) -> B256 {
            self.state.lock().unwrap().blocks[number].header.hash
        }

        pub(crate) fn mine_empty(&self, blocks: usize) {
            for _ in 0..blocks {
                self.push_block(Vec::new(), Vec::new(), None);
            }
        }

        /// Mines a 1-wei transfer from the dev account; returns its hash.
        pub(crate) fn mine_transfer(&self) -> B256 {
            let to = address!("00000000000000000000000000000000000000dd");
            let req = TransactionRequest::default()
                .from(DEV_ACCOUNT)
                .to(to)
                .value(U256::from(1));
            self.send_transaction(req).unwrap()
        }

        /// Mines a block holding these (address, topic0) logs.
        pub(crate) fn mine_logs(&self, logs: &[(Address, B256)]) {
            self.push_block(Vec::new(), logs.to_vec(), None);
        }

        fn push_block(
            &self,
            txs: Vec<Recovered<TxEnvelope>>,
            bare_logs: Vec<(Address, B256)>,
            timestamp: Option<u64>,
        ) -> B256 {
            let mut st = self.state.lock().unwrap();
            let number = st.blocks.len() as u64;
            let parent = st
                .blocks
                .last()
                .map(|b| (b.header.hash, b.header.timestamp));
            let timestamp = timestamp.unwrap_or_else(|| parent.map_or(GENESIS_TIME, |p| p.1 + 1));
            let header = Header::new(ConsensusHeader {
                number,
                parent_hash: parent.map_or(B256::ZERO, |p| p.0),
                timestamp,
                base_fee_per_gas: Some(BASE_FEE),
                gas_limit: 30_000_000,
                gas_used: 21_000 * txs.len() as u64,
                ..Default::default()
            });
            let log = |address: Address, topic: B256, tx: Option<(B256, u64)>, index: u64| Log {
                inner: alloy::primitives::Log {
                    address,
                    data: LogData::new_unchecked(vec![topic], Bytes::new()),
                },
                block_hash: Some(header.hash),
                block_number: Some(number),
                block_timestamp: Some(timestamp),
                transaction_hash: tx.map(|t| t.0),
                transaction_index: tx.map(|t| t.1),
                log_index: Some(index),
                removed: false,
            };
            let mut block_logs = Vec::new();
            let mut rpc_txs = Vec::new();
            for (i, tx) in txs.into_iter().enumerate() {
                let hash = *tx.tx_hash();
                let to = tx.to();
                let tx_logs: Vec<Log> = to
                    .map(|to| {
                        log(
                            to,
                            keccak256("Ping()"),
                            Some((hash, i as u64)),
                            block_logs.len() as u64,
                        )
                    })
                    .into_iter()
                    .collect();
                let mut bloom = Bloom::default();
                tx_logs.iter().for_each(|l| bloom.accrue_log(&l.inner));
                let receipt = TransactionReceipt {
                    inner: ReceiptEnvelope::Eip1559(ReceiptWithBloom {
                        receipt: Receipt {
                            status: Eip658Value::Eip658(true),
                            cumulative_gas_used: 21_000 * (i as u64 + 1),
                            logs: tx_logs.clone(),
                        },
                        logs_bloom: bloom,
                    }),
                    transaction_hash: hash,
                    transaction_index: Some(i as u64),
                    block_hash: Some(header.hash),
                    block_number: Some(number),
                    gas_used: 21_000,
                    effective_gas_price: BASE_FEE as u128,
                    blob_gas_used: None,
                    blob_gas_price: None,
                    from: tx.signer(),
                    to,
                    contract_address: None,
                };
                st.receipts.insert(hash, receipt);
                block_logs.extend(tx_logs);
                rpc_txs.push(Transaction {
                    inner: tx,
                    block_hash: Some(header.hash),
                    block_number: Some(number),
                    transaction_index: Some(i as u64),
                    effective_gas_price: Some(BASE_FEE as u128),
                    block_timestamp: Some(timestamp),
                });
            }
            for (address, topic) in bare_logs {
                let index = block_logs.len() as u64;
                block_logs.push(log(address, topic, None, index));
            }
            let hash = header.hash;
            st.logs.extend(block_logs.iter().cloned());
            st.blocks
                .push(Block::new(header.clone(), BlockTransactions::Full(rpc_txs)));
            drop(st);
            // No subscriber is fine: the error only says nobody listens.
            let _ = self.heads.send(MinedBlock {
                header,
                logs: block_logs,
            });
            hash
        }

        fn resolve(&self, st: &mut State, block: BlockId) -> BackendResult<usize> {
            st.last_block_id = Some(block);
            let head = st.blocks.len() - 1;
            match block {
                BlockId::Hash(h) => st
                    .blocks
                    .iter()
                    .position(|b| b.header.hash == h.block_hash)
                    .ok_or_else(|| BackendError::InvalidParams("unknown block".into())),
                BlockId::Number(BlockNumberOrTag::Number(n)) if n as usize > head => {
                    Err(BackendError::InvalidParams(format!("unknown block {n}")))
                }
                BlockId::Number(BlockNumberOrTag::Number(n)) => Ok(n as usize),
                BlockId::Number(BlockNumberOrTag::Earliest) => Ok(0),
                BlockId::Number(_) => Ok(head),
            }
        }

        fn account(&self, who: Address, block: BlockId) -> BackendResult<Account> {
            let mut st = self.state.lock().unwrap();
            self.resolve(&mut st, block)?;
            Ok(st.accounts.get(&who).cloned().unwrap_or_default())
        }

        fn execute(
            &self,
            request: &TransactionRequest,
            block: BlockId,
            overrides: Option<StateOverride>,
        ) -> BackendResult<Bytes> {
            let mut st = self.state.lock().unwrap();
            self.resolve(&mut st, block)?;
            st.last_override_count = overrides.map(|o| o.len());
            match request.to {
                Some(TxKind::Call(REVERTER)) => Err(BackendError::Revert {
                    data: Bytes::from_static(&[0x6f, 0x80, 0x9c, 0x4e]),
                    reason: Some("ProgramNotActivated()".into()),
                }),
                Some(TxKind::Call(HALTER)) => Err(BackendError::Halt("out of gas".into())),
                _ => Ok(request.input.input().cloned().unwrap_or_default()),
            }
        }
    }

    impl Backend for Fake {
        fn chain_id(&self) -> u64 {
            CHAIN_ID
        }

        fn block_number(&self) -> u64 {
            self.state.lock().unwrap().blocks.len() as u64 - 1
        }

        fn gas_price(&self) -> u128 {
            BASE_FEE as u128
        }

        fn accounts(&self) -> Vec<Address> {
            vec![DEV_ACCOUNT]
        }

        fn balance(&self, address: Address, block: BlockId) -> BackendResult<U256> {
            Ok(self.account(address, block)?.balance)
        }

        fn transaction_count(&self, address: Address, block: BlockId) -> BackendResult<u64> {
            Ok(self.account(address, block)?.nonce)
        }

        fn code(&self, address: Address, block: BlockId) -> BackendResult<Bytes> {
            if address == INTERNAL_FAILURE {
                return Err(BackendError::Internal("database unavailable".into()));
            }
            Ok(self.account(address, block)?.code)
        }

        fn storage_at(&self, address: Address, slot: U256, block: BlockId) -> BackendResult<B256> {
            let account = self.account(address, block)?;
            Ok(account.storage.get(&slot).copied().unwrap_or_default())
        }

        fn send_raw_transaction(&self, raw: Bytes) -> BackendResult<B256> {
            let tx = TxEnvelope::decode_2718(&mut raw.as_ref()).map_err(|e| {
                BackendError::InvalidTransaction(format!("cannot decode transaction: {e}"))
            })?;
            let from = tx
                .recover_signer()
                .map_err(|e| BackendError::InvalidTransaction(e.to_string()))?;
            let hash = *tx.tx_hash();
            self.push_block(vec![Recovered::new_unchecked(tx, from)], Vec::new(), None);
            Ok(hash)
        }

        fn send_transaction(&self, request: TransactionRequest) -> BackendResult<B256> {
            if request.from != Some(DEV_ACCOUNT) {
                return Err(BackendError::InvalidTransaction("unknown account".into()));
            }
            let nonce = {
                let mut st = self.state.lock().unwrap();
                let account = st.accounts.entry(DEV_ACCOUNT).or_default();
                account.nonce += 1;
                account.nonce - 1
            };
            let tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit: request.gas.unwrap_or(21_000),
                max_fee_per_gas: request.max_fee_per_gas.unwrap_or(BASE_FEE as u128),
                max_priority_fee_per_gas: 0,
                to: request.to.unwrap_or(TxKind::Create),
                value: request.value.unwrap_or_default(),
                input: request.input.input().cloned().unwrap_or_default(),
                access_list: Default::default(),
            };
            // The node "signs": a fixed signature is enough for a fake.
            let tx = TxEnvelope::from(tx.into_signed(Signature::test_signature()));
            let hash = *tx.tx_hash();
            self.push_block(
                vec![Recovered::new_unchecked(tx, DEV_ACCOUNT)],
                Vec::new(),
                None,
            );
            Ok(hash)
        }

        fn call(
            &self,
            request: TransactionRequest,
            block: BlockId,
            overrides: Option<StateOverride>,
        ) -> BackendResult<Bytes> {
            self.execute(&request, block, overrides)
        }

        fn estimate_gas(
            &self,
            request: TransactionRequest,
            block: BlockId,
            overrides: Option<StateOverride>,
        ) -> BackendResult<u64> {
            self.execute(&request, block, overrides)?;
            Ok(if request.to.is_some() { 50_000 } else { 53_000 })
        }

        fn transaction_receipt(&self, hash: B256) -> Option<TransactionReceipt> {
            self.state.lock().unwrap().receipts.get(&hash).cloned()
        }

        fn transaction_by_hash(&self, hash: B256) -> Option<Transaction> {
            let st = self.state.lock().unwrap();
            let found = st
                .blocks
                .iter()
                .flat_map(|b| b.transactions.txns())
                .find(|tx| *tx.inner.tx_hash() == hash)
                .cloned();
            found
        }

        fn block(&self, block: BlockId, full_transactions: bool) -> Option<Block> {
            let mut st = self.state.lock().unwrap();
            let index = self.resolve(&mut st, block).ok()?;
            let mut block = st.blocks[index].clone();
            if !full_transactions {
                block.transactions =
                    BlockTransactions::Hashes(block.transactions.hashes().collect());
            }
            Some(block)
        }

        fn logs(&self, filter: &Filter) -> BackendResult<Vec<Log>> {
            let st = self.state.lock().unwrap();
            Ok(st
                .logs
                .iter()
                .filter(|l| filter.matches(&l.inner))
                .filter(|l| filter.matches_block_range(l.block_number.unwrap()))
                .cloned()
                .collect())
        }

        fn fee_history(
            &self,
            block_count: u64,
            newest: BlockNumberOrTag,
            reward_percentiles: Option<Vec<f64>>,
        ) -> BackendResult<FeeHistory> {
            let mut st = self.state.lock().unwrap();
            let newest = self.resolve(&mut st, newest.into())? as u64;
            let count = block_count.min(newest + 1);
            Ok(FeeHistory {
                base_fee_per_gas: vec![BASE_FEE as u128; count as usize + 1],
                gas_used_ratio: vec![0.5; count as usize],
                reward: reward_percentiles.map(|p| vec![vec![0u128; p.len()]; count as usize]),
                oldest_block: newest + 1 - count,
                ..Default::default()
            })
        }

        fn increase_time(&self, seconds: u64) -> BackendResult<u64> {
            let mut st = self.state.lock().unwrap();
            st.time_offset = st
                .time_offset
                .checked_add(seconds)
                .ok_or_else(|| BackendError::InvalidParams("overflow".into()))?;
            Ok(st.time_offset)
        }

        fn mine(&self, timestamp: Option<u64>) -> BackendResult<()> {
            self.state.lock().unwrap().mined.push(timestamp);
            self.push_block(Vec::new(), Vec::new(), timestamp);
            Ok(())
        }

        fn subscribe(&self) -> broadcast::Receiver<MinedBlock> {
            self.heads.subscribe()
        }

        fn trace_transaction(&self, hash: B256) -> Option<serde_json::Value> {
            let st = self.state.lock().unwrap();
            st.receipts
                .get(&hash)
                .map(|r| serde_json::json!({"type": "CALL", "from": r.from, "to": r.to}))
        }
    }

    /// Port 0 on loopback, otherwise the defaults.
    pub(crate) fn test_config() -> RpcConfig {
        RpcConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..RpcConfig::default()
        }
    }

    /// A fake chain behind a server on a free port.
    pub(crate) async fn start() -> (Arc<Fake>, RpcServer) {
        let fake = Fake::new();
        let server = serve(fake.clone(), test_config())
            .await
            .expect("server starts");
        (fake, server)
    }

    /// One HTTP/1.1 exchange on a fresh connection: (status, body).
    pub(crate) async fn http_raw(
        addr: SocketAddr,
        method: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let (status, _, body) = exchange(addr, method, body, headers).await;
        (status, body)
    }

    /// One HTTP/1.1 exchange: (status, response head with lower-cased header lines).
    pub(crate) async fn http_raw_head(
        addr: SocketAddr,
        method: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let (status, head, _) = exchange(addr, method, body, headers).await;
        (status, head)
    }

    async fn exchange(
        addr: SocketAddr,
        method: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String, String) {
        // A Host among `headers` replaces the default one.
        let host = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map_or_else(|| addr.to_string(), |(_, value)| value.to_string());
        let mut request = format!(
            "{method} / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
        {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut payload = request.into_bytes();
        payload.extend_from_slice(body.as_bytes());
        tokio::task::spawn_blocking(move || blocking_exchange(addr, payload))
            .await
            .unwrap()
    }

    /// The exchange, and its answer split into status, lowercased head and body.
    fn blocking_exchange(addr: SocketAddr, payload: Vec<u8>) -> (u16, String, String) {
        let raw = crate::common::raw_http::exchange(addr, payload, Duration::from_secs(20));
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no response: {text:?}"));
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_ascii_lowercase(), body.to_owned())
    }
}
