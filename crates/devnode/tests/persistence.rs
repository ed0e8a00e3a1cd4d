//! `stylus-devnode --data-dir`: the binary is killed with SIGKILL in the middle of
//! a stream of transactions, restarted on the same directory, and must hold every
//! transaction whose receipt came back, in the same block, with the same state.

mod common;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::Encodable2718;
use alloy::network::TransactionBuilder;
use alloy::primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol_types::{SolCall, SolValue};
use careledger_devnode::node::genesis::dev_accounts;
use careledger_devnode::CHAIN_ID;
use common::abi::IPatientRegistry;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `stylus-devnode` process.
struct NodeProcess {
    child: Child,
    url: String,
}

impl NodeProcess {
    /// Starts the binary on a free port (`--addr 127.0.0.1:0`) and waits until it
    /// prints its URL and "listening".
    fn start(data_dir: &Path, log: &Path) -> Self {
        let started = Instant::now();
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_stylus-devnode"))
            .args(["--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start stylus-devnode");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads every line (then keeps draining until the process dies).
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut url = None;
        loop {
            let line = match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => line,
                Err(e) => {
                    let _ = child.kill();
                    panic!(
                        "stylus-devnode did not start ({e}); its log:\n{}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    );
                }
            };
            if let Some(rest) = line.split(" at ").nth(1) {
                url.get_or_insert_with(|| rest.split(' ').next().unwrap().to_owned());
            }
            if line == "listening" {
                break;
            }
        }
        let url = url.expect("the URL line");
        eprintln!("stylus-devnode at {url} after {:?}", started.elapsed());
        Self { child, url }
    }

    /// SIGKILL, as `kill -9`.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn plain(url: &str) -> impl Provider + Clone {
    ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url.parse().unwrap())
}

/// A signed EIP-1559 transaction from `signer`.
fn sign(signer: &PrivateKeySigner, nonce: u64, to: TxKind, value: U256, input: Bytes) -> Bytes {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 1_000_000,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 0,
        to,
        value,
        input,
        ..Default::default()
    };
    let signature = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    envelope.encoded_2718().into()
}

/// A small EVM contract the stream deploys: its runtime code returns its own index.
fn evm_runtime(i: u64) -> Vec<u8> {
    // PUSH8 i PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
    let mut code = vec![0x67];
    code.extend_from_slice(&i.to_be_bytes());
    code.extend_from_slice(&[0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]);
    code
}

/// What the stream sent, and what came back before the kill.
#[derive(Debug, Clone)]
struct Sent {
    raw_hash: B256,
    to: Option<Address>,
    value: U256,
    runtime: Option<Vec<u8>>,
    receipt: Option<TransactionReceipt>,
}

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("{name}-{}-{nanos}", std::process::id()))
}

#[tokio::test(flavor = "multi_thread")]
async fn receipted_transactions_survive_kill_9_and_restart() {
    let root = temp_dir("careledger-persistence");
    let data_dir = root.join("data");
    let log = root.join("devnode.log");
    std::fs::create_dir_all(&root).unwrap();
    let accounts = dev_accounts(9);
    let key = |i: usize| accounts[i].signer.clone();
    let (owner, patient, streamer) = (key(0), key(1), key(4));

    let mut node = NodeProcess::start(&data_dir, &log);

    // Phase 1, quiet: a Stylus program deployed, activated, constructed and used.
    let p = connect(&node.url, owner.clone());
    let registry = deploy_stylus(&p, &wasm("patient-registry"), true).await;
    call_ok(
        &p,
        registry,
        constructor_call(&owner.address().abi_encode()),
    )
    .await;
    let registered = call_ok(
        &connect(&node.url, patient.clone()),
        registry,
        IPatientRegistry::registerPatientCall {
            encryption_key: B256::repeat_byte(1),
        }
        .abi_encode()
        .into(),
    )
    .await;
    let registry_code = p.get_code_at(registry).await.unwrap();
    let is_patient = || {
        TransactionRequest::default().with_to(registry).with_input(
            IPatientRegistry::isPatientCall {
                account: patient.address(),
            }
            .abi_encode(),
        )
    };
    assert_eq!(p.call(is_patient()).await.unwrap(), true.abi_encode());
    let quiet_accounts: Vec<Address> = (0..4).map(|i| key(i).address()).collect();
    let mut quiet_balances = Vec::new();
    for a in &quiet_accounts {
        quiet_balances.push(p.get_balance(*a).await.unwrap());
    }
    let streamer_start = p.get_balance(streamer.address()).await.unwrap();
    assert_eq!(
        p.get_transaction_count(streamer.address()).await.unwrap(),
        0
    );

    // Phase 2: a stream of transfers to fresh addresses and EVM deployments, each
    // receipt recorded as it comes back, killed in the middle.
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let stream = {
        let sent = sent.clone();
        let url = node.url.clone();
        let streamer = streamer.clone();
        tokio::spawn(async move {
            let p = plain(&url);
            for i in 0u64.. {
                let (to, value, input, runtime) = if i % 10 == 9 {
                    let runtime = evm_runtime(i);
                    (
                        TxKind::Create,
                        U256::ZERO,
                        init_code_for(&runtime),
                        Some(runtime),
                    )
                } else {
                    let to = Address::from_slice(&keccak256(i.to_be_bytes())[12..]);
                    (TxKind::Call(to), U256::from(1_000 + i), Bytes::new(), None)
                };
                let raw = sign(&streamer, i, to, value, input);
                let entry = Sent {
                    raw_hash: keccak256(&raw),
                    to: to.to().copied(),
                    value,
                    runtime,
                    receipt: None,
                };
                sent.lock().unwrap().push(entry);
                let Ok(pending) = p.send_raw_transaction(&raw).await else {
                    break;
                };
                let Ok(Some(receipt)) = p.get_transaction_receipt(*pending.tx_hash()).await else {
                    break;
                };
                sent.lock().unwrap()[i as usize].receipt = Some(receipt);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let receipted = sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.receipt.is_some())
            .count();
        if receipted >= 60 {
            break;
        }
        assert!(Instant::now() < deadline, "the stream is too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    node.kill();
    tokio::time::timeout(Duration::from_secs(30), stream)
        .await
        .expect("the stream stops once the node is gone")
        .unwrap();
    let sent = sent.lock().unwrap().clone();
    let receipted: Vec<&Sent> = sent.iter().filter(|s| s.receipt.is_some()).collect();
    assert!(receipted.len() >= 60);
    assert!(
        sent.len() > receipted.len(),
        "the stream was cut by the kill"
    );
    eprintln!(
        "sent {} transactions, {} receipted before kill -9",
        sent.len(),
        receipted.len()
    );

    // Restart on the same directory.
    let restarted_at = Instant::now();
    let node2 = NodeProcess::start(&data_dir, &log);
    eprintln!("restart (replay) took {:?}", restarted_at.elapsed());
    let p = connect(&node2.url, owner.clone());
    assert_eq!(p.get_chain_id().await.unwrap(), CHAIN_ID);

    // Every receipted transaction: same block, same hash, same outcome.
    let mut highest = registered.block_number.unwrap();
    for s in &receipted {
        let before = s.receipt.as_ref().unwrap();
        let after = p
            .get_transaction_receipt(before.transaction_hash)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("receipted {} lost", before.transaction_hash));
        assert_eq!(after.block_number, before.block_number);
        assert_eq!(after.block_hash, before.block_hash);
        assert_eq!(after.transaction_index, before.transaction_index);
        assert_eq!(after.status(), before.status());
        assert_eq!(after.gas_used, before.gas_used);
        assert_eq!(after.contract_address, before.contract_address);
        highest = highest.max(before.block_number.unwrap());
    }
    let again = p
        .get_transaction_receipt(registered.transaction_hash)
        .await
        .unwrap()
        .expect("phase-1 receipt");
    assert_eq!(
        (again.block_number, again.block_hash),
        (registered.block_number, registered.block_hash)
    );
    assert!(p.get_block_number().await.unwrap() >= highest);

    // The state: phase 1 untouched, the Stylus program still active with its storage.
    for (a, b) in quiet_accounts.iter().zip(&quiet_balances) {
        assert_eq!(p.get_balance(*a).await.unwrap(), *b, "balance of {a}");
    }
    assert_eq!(p.get_code_at(registry).await.unwrap(), registry_code);
    assert_eq!(p.call(is_patient()).await.unwrap(), true.abi_encode());
    let arb = ArbWasm::new(ARB_WASM, &p);
    assert!(arb
        .codehashVersion(keccak256(&registry_code))
        .call()
        .await
        .is_ok());

    // Phase 2's state is exactly that of the transactions the chain holds (every
    // receipted one, and perhaps the one in flight at the kill).
    let mut included = 0u64;
    let mut spent = U256::ZERO;
    for s in &sent {
        let Some(r) = p.get_transaction_receipt(s.raw_hash).await.unwrap() else {
            assert!(s.receipt.is_none(), "a receipted transaction is missing");
            continue;
        };
        included += 1;
        spent += s.value + U256::from(r.gas_used) * U256::from(r.effective_gas_price);
        match (&s.to, &s.runtime) {
            (Some(to), _) => assert_eq!(p.get_balance(*to).await.unwrap(), s.value),
            (None, Some(runtime)) => {
                let address = r.contract_address.expect("a deployment");
                assert_eq!(p.get_code_at(address).await.unwrap().as_ref(), &runtime[..]);
            }
            _ => unreachable!(),
        }
    }
    assert!(included >= receipted.len() as u64);
    assert!(included <= receipted.len() as u64 + 1);
    assert_eq!(
        p.get_transaction_count(streamer.address()).await.unwrap(),
        included
    );
    assert_eq!(
        p.get_balance(streamer.address()).await.unwrap(),
        streamer_start - spent
    );

    // And the node goes on: the next transaction is the next block.
    let head = p.get_block_number().await.unwrap();
    let next = send_ok(
        &p,
        TransactionRequest::default()
            .with_to(Address::repeat_byte(0x77))
            .with_value(U256::from(5)),
    )
    .await;
    assert_eq!(next.block_number, Some(head + 1));
    drop(node2);
    drop(node);
    let _ = std::fs::remove_dir_all(&root);
}
