//! The chain under test: an in-process devnode with a data dir, or any Stylus chain
//! named by `STYLUS_RPC_URL` with a funded key in `STYLUS_PRIVATE_KEY`.
//!
//! Everything chain-specific lives here, so that a scenario reads the same on both:
//! accounts are fresh keys funded by the funder, and [`Net::advance`] moves the
//! chain's clock with `evm_increaseTime` where the node has it and waits where not.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use careledger_devnode::node::NodeConfig;
use careledger_devnode::rpc::RpcConfig;
use careledger_devnode::{Devnode, SpawnedDevnode};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// A test account: its key (hex, for `CARELEDGER_PRIVATE_KEY`) and address.
#[derive(Clone)]
pub struct Account {
    /// The private key, 0x-prefixed hex.
    pub key: String,
    /// The address of the key.
    pub address: Address,
}

impl Account {
    /// The address, checksummed (as the CLI takes it).
    pub fn addr(&self) -> String {
        self.address.to_string()
    }
}

/// Where the chain runs.
enum Backing {
    /// A devnode on its own thread, stopped when the `Net` drops (before its data
    /// dir goes: fields drop in order).
    Devnode {
        _dev: SpawnedDevnode,
        data_dir: tempfile::TempDir,
    },
    /// A chain someone else runs.
    External,
}

/// The chain the tests run on, and its funder.
pub struct Net {
    /// HTTP JSON-RPC endpoint.
    pub url: String,
    /// WebSocket endpoint for the notifier (empty: it polls).
    pub ws_url: String,
    /// The chain's id, as `eth_chainId` answers.
    pub chain_id: u64,
    funder: PrivateKeySigner,
    /// One funding transfer at a time: the funder's nonce is shared by the tests
    /// of a binary, which run on parallel threads.
    funding: Mutex<()>,
    backing: Backing,
}

/// Ether each fresh account receives (deployers get ten times as much).
pub const FUNDING_WEI: u128 = 50_000_000_000_000_000; // 0.05 ETH

impl Net {
    /// The chain the environment names, else a new devnode.
    pub fn start() -> Self {
        match std::env::var("STYLUS_RPC_URL") {
            Ok(url) if !url.trim().is_empty() => Self::external(url.trim()),
            _ => Self::devnode(),
        }
    }

    /// Whether tests run against an external chain (`STYLUS_RPC_URL`).
    pub fn is_external(&self) -> bool {
        matches!(self.backing, Backing::External)
    }

    fn external(url: &str) -> Self {
        let key = std::env::var("STYLUS_PRIVATE_KEY")
            .expect("STYLUS_RPC_URL is set: STYLUS_PRIVATE_KEY must hold a funded key");
        let funder: PrivateKeySigner = key.trim().parse().expect("STYLUS_PRIVATE_KEY is a key");
        let mut net = Self {
            url: url.to_string(),
            ws_url: std::env::var("STYLUS_WS_URL").unwrap_or_default(),
            chain_id: 0,
            funder,
            funding: Mutex::new(()),
            backing: Backing::External,
        };
        net.chain_id = net.block_on(async {
            let p = ProviderBuilder::new().connect_http(url.parse().expect("a URL"));
            p.get_chain_id()
                .await
                .expect("STYLUS_RPC_URL answers eth_chainId")
        });
        net
    }

    fn devnode() -> Self {
        let data_dir = tempfile::tempdir().expect("a temp dir");
        let config = NodeConfig {
            data_dir: Some(data_dir.path().to_path_buf()),
            ..NodeConfig::default()
        };
        let rpc = RpcConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..RpcConfig::default()
        };
        let dev = Devnode::spawn(config, rpc).expect("devnode starts");
        Self {
            url: dev.url().to_string(),
            ws_url: dev.ws_url().to_string(),
            chain_id: dev.chain_id(),
            funder: dev.accounts()[0].signer.clone(),
            funding: Mutex::new(()),
            backing: Backing::Devnode {
                _dev: dev,
                data_dir,
            },
        }
    }

    /// The devnode's data dir (its block log), if the chain is ours.
    pub fn data_dir(&self) -> Option<&Path> {
        match &self.backing {
            Backing::Devnode { data_dir, .. } => Some(data_dir.path()),
            Backing::External => None,
        }
    }

    /// Runs a future on a runtime of its own (the harness is synchronous).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    }

    /// A fresh key holding `FUNDING_WEI` (ten times that with `rich`).
    pub fn account(&self, rich: bool) -> Account {
        let signer = PrivateKeySigner::random();
        let wei = if rich { FUNDING_WEI * 10 } else { FUNDING_WEI };
        self.send_value(signer.address(), U256::from(wei));
        Account {
            key: format!("0x{}", alloy::hex::encode(signer.to_bytes())),
            address: signer.address(),
        }
    }

    fn send_value(&self, to: Address, wei: U256) {
        let tx = TransactionRequest::default().with_to(to).with_value(wei);
        if let Err(e) = self.send_from_funder(vec![tx]) {
            panic!("the funder's transfer to {to}: {e}");
        }
    }

    /// Sends `txs` from the funder, one after another, each mined before the next.
    fn send_from_funder(&self, txs: Vec<TransactionRequest>) -> Result<(), String> {
        let _one_at_a_time = self.funding.lock().unwrap_or_else(|e| e.into_inner());
        let p = ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.funder.clone()))
            .connect_http(self.url.parse().expect("a URL"));
        self.block_on(async move {
            for tx in txs {
                let receipt = p
                    .send_transaction(tx)
                    .await
                    .map_err(|e| format!("refused: {e}"))?
                    .get_receipt()
                    .await
                    .map_err(|e| format!("not mined: {e}"))?;
                if !receipt.status() {
                    return Err(format!("reverted in {}", receipt.transaction_hash));
                }
            }
            Ok(())
        })
    }

    /// Puts the programs at `addresses` in ArbOS's cache (ArbWasmCache.cacheProgram
    /// from the funder, which must be the chain owner, as a devnode's dev account
    /// is). False if the chain refused.
    pub fn cache_programs(&self, addresses: &[Address]) -> bool {
        alloy::sol! {
            function cacheProgram(address addr) external;
        }
        use alloy::sol_types::SolCall;
        let cache: Address = "0x0000000000000000000000000000000000000072"
            .parse()
            .unwrap();
        let txs = addresses
            .iter()
            .map(|addr| {
                TransactionRequest::default()
                    .with_to(cache)
                    .with_input(cacheProgramCall { addr: *addr }.abi_encode())
                    .with_gas_limit(1_000_000)
            })
            .collect();
        self.send_from_funder(txs).is_ok()
    }

    /// Mines a block holding one transaction that touches no contract (nitro mines
    /// on transactions; the devnode too).
    pub fn mine(&self) {
        self.send_value(self.funder.address(), U256::ZERO);
    }

    /// Moves the chain's clock `by` forward and mines a block after it: with
    /// `evm_increaseTime` where the node has it, else by waiting.
    pub fn advance(&self, by: Duration) {
        let moved = self.try_rpc("evm_increaseTime", serde_json::json!([by.as_secs()]));
        if moved.is_err() {
            std::thread::sleep(by + Duration::from_secs(1));
        }
        self.mine();
    }

    /// A JSON-RPC call; panics on an error answer.
    pub fn rpc(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.try_rpc(method, params.clone())
            .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
    }

    /// A JSON-RPC call: the result, or the error object as text.
    pub fn try_rpc(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        crate::http::json_rpc(&self.url, method, params)
    }

    /// The head block number.
    pub fn head(&self) -> u64 {
        let n = self.rpc("eth_blockNumber", serde_json::json!([]));
        u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }
}

/// The repository's root (for target/contracts and target/forge).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
