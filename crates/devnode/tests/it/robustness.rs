//! The real node against bad input: malformed JSON-RPC over raw HTTP, malformed
//! and invalid raw transactions, and a seeded loop of random calldata sent to the
//! three CareLedger programs as calls and as transactions.

use crate::common;
use crate::common::raw_http;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::Encodable2718;
use alloy::network::TransactionBuilder;
use alloy::primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol_types::{SolCall, SolValue};
use careledger_devnode::{Devnode, CHAIN_ID};
use common::abi::{IAccessToken, IPatientRegistry, IRecordRegistry};
use common::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ raw HTTP

/// One HTTP/1.1 POST on a fresh connection: (status, body). Writes on one thread
/// while reading on another, so that an early refusal of a huge body is not lost.
async fn post(addr: SocketAddr, body: Vec<u8>) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let mut payload = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        payload.extend_from_slice(&body);
        let raw = raw_http::exchange(addr, payload, Duration::from_secs(20));
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_owned())
    })
    .await
    .unwrap()
}

/// POSTs a JSON body and returns (HTTP status, parsed answer).
async fn post_json(addr: SocketAddr, body: &str) -> (u16, Value) {
    let (status, text) = post(addr, body.as_bytes().to_vec()).await;
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer to {body:.80} is not JSON ({e}): {text:?}"));
    (status, value)
}

fn request(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}

async fn block_number(addr: SocketAddr) -> u64 {
    let (status, answer) = post_json(addr, &request("eth_blockNumber", json!([]))).await;
    assert_eq!(status, 200, "{answer}");
    let hex = answer["result"].as_str().expect("a block number");
    u64::from_str_radix(hex.trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_rpc_gets_errors_and_the_node_keeps_answering() {
    let dev = Devnode::ephemeral().await.unwrap();
    let addr = dev.rpc.local_addr();
    let code_of = |answer: &Value| answer["error"]["code"].as_i64();
    let dev_address = format!("{}", signer(&dev, 0).address());

    let cases: Vec<(&str, String, i64)> = vec![
        ("bad JSON", "{not json".into(), -32700),
        (
            "truncated JSON",
            r#"{"jsonrpc":"2.0","id":1,"method":"#.into(),
            -32700,
        ),
        ("binary garbage", "\u{1}\u{2}\u{3}\u{ff}".into(), -32700),
        (
            "unknown method",
            request("eth_mineBitcoin", json!([])),
            -32601,
        ),
        (
            "method of another namespace",
            request("admin_peers", json!([])),
            -32601,
        ),
        (
            "wrong parameter type",
            request("eth_getBalance", json!([42])),
            -32602,
        ),
        (
            "missing parameter",
            request("eth_getBalance", json!([])),
            -32602,
        ),
        (
            "bad address",
            request("eth_getBalance", json!(["0x1234", "latest"])),
            -32602,
        ),
        (
            "bad block tag",
            request("eth_getBalance", json!([dev_address, "soonish"])),
            -32602,
        ),
        (
            "raw transaction that is not hex",
            request("eth_sendRawTransaction", json!(["0xnothex"])),
            -32602,
        ),
        (
            "call object of the wrong shape",
            request("eth_call", json!([[1, 2, 3], "latest"])),
            -32602,
        ),
    ];
    let before = block_number(addr).await;
    for (what, body, expected) in &cases {
        let (status, answer) = post_json(addr, body).await;
        assert_eq!(code_of(&answer), Some(*expected), "{what}: {answer}");
        assert!(status == 200 || status == 400, "{what}: HTTP {status}");
    }

    // 10 MB: refused (HTTP 413 with a JSON-RPC error), the connection dropped, the
    // node still serving.
    let padding = "00".repeat(5_000_000);
    let huge = request("eth_sendRawTransaction", json!([format!("0x{padding}")]));
    assert!(huge.len() > 10_000_000);
    let started = Instant::now();
    let (status, text) = post(addr, huge.into_bytes()).await;
    assert_eq!(status, 413, "{text:.200}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert!(code_of(&answer).is_some(), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A batch mixing good and bad entries answers each one.
    let batch = format!(
        "[{},{},{}]",
        request("eth_chainId", json!([])),
        request("eth_nope", json!([])),
        request("eth_getBalance", json!([7]))
    );
    let (status, answers) = post_json(addr, &batch).await;
    assert_eq!(status, 200);
    assert_eq!(answers[0]["result"], format!("{CHAIN_ID:#x}"));
    assert_eq!(code_of(&answers[1]), Some(-32601));
    assert_eq!(code_of(&answers[2]), Some(-32602));

    // Still answering, over HTTP and through alloy, and nothing was mined.
    assert_eq!(block_number(addr).await, before);
    let p = connect(&dev.url(), signer(&dev, 0));
    assert_eq!(p.get_chain_id().await.unwrap(), CHAIN_ID);
    dev.stop().await;
}

// ------------------------------------------------------------- raw transactions

fn sign(signer: &PrivateKeySigner, tx: TxEip1559) -> Bytes {
    let signature = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    envelope.encoded_2718().into()
}

fn transfer(nonce: u64, to: Address) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(to),
        value: U256::from(1_000),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_and_invalid_raw_transactions_are_refused_and_nothing_is_mined() {
    let dev = Devnode::ephemeral().await.unwrap();
    let p = connect(&dev.url(), signer(&dev, 0));
    let sender = signer(&dev, 4);
    let to = Address::repeat_byte(0x42);

    // One good transfer so that nonce 0 is used.
    let good = sign(&sender, transfer(0, to));
    let hash = p
        .send_raw_transaction(&good)
        .await
        .unwrap()
        .tx_hash()
        .to_owned();
    assert!(p.get_transaction_receipt(hash).await.unwrap().is_some());

    let poor = PrivateKeySigner::from_bytes(&keccak256("a key nobody funded")).unwrap();
    let mut trailing = good.to_vec();
    trailing.push(0);
    let mut bad_signature = sign(&sender, transfer(1, to)).to_vec();
    let n = bad_signature.len();
    bad_signature[n - 32..].fill(0xff); // s above the curve order
    let cases: Vec<(&str, Bytes)> = vec![
        (
            "garbage bytes",
            Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]),
        ),
        ("no bytes", Bytes::new()),
        ("an unknown type byte", Bytes::from_static(&[0x7f, 0xc0])),
        ("trailing bytes", trailing.into()),
        ("a truncated transaction", good.slice(..good.len() - 10)),
        ("an invalid signature", bad_signature.into()),
        ("the same transaction again", good.clone()),
        (
            "the wrong chain id",
            sign(
                &sender,
                TxEip1559 {
                    chain_id: 1,
                    ..transfer(1, to)
                },
            ),
        ),
        (
            "a nonce already used",
            sign(
                &sender,
                TxEip1559 {
                    value: U256::from(7),
                    ..transfer(0, to)
                },
            ),
        ),
        ("a nonce in the future", sign(&sender, transfer(5, to))),
        ("insufficient funds", sign(&poor, transfer(0, to))),
        (
            "value beyond the balance",
            sign(
                &sender,
                TxEip1559 {
                    value: ether(2_000_000),
                    ..transfer(1, to)
                },
            ),
        ),
        (
            "gas below the intrinsic cost",
            sign(
                &sender,
                TxEip1559 {
                    gas_limit: 20_000,
                    ..transfer(1, to)
                },
            ),
        ),
        (
            "max fee below the base fee",
            sign(
                &sender,
                TxEip1559 {
                    max_fee_per_gas: 1,
                    ..transfer(1, to)
                },
            ),
        ),
        (
            "gas above the block gas limit",
            sign(
                &sender,
                TxEip1559 {
                    gas_limit: u64::MAX,
                    ..transfer(1, to)
                },
            ),
        ),
    ];

    let head = p.get_block_number().await.unwrap();
    let balance = p.get_balance(sender.address()).await.unwrap();
    let recipient = p.get_balance(to).await.unwrap();
    for (what, raw) in &cases {
        let err = p
            .send_raw_transaction(raw)
            .await
            .map(|pending| *pending.tx_hash())
            .expect_err(what);
        let (code, message) =
            error_code(&err).unwrap_or_else(|| panic!("{what}: not a JSON-RPC error: {err:?}"));
        assert!(
            code == -32000 || code == -32602,
            "{what}: code {code} ({message})"
        );
        eprintln!("{what}: {code} {message}");
        assert_eq!(
            p.get_block_number().await.unwrap(),
            head,
            "{what}: a block was mined"
        );
        if raw.len() > 4 && what != &"the same transaction again" {
            let hash = keccak256(raw);
            assert!(
                p.get_transaction_receipt(hash).await.unwrap().is_none(),
                "{what}: receipted"
            );
        }
    }
    assert_eq!(p.get_balance(sender.address()).await.unwrap(), balance);
    assert_eq!(p.get_balance(to).await.unwrap(), recipient);
    assert_eq!(p.get_transaction_count(sender.address()).await.unwrap(), 1);

    // The next good transaction is mined as block head + 1.
    let next = p
        .send_raw_transaction(&sign(&sender, transfer(1, to)))
        .await
        .unwrap();
    let receipt = p
        .get_transaction_receipt(*next.tx_hash())
        .await
        .unwrap()
        .expect("mined");
    assert!(receipt.status());
    assert_eq!(receipt.block_number, Some(head + 1));
    dev.stop().await;
}

// ------------------------------------------------------------ random calldata

/// splitmix64: a seeded generator, so that a failure can be replayed with
/// `ROBUSTNESS_SEED=<seed>`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An ABI word that sometimes decodes as something meaningful.
    fn word(&mut self, known: &[Address]) -> [u8; 32] {
        let mut w = [0u8; 32];
        match self.below(7) {
            0 => {}
            1 => w[31] = self.below(4) as u8,
            2 => w[12..].copy_from_slice(self.pick(known).as_slice()),
            3 => w = [0xff; 32],
            // An offset or a length, as dynamic types carry.
            4 => w[31] = (32 * self.below(8)) as u8,
            5 => w[24..].copy_from_slice(&self.next().to_be_bytes()),
            _ => w.copy_from_slice(&self.bytes(32)),
        }
        w
    }

    fn calldata(&mut self, selectors: &[[u8; 4]], known: &[Address]) -> Vec<u8> {
        match self.below(6) {
            0 => Vec::new(),
            1 => {
                let n = 1 + self.below(3) as usize;
                self.bytes(n)
            }
            2 => {
                let n = 4 + self.below(200) as usize;
                self.bytes(n)
            }
            3 => {
                let mut data = self.pick(selectors).to_vec();
                let n = self.below(300) as usize;
                data.extend(self.bytes(n));
                data
            }
            _ => {
                let mut data = self.pick(selectors).to_vec();
                for _ in 0..self.below(8) {
                    data.extend(self.word(known));
                }
                data
            }
        }
    }
}

/// What a call answered: Ok(output) or Err(revert data).
type Answer = Result<Bytes, Bytes>;

/// eth_call classified: success or revert; anything else fails the test.
async fn classify(
    p: &impl Provider,
    from: Option<Address>,
    to: Address,
    data: &[u8],
    value: U256,
) -> Answer {
    let mut request = TransactionRequest::default()
        .with_to(to)
        .with_input(data.to_vec())
        .with_value(value);
    if let Some(from) = from {
        request = request.with_from(from);
    }
    match p.call(request).await {
        Ok(out) => Ok(out),
        Err(err) => match error_code(&err) {
            Some((3, _)) => Err(revert_data(&err)),
            _ => panic!(
                "eth_call to {to} with 0x{} got {err:?}",
                alloy::hex::encode(data)
            ),
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn random_calldata_to_the_programs_reverts_or_succeeds_and_leaves_stored_data_alone() {
    let seed = std::env::var("ROBUSTNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_ca2e_1ed6_e200u64);
    let inputs: usize = std::env::var("ROBUSTNESS_INPUTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    eprintln!(
        "seed {seed} ({inputs} inputs per program; ROBUSTNESS_SEED / ROBUSTNESS_INPUTS override)"
    );

    let dev = Devnode::ephemeral().await.unwrap();
    let c = CareLedger::deploy(&dev).await;
    let (patient, doctor) = (c.patient.address(), c.doctor.address());
    // Stored data to watch: a record of the patient and a grant to the doctor.
    let cid: Bytes = [0x01, 0x70, 0x12, 0x20]
        .into_iter()
        .chain([7u8; 32])
        .collect::<Vec<_>>()
        .into();
    call_ok(
        &c.as_(&c.patient),
        c.records,
        IRecordRegistry::addRecordCall {
            cid,
            content_hash: B256::repeat_byte(9),
            category: B256::repeat_byte(4),
            readers: vec![],
            wrapped_keys: vec![],
        }
        .abi_encode()
        .into(),
    )
    .await;
    call_ok(
        &c.as_(&c.patient),
        c.token,
        IAccessToken::grantCall {
            doctor,
            expires_at: tomorrow(),
            scope_kind: 0,
            category: B256::ZERO,
            record_ids: vec![],
        }
        .abi_encode()
        .into(),
    )
    .await;

    let one = U256::from(1);
    let watched: Vec<(Option<Address>, Address, Vec<u8>)> = vec![
        (
            None,
            c.registry,
            IPatientRegistry::isPatientCall { account: patient }.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::isVerifiedDoctorCall { account: doctor }.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::doctorStatusCall { account: doctor }.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::encryptionKeyCall { account: patient }.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::encryptionKeyCall { account: doctor }.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::licenceHashCall { account: doctor }.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::isVerifierCall {
                account: c.verifier.address(),
            }
            .abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::ownerCall {}.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::pendingOwnerCall {}.abi_encode(),
        ),
        (
            None,
            c.registry,
            IPatientRegistry::pausedCall {}.abi_encode(),
        ),
        (
            None,
            c.token,
            IAccessToken::hasAccessCall {
                patient,
                doctor,
                record_id: one,
            }
            .abi_encode(),
        ),
        (
            None,
            c.token,
            IAccessToken::grantInfoCall { token_id: one }.abi_encode(),
        ),
        (
            None,
            c.token,
            IAccessToken::ownerOfCall { token_id: one }.abi_encode(),
        ),
        (
            None,
            c.token,
            IAccessToken::tokensOfCall { patient, doctor }.abi_encode(),
        ),
        (
            None,
            c.token,
            IAccessToken::patientRegistryCall {}.abi_encode(),
        ),
        (
            None,
            c.token,
            IAccessToken::recordRegistryCall {}.abi_encode(),
        ),
        (
            None,
            c.token,
            IAccessToken::balanceOfCall { owner: doctor }.abi_encode(),
        ),
        (
            Some(patient),
            c.records,
            IRecordRegistry::getRecordCall { record_id: one }.abi_encode(),
        ),
        (
            Some(doctor),
            c.records,
            IRecordRegistry::getRecordCall { record_id: one }.abi_encode(),
        ),
        (
            None,
            c.records,
            IRecordRegistry::recordOwnerCall { record_id: one }.abi_encode(),
        ),
        (
            None,
            c.records,
            IRecordRegistry::recordCategoryCall { record_id: one }.abi_encode(),
        ),
        (
            None,
            c.records,
            IRecordRegistry::versionCountCall { record_id: one }.abi_encode(),
        ),
        (
            None,
            c.records,
            IRecordRegistry::recordsOfCall { patient }.abi_encode(),
        ),
        (
            None,
            c.records,
            IRecordRegistry::patientRegistryCall {}.abi_encode(),
        ),
        (
            None,
            c.records,
            IRecordRegistry::accessTokenCall {}.abi_encode(),
        ),
    ];
    let p = c.as_(&c.owner);
    let mut before = Vec::new();
    for (from, to, data) in &watched {
        before.push(classify(&p, *from, *to, data, U256::ZERO).await);
    }
    assert_eq!(
        before[0],
        Ok(true.abi_encode().into()),
        "patient registered"
    );
    assert_eq!(
        before[10],
        Ok(true.abi_encode().into()),
        "doctor has access"
    );
    assert!(before[17].is_ok(), "the patient reads the record");

    let constructor = {
        let s = keccak256("stylus_constructor()");
        [s[0], s[1], s[2], s[3]]
    };
    let with_constructor = |s: &[[u8; 4]]| {
        let mut v = s.to_vec();
        v.push(constructor);
        v
    };
    let targets = [
        (
            c.registry,
            with_constructor(IPatientRegistry::IPatientRegistryCalls::SELECTORS),
        ),
        (
            c.token,
            with_constructor(IAccessToken::IAccessTokenCalls::SELECTORS),
        ),
        (
            c.records,
            with_constructor(IRecordRegistry::IRecordRegistryCalls::SELECTORS),
        ),
    ];
    let fuzzer = signer(&dev, 5);
    let fp = c.as_(&fuzzer);
    let known = [
        patient,
        doctor,
        c.owner.address(),
        c.verifier.address(),
        fuzzer.address(),
        c.registry,
        c.token,
        c.records,
        Address::ZERO,
    ];
    let senders = [
        None,
        Some(fuzzer.address()),
        Some(patient),
        Some(doctor),
        Some(c.owner.address()),
    ];
    let mut nonce = fp.get_transaction_count(fuzzer.address()).await.unwrap();
    let head = fp.get_block_number().await.unwrap();

    let mut rng = Rng(seed);
    let (mut calls, mut call_ok_n, mut txs, mut tx_ok_n) = (0usize, 0usize, 0usize, 0usize);
    let started = Instant::now();
    for _ in 0..inputs {
        for (to, selectors) in &targets {
            let data = rng.calldata(selectors, &known);
            // A call from any sender (read only)...
            let from = *rng.pick(&senders);
            call_ok_n += usize::from(classify(&fp, from, *to, &data, U256::ZERO).await.is_ok());
            // Now and then with value, which non-payable methods refuse.
            let value = U256::from(rng.below(8) / 7);
            // ... and the fuzzer's call and transaction, which must agree.
            let predicted = classify(&fp, Some(fuzzer.address()), *to, &data, value).await;
            calls += 2;
            let pending = fp
                .send_transaction(
                    TransactionRequest::default()
                        .with_from(fuzzer.address())
                        .with_to(*to)
                        .with_input(data.clone())
                        .with_value(value)
                        .with_nonce(nonce)
                        .with_gas_limit(3_000_000)
                        .with_max_fee_per_gas(1_000_000_000)
                        .with_max_priority_fee_per_gas(0),
                )
                .await
                .unwrap_or_else(|e| {
                    panic!("tx 0x{} to {to} refused: {e:?}", alloy::hex::encode(&data))
                });
            nonce += 1;
            let receipt = fp
                .get_transaction_receipt(*pending.tx_hash())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("no receipt for 0x{}", alloy::hex::encode(&data)));
            txs += 1;
            tx_ok_n += usize::from(receipt.status());
            assert_eq!(
                receipt.status(),
                predicted.is_ok(),
                "eth_call and the transaction disagree on 0x{} to {to}: {predicted:?}",
                alloy::hex::encode(&data)
            );
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{calls} calls ({call_ok_n} of the unpaired ones succeeded), {txs} transactions \
         ({tx_ok_n} succeeded) in {elapsed:?}"
    );

    // Every transaction was mined, one block each, and the node still answers.
    assert_eq!(fp.get_block_number().await.unwrap(), head + txs as u64);
    let mut after = Vec::new();
    for (from, to, data) in &watched {
        after.push(classify(&p, *from, *to, data, U256::ZERO).await);
    }
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        assert_eq!(b, a, "watched view #{i} changed");
    }
    dev.stop().await;
}
