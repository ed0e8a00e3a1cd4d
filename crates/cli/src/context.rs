//! Everything a command needs: the node, who is signing, the deployment, the store.

use crate::abi::{IAccessToken, IPatientRegistry, IRecordRegistry};
use crate::chain::{call_error, rpc_error};
use crate::cli::RpcUrl;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::{RpcError, TransportErrorKind};
use careledger_vault::ipfs::{BlockStore, Cid, FsBlockStore, KuboClient};
use careledger_vault::ReaderKeypair;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long a network peer (the chain's node, an IPFS node, a pinning service,
/// a notifier) may take to connect or to answer, unless `--timeout` says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the global options set up once, handed to every command; other crates'
/// tests build one per account to drive the commands in-process.
pub struct Ctx {
    /// The JSON-RPC endpoint as given, which messages name.
    pub url: String,
    endpoint: RpcUrl,
    /// The node, with the signer's wallet when there is one.
    pub provider: DynProvider,
    /// The signing account's key; `None` for read-only use.
    pub signer: Option<PrivateKeySigner>,
    /// The deployment file (`--deployment`): `deploy` writes it, the other commands read it.
    pub deployment_path: PathBuf,
    /// The embedded block store's directory (`--store`).
    pub store_dir: PathBuf,
    /// The IPFS node records are pushed to and fetched from, if any.
    pub ipfs: Option<KuboClient>,
    /// How long any network peer may take to connect or to answer (`--timeout`).
    pub timeout: Duration,
    /// Progress bars on stderr (off for --json and in the demo's quiet actors).
    pub progress: bool,
    /// The X25519 secret of an account set up in the web app (`--web-key`); without
    /// it the record key is derived from the signing key.
    web_key: Option<Zeroizing<[u8; 32]>>,
}

impl Ctx {
    /// A context with the default timeout; nothing is contacted until a command runs.
    pub fn new(
        rpc: &RpcUrl,
        signer: Option<PrivateKeySigner>,
        deployment_path: PathBuf,
        store_dir: PathBuf,
        ipfs: Option<KuboClient>,
        progress: bool,
    ) -> Result<Self> {
        let ipfs = ipfs.map(|node| held_to(node, DEFAULT_TIMEOUT));
        let provider = connect(rpc, signer.as_ref(), DEFAULT_TIMEOUT)?;
        Ok(Self {
            url: rpc.as_str().to_string(),
            endpoint: rpc.clone(),
            provider,
            signer,
            deployment_path,
            store_dir,
            ipfs,
            timeout: DEFAULT_TIMEOUT,
            progress,
            web_key: None,
        })
    }

    /// The same context giving every network peer `timeout` to connect and to
    /// answer each request (IPFS transfers may run longer, as long as the node
    /// never stays silent that long).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.provider = connect(&self.endpoint, self.signer.as_ref(), timeout)?;
        self.ipfs = self.ipfs.map(|node| held_to(node, timeout));
        self.timeout = timeout;
        Ok(self)
    }

    /// Reads and wraps record keys with `secret` (from a web key file) instead of
    /// the key derived from the signing key.
    pub fn with_web_key(mut self, secret: Zeroizing<[u8; 32]>) -> Self {
        self.web_key = Some(secret);
        self
    }

    /// The signing account; commands that send transactions need one.
    pub fn me(&self) -> Result<Address> {
        self.signer
            .as_ref()
            .map(|s| s.address())
            .ok_or(Error::NoKey)
    }

    /// The account's X25519 record key: the web key if one was given, else the
    /// one derived from the signing key.
    pub fn reader_key(&self) -> Result<ReaderKeypair> {
        if let Some(secret) = &self.web_key {
            return Ok(ReaderKeypair::from_secret(secret)?);
        }
        self.signer
            .as_ref()
            .map(crate::keystore::reader_key)
            .ok_or(Error::NoKey)
    }

    /// The node's chain id.
    pub async fn chain_id(&self) -> Result<u64> {
        self.rpc(self.provider.get_chain_id()).await
    }

    /// Calls a contract's view (`ctx.view(ctx.registry(&d).isPatient(me))`): its
    /// result, or the revert by its custom error, or the node's failure, in words.
    pub async fn view<P: Provider, D: CallDecoder>(
        &self,
        call: CallBuilder<P, D>,
    ) -> Result<D::CallOutput> {
        call.call().await.map_err(|e| self.call_error(e))
    }

    /// A failed contract call in words, for callers that look at the error first
    /// (a revert that means "none", not a failure).
    pub fn call_error(&self, e: alloy::contract::Error) -> Error {
        call_error(&self.url, e)
    }

    /// Sends one JSON-RPC request to the node (`ctx.rpc(ctx.provider.get_block_number())`);
    /// its failure in words.
    pub async fn rpc<T>(
        &self,
        request: impl std::future::IntoFuture<Output = Result<T, RpcError<TransportErrorKind>>>,
    ) -> Result<T> {
        request.await.map_err(|e| rpc_error(&self.url, e))
    }

    /// The deployment, checked against the node's chain id.
    pub async fn deployment(&self) -> Result<Deployment> {
        let d = Deployment::load(&self.deployment_path)?;
        let node = self.chain_id().await?;
        if node != d.chain_id {
            return Err(Error::WrongChain {
                file: d.chain_id,
                node,
            });
        }
        Ok(d)
    }

    /// The embedded block store; its directory appears with the first block stored.
    pub fn store(&self) -> Result<FsBlockStore> {
        Ok(FsBlockStore::open(&self.store_dir)?)
    }

    /// The patient registry of deployment `d`, on this context's provider.
    pub fn registry(
        &self,
        d: &Deployment,
    ) -> IPatientRegistry::IPatientRegistryInstance<&DynProvider> {
        IPatientRegistry::new(d.patient_registry, &self.provider)
    }

    /// The access token contract of deployment `d`, on this context's provider.
    pub fn token(&self, d: &Deployment) -> IAccessToken::IAccessTokenInstance<&DynProvider> {
        IAccessToken::new(d.access_token, &self.provider)
    }

    /// The record registry of deployment `d`, on this context's provider.
    pub fn records(
        &self,
        d: &Deployment,
    ) -> IRecordRegistry::IRecordRegistryInstance<&DynProvider> {
        IRecordRegistry::new(d.record_registry, &self.provider)
    }

    /// Sends the DAG under `cid` from the local store to the IPFS node (if one is
    /// configured) and checks the root it reports, before the chain points at it.
    pub fn publish(&self, cid: &Cid) -> Result<()> {
        if let Some(node) = &self.ipfs {
            let store = self.store()?;
            tokio::task::block_in_place(|| node.push(cid, &store))?;
        }
        Ok(())
    }

    /// Makes sure the DAG under `cid` is in the local store, fetching it from the
    /// IPFS node as a CAR (each block checked) when its root is not, or always
    /// with `again` (a block below the root was found missing).
    pub fn fetch(&self, cid: &Cid, again: bool) -> Result<()> {
        let mut store = self.store()?;
        if let Some(node) = &self.ipfs {
            if again || store.get(cid).is_err() {
                tokio::task::block_in_place(|| node.export(cid, &mut store))?;
            }
        }
        Ok(())
    }

    /// Sends `call` to `to` from the signing account and waits for success.
    pub async fn transact(
        &self,
        to: Address,
        call: impl alloy::sol_types::SolCall,
    ) -> Result<alloy::rpc::types::TransactionReceipt> {
        crate::chain::send(
            &self.provider,
            &self.url,
            to,
            call.abi_encode().into(),
            alloy::primitives::U256::ZERO,
        )
        .await
    }

    /// The latest block's timestamp: expiries are relative to chain time, not the
    /// local clock (a devnode's clock can be moved).
    pub async fn chain_time(&self) -> Result<u64> {
        let block = self
            .rpc(
                self.provider
                    .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest),
            )
            .await?
            .ok_or_else(|| Error::Rpc("the node has no latest block".into()))?;
        Ok(block.header.timestamp)
    }
}

/// The longest a whole IPFS transfer (a record's DAG pushed or fetched) may take.
const IPFS_TRANSFER: Duration = Duration::from_secs(600);

/// An IPFS node that may stay silent no longer than `timeout`, and may take
/// longer for a whole transfer.
fn held_to(node: KuboClient, timeout: Duration) -> KuboClient {
    node.with_timeout(IPFS_TRANSFER.max(timeout))
        .with_idle_timeout(timeout)
}

/// An HTTP client whose every request must connect, and be answered in full,
/// within `timeout` (`--timeout`): the RPC's and the notifier's. Building it
/// fails only when its TLS backend cannot start: nothing the user typed.
pub(crate) fn http_client(timeout: Duration) -> Result<alloy::transports::http::reqwest::Client> {
    built(
        alloy::transports::http::reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build(),
    )
}

/// A built HTTP client, or why it could not be built.
fn built<C>(client: Result<C, alloy::transports::http::reqwest::Error>) -> Result<C> {
    client.map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// A provider for the JSON-RPC endpoint `rpc`, signing with `signer` if any,
/// whose every request must connect and be answered within `timeout`: a node
/// that accepts the connection and never answers would otherwise hold a command
/// for ever. Requests are short; long waits (for a receipt, for new events) are
/// made of many of them.
fn connect(
    rpc: &RpcUrl,
    signer: Option<&PrivateKeySigner>,
    timeout: Duration,
) -> Result<DynProvider> {
    let client = http_client(timeout)?;
    let builder = ProviderBuilder::new();
    let url = rpc.url().clone();
    Ok(match signer {
        Some(s) => builder
            .wallet(EthereumWallet::from(s.clone()))
            .connect_reqwest(client, url)
            .erased(),
        None => builder.connect_reqwest(client, url).erased(),
    })
}

/// A context for unit tests that must fail before any call to the node: the
/// node is a closed port, the deployment file and store live in `dir`.
#[cfg(test)]
pub(crate) fn offline(dir: &std::path::Path, signer: Option<PrivateKeySigner>) -> Ctx {
    // SAFETY: a constant URL and a fresh directory always make a context.
    Ctx::new(
        &"http://127.0.0.1:1".parse().unwrap(),
        signer,
        dir.join("deployment.json"),
        dir.join("store"),
        None,
        false,
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: a client that cannot be built is the program's failure, not a
    /// usage error. (Building one fails only without a TLS backend; a builder
    /// given an unusable setting stands in for that.)
    #[test]
    fn an_http_client_that_cannot_be_built_is_an_internal_error() {
        let failed = alloy::transports::http::reqwest::Client::builder()
            .user_agent("bad\nvalue")
            .build();
        let e = built(failed).unwrap_err();
        assert!(matches!(e, Error::Internal(_)), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("internal error: cannot build the HTTP client"),
            "{e}"
        );
        assert!(http_client(DEFAULT_TIMEOUT).is_ok());
    }
}
