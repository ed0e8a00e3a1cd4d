//! `stylus-devnode --data-dir`: the binary is killed with SIGKILL in the middle of
//! a stream of transactions, restarted on the same directory, and must hold every
//! transaction whose receipt came back, in the same block, with the same state.
//! Then (`data_dir`, in-process): a damaged `blocks.log` refuses to start and is
//! left as it is, unless only a torn final record or bytes after it are damaged;
//! a log missing beside a snapshot refuses; snapshots restore the same chain as a
//! full replay, and a corrupt one loses nothing.

use crate::common;

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

// --- The data dir's files: damage, a missing log, snapshots -------------------------
//
// These run a `Node` in-process on a temporary data dir, through the `Backend` the
// JSON-RPC server calls, and restart it by dropping it and opening the dir again.

mod data_dir {
    use super::common::{ether, stylus_init_code, ArbWasm, ARB_WASM};
    use super::temp_dir;
    use alloy::network::TransactionBuilder;
    use alloy::primitives::{Address, Bytes, B256, U256};
    use alloy::rpc::types::{BlockId, TransactionReceipt, TransactionRequest};
    use alloy::sol_types::SolCall;
    use careledger_devnode::node::{NodeError, Restored};
    use careledger_devnode::rpc::Backend;
    use careledger_devnode::{Node, NodeConfig};
    use std::path::{Path, PathBuf};

    const LOG: &str = "blocks.log";
    const SNAPSHOT: &str = "snapshot.bin";
    const LOCK_FILE: &str = "LOCK";
    /// CLB2 record header: magic, body length, body check, header check.
    const HEADER: usize = 16;

    /// A program that stores its 32-byte argument in slot 0, and returns slot 0
    /// when called without one.
    const STORE_PROGRAM: &str = r#"(module
        (import "vm_hooks" "read_args" (func $read_args (param i32)))
        (import "vm_hooks" "write_result" (func $write_result (param i32 i32)))
        (import "vm_hooks" "storage_load_bytes32" (func $load (param i32 i32)))
        (import "vm_hooks" "storage_cache_bytes32" (func $cache (param i32 i32)))
        (import "vm_hooks" "storage_flush_cache" (func $flush (param i32)))
        (memory (export "memory") 1 1)
        (func (export "user_entrypoint") (param $len i32) (result i32)
            (call $read_args (i32.const 32))
            (if (i32.eq (local.get $len) (i32.const 32))
                (then
                    (call $cache (i32.const 0) (i32.const 32))
                    (call $flush (i32.const 0)))
                (else
                    (call $load (i32.const 0) (i32.const 64))
                    (call $write_result (i32.const 64) (i32.const 32))))
            i32.const 0))"#;

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            Self(temp_dir(name))
        }

        fn log(&self) -> PathBuf {
            self.0.join(LOG)
        }

        fn snapshot(&self) -> PathBuf {
            self.0.join(SNAPSHOT)
        }

        /// File names and contents, to prove a refusal changed nothing.
        /// Every file but the (empty) lock file, with its bytes.
        fn contents(&self) -> Vec<(String, Vec<u8>)> {
            let mut files: Vec<_> = std::fs::read_dir(&self.0)
                .unwrap()
                .filter(|e| e.as_ref().unwrap().file_name() != LOCK_FILE)
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            files.sort();
            files
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open(dir: &Path, snapshot_every: u64) -> Result<Node, NodeError> {
        Node::new(NodeConfig {
            data_dir: Some(dir.to_owned()),
            snapshot_every,
            ..NodeConfig::default()
        })
    }

    fn send(node: &Node, request: TransactionRequest) -> TransactionReceipt {
        let hash = node
            .send_transaction(request.with_gas_limit(5_000_000))
            .unwrap();
        let receipt = node.transaction_receipt(hash).expect("mined at once");
        assert!(receipt.status(), "{receipt:?}");
        receipt
    }

    /// What must survive a restart.
    #[derive(Debug, PartialEq, Eq)]
    struct Seen {
        number: u64,
        head: B256,
        state: B256,
    }

    fn seen(node: &Node) -> Seen {
        let head = node.block(BlockId::latest(), false).unwrap();
        Seen {
            number: head.header.number,
            head: head.header.hash,
            state: node.state_digest(),
        }
    }

    /// Deploys and activates the store program and stores `value` in it.
    fn deploy_program(node: &Node, value: B256) -> Address {
        let wasm = wat::parse_str(STORE_PROGRAM).unwrap();
        let program = send(
            node,
            TransactionRequest::default().with_deploy_code(stylus_init_code(&wasm)),
        )
        .contract_address
        .unwrap();
        send(
            node,
            TransactionRequest::default()
                .with_to(ARB_WASM)
                .with_input(ArbWasm::activateProgramCall { program }.abi_encode())
                .with_value(ether(1)),
        );
        store(node, program, value);
        program
    }

    fn store(node: &Node, program: Address, value: B256) {
        send(
            node,
            TransactionRequest::default()
                .with_to(program)
                .with_input(Bytes::copy_from_slice(value.as_slice())),
        );
    }

    /// What the program holds, through eth_call (runs the WASM).
    fn stored(node: &Node, program: Address) -> B256 {
        let out = node
            .call(
                TransactionRequest::default().with_to(program),
                BlockId::latest(),
                None,
            )
            .unwrap();
        B256::from_slice(&out)
    }

    /// `n` blocks: transfers to fresh addresses, with an empty block now and then.
    fn transfers(node: &Node, from: u64, n: u64) {
        for i in from..from + n {
            if i % 3 == 2 {
                node.mine(None).unwrap();
            } else {
                let to = Address::left_padding_from(&(0x1000 + i).to_be_bytes());
                send(
                    node,
                    TransactionRequest::default()
                        .with_to(to)
                        .with_value(U256::from(i + 1)),
                );
            }
        }
    }

    /// A chain of about ten blocks with a Stylus program in it; no snapshot.
    fn small_chain(dir: &Dir) -> Seen {
        let node = open(&dir.0, 0).unwrap();
        transfers(&node, 0, 4);
        deploy_program(&node, B256::repeat_byte(7));
        transfers(&node, 4, 3);
        seen(&node)
    }

    /// Where each record of a CLB2 log starts.
    fn record_offsets(log: &[u8]) -> Vec<usize> {
        let mut at = 0;
        let mut offsets = Vec::new();
        while at < log.len() {
            assert_eq!(&log[at..at + 4], b"CLB2");
            offsets.push(at);
            at += HEADER + u32::from_be_bytes(log[at + 4..at + 8].try_into().unwrap()) as usize;
        }
        offsets
    }

    /// Flips one bit of the log at `byte`, checks that the node refuses to start
    /// naming the file and `record`'s offset and leaves every file as it was, then
    /// flips the bit back.
    fn refuses_after_flipping(dir: &Dir, byte: usize, record: usize) {
        let intact = std::fs::read(dir.log()).unwrap();
        let mut bytes = intact.clone();
        bytes[byte] ^= 0x10;
        std::fs::write(dir.log(), &bytes).unwrap();
        let before = dir.contents();
        let err = open(&dir.0, 0)
            .err()
            .expect("must refuse to start")
            .to_string();
        assert!(
            err.contains(&dir.log().display().to_string()),
            "names the file: {err}"
        );
        assert!(
            err.contains(&format!("damaged at byte {record}:")),
            "names the offset {record}: {err}"
        );
        assert_eq!(dir.contents(), before, "the data dir was changed");
        std::fs::write(dir.log(), &intact).unwrap();
    }

    #[test]
    fn a_flipped_bit_in_the_first_record_refuses_to_start_and_leaves_the_file() {
        let dir = Dir::new("careledger-flip-first");
        let before = small_chain(&dir);
        // A bit of the first record's body, of its length field, of its magic.
        for byte in [HEADER + 10, 6, 1] {
            refuses_after_flipping(&dir, byte, 0);
        }
        // Flipped back, the log is whole again.
        assert_eq!(seen(&open(&dir.0, 0).unwrap()), before);
    }

    #[test]
    fn a_flipped_bit_in_a_middle_record_refuses_to_start_and_leaves_the_file() {
        let dir = Dir::new("careledger-flip-middle");
        small_chain(&dir);
        let offsets = record_offsets(&std::fs::read(dir.log()).unwrap());
        let middle = offsets[offsets.len() / 2];
        refuses_after_flipping(&dir, middle + HEADER + 9, middle);
    }

    #[test]
    fn a_flipped_bit_in_the_last_record_refuses_to_start_too() {
        // Complete, so its receipt may have been given: not a torn record.
        let dir = Dir::new("careledger-flip-last");
        small_chain(&dir);
        let offsets = record_offsets(&std::fs::read(dir.log()).unwrap());
        let last = *offsets.last().unwrap();
        // Its body, its length field, its header check.
        for byte in [last + HEADER + 3, last + 5, last + 13] {
            refuses_after_flipping(&dir, byte, last);
        }
    }

    #[test]
    fn a_torn_final_record_is_cut_off_and_the_rest_kept() {
        let dir = Dir::new("careledger-torn");
        let before = small_chain(&dir);
        let bytes = std::fs::read(dir.log()).unwrap();
        let last = *record_offsets(&bytes).last().unwrap();
        // The crash came while the last block was being appended.
        for torn_at in [last + 3, last + HEADER + 5] {
            std::fs::write(dir.log(), &bytes[..torn_at]).unwrap();
            let node = open(&dir.0, 0).unwrap();
            assert_eq!(node.block_number(), before.number - 1);
            assert_eq!(std::fs::read(dir.log()).unwrap(), &bytes[..last]);
        }
    }

    #[test]
    fn garbage_after_the_last_record_is_cut_off() {
        let dir = Dir::new("careledger-garbage");
        let before = small_chain(&dir);
        let mut bytes = std::fs::read(dir.log()).unwrap();
        let len = bytes.len();
        bytes.extend_from_slice(&[0; 4096]); // a power cut after the size grew
        std::fs::write(dir.log(), &bytes).unwrap();
        assert_eq!(seen(&open(&dir.0, 0).unwrap()), before);
        assert_eq!(std::fs::read(dir.log()).unwrap().len(), len);
        bytes.truncate(len);
        bytes.extend_from_slice(b"not a record, and not shaped like one either");
        std::fs::write(dir.log(), &bytes).unwrap();
        assert_eq!(seen(&open(&dir.0, 0).unwrap()), before);
        assert_eq!(std::fs::read(dir.log()).unwrap().len(), len);
    }

    #[test]
    fn a_deleted_block_log_beside_a_snapshot_refuses_to_start() {
        let dir = Dir::new("careledger-no-log");
        let node = open(&dir.0, 0).unwrap();
        transfers(&node, 0, 3);
        node.write_snapshot().unwrap();
        drop(node);
        std::fs::remove_file(dir.log()).unwrap();
        let before = dir.contents();
        let err = open(&dir.0, 0).err().expect("must refuse").to_string();
        assert!(
            err.contains("blocks.log is missing beside snapshot.bin"),
            "{err}"
        );
        assert!(err.contains(&dir.0.display().to_string()), "{err}");
        assert_eq!(dir.contents(), before);
    }

    #[test]
    fn an_empty_or_new_data_dir_starts_a_new_chain() {
        let dir = Dir::new("careledger-new");
        std::fs::create_dir_all(&dir.0).unwrap();
        let node = open(&dir.0, 0).unwrap();
        assert_eq!(node.block_number(), 0);
        assert_eq!(dir.contents(), vec![(LOG.to_owned(), vec![])]);
        drop(node);
        let inner = Dir(dir.0.join("a/b"));
        assert_eq!(open(&inner.0, 0).unwrap().block_number(), 0);
    }

    #[test]
    fn a_second_node_on_the_same_data_dir_is_refused_while_the_first_runs() {
        let dir = Dir::new("careledger-locked");
        let first = open(&dir.0, 0).unwrap();
        transfers(&first, 0, 2);
        let before = dir.contents();
        let err = open(&dir.0, 0).err().expect("must refuse").to_string();
        assert!(err.contains("another node is running"), "{err}");
        assert_eq!(dir.contents(), before);
        drop(first);
        assert_eq!(open(&dir.0, 0).unwrap().block_number(), 2);
    }

    #[test]
    fn a_log_shorter_than_its_snapshot_refuses_to_start() {
        let dir = Dir::new("careledger-short-log");
        let node = open(&dir.0, 0).unwrap();
        transfers(&node, 0, 5);
        node.write_snapshot().unwrap();
        drop(node);
        // Cut at a record boundary: a log that lost its last two blocks.
        let bytes = std::fs::read(dir.log()).unwrap();
        let offsets = record_offsets(&bytes);
        std::fs::write(dir.log(), &bytes[..offsets[3]]).unwrap();
        let before = dir.contents();
        let err = open(&dir.0, 0).err().expect("must refuse").to_string();
        assert!(err.contains("covers 5 blocks"), "{err}");
        assert!(err.contains("holds only 3"), "{err}");
        assert_eq!(dir.contents(), before);
    }

    #[test]
    fn a_restart_from_a_snapshot_and_the_log_tail_gives_the_same_chain() {
        let dir = Dir::new("careledger-snapshot-tail");
        let node = open(&dir.0, 0).unwrap();
        transfers(&node, 0, 3);
        let program = deploy_program(&node, B256::repeat_byte(1));
        let early = send(
            &node,
            TransactionRequest::default()
                .with_to(Address::repeat_byte(0x55))
                .with_value(U256::from(3)),
        );
        node.write_snapshot().unwrap();
        let at_snapshot = node.block_number();
        // The tail: more blocks after the snapshot, then a crash (no snapshot).
        transfers(&node, 3, 4);
        store(&node, program, B256::repeat_byte(2));
        let late = send(
            &node,
            TransactionRequest::default()
                .with_to(Address::repeat_byte(0x66))
                .with_value(U256::from(4)),
        );
        let before = seen(&node);
        drop(node);

        // The same dir without its snapshot: a full replay, for comparison.
        let full = Dir::new("careledger-snapshot-full");
        std::fs::create_dir_all(&full.0).unwrap();
        std::fs::copy(dir.log(), full.log()).unwrap();

        let node = open(&dir.0, 0).unwrap();
        assert_eq!(
            node.restored(),
            Some(Restored {
                snapshot_block: Some(at_snapshot),
                replayed: before.number - at_snapshot,
            })
        );
        let replayed = open(&full.0, 0).unwrap();
        assert_eq!(replayed.restored().unwrap().snapshot_block, None);
        assert_eq!(seen(&node), before);
        assert_eq!(seen(&replayed), before);
        for receipt in [&early, &late] {
            let again = node.transaction_receipt(receipt.transaction_hash).unwrap();
            assert_eq!(again.block_hash, receipt.block_hash);
            assert_eq!(again.gas_used, receipt.gas_used);
            assert_eq!(
                again.inner.logs().len(),
                receipt.inner.logs().len(),
                "{again:?}"
            );
        }
        // The Stylus program runs after the restart: read, write, read.
        assert_eq!(stored(&node, program), B256::repeat_byte(2));
        store(&node, program, B256::repeat_byte(3));
        assert_eq!(stored(&node, program), B256::repeat_byte(3));
        assert_eq!(
            node.balance(Address::repeat_byte(0x66), BlockId::latest())
                .unwrap(),
            U256::from(4)
        );
    }

    #[test]
    fn a_corrupt_snapshot_loses_no_data() {
        let dir = Dir::new("careledger-corrupt-snapshot");
        let node = open(&dir.0, 0).unwrap();
        transfers(&node, 0, 3);
        let program = deploy_program(&node, B256::repeat_byte(9));
        node.write_snapshot().unwrap();
        transfers(&node, 3, 2);
        let before = seen(&node);
        drop(node);
        let mut snapshot = std::fs::read(dir.snapshot()).unwrap();
        let middle = snapshot.len() / 2;
        snapshot[middle] ^= 1;
        std::fs::write(dir.snapshot(), &snapshot).unwrap();

        // (Snapshots every 4 blocks: the full replay is longer, so the start writes one.)
        let node = open(&dir.0, 4).unwrap();
        assert_eq!(node.restored().unwrap().snapshot_block, None);
        assert_eq!(seen(&node), before);
        assert_eq!(stored(&node, program), B256::repeat_byte(9));
        // Kept aside for inspection, not deleted.
        assert_eq!(
            std::fs::read(dir.0.join("snapshot.bin.corrupt")).unwrap(),
            snapshot
        );
        drop(node);
        // The start after the full replay wrote a fresh snapshot.
        let node = open(&dir.0, 4).unwrap();
        assert_eq!(
            node.restored().unwrap(),
            Restored {
                snapshot_block: Some(before.number),
                replayed: 0,
            }
        );
        assert_eq!(seen(&node), before);
    }

    #[test]
    fn snapshots_are_written_every_n_blocks_and_at_a_clean_stop() {
        let dir = Dir::new("careledger-snapshot-every");
        let node = open(&dir.0, 4).unwrap();
        transfers(&node, 0, 10);
        drop(node);
        let node = open(&dir.0, 4).unwrap();
        let restored = node.restored().unwrap();
        let block = restored.snapshot_block.expect("a periodic snapshot");
        assert!(block.is_multiple_of(4) && block >= 4, "{restored:?}");
        assert_eq!(block + restored.replayed, 10);
        let before = seen(&node);
        node.write_snapshot().unwrap();
        drop(node);
        let node = open(&dir.0, 4).unwrap();
        assert_eq!(
            node.restored().unwrap(),
            Restored {
                snapshot_block: Some(10),
                replayed: 0,
            }
        );
        assert_eq!(seen(&node), before);
    }
}
