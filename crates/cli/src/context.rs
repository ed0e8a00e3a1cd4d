//! Everything a command needs: the node, who is signing, the deployment, the store.

use crate::abi::{IAccessToken, IPatientRegistry, IRecordRegistry};
use crate::chain::rpc_error;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use careledger_vault::ipfs::{BlockStore, Cid, FsBlockStore, KuboClient};
use careledger_vault::ReaderKeypair;
use std::path::PathBuf;
use zeroize::Zeroizing;

pub struct Ctx {
    pub url: String,
    pub provider: DynProvider,
    pub signer: Option<PrivateKeySigner>,
    pub deployment_path: PathBuf,
    pub store_dir: PathBuf,
    /// The IPFS node records are pushed to and fetched from, if any.
    pub ipfs: Option<KuboClient>,
    /// Progress bars on stderr (off for --json and in the demo's quiet actors).
    pub progress: bool,
    /// The X25519 secret of an account set up in the web app (`--web-key`); without
    /// it the record key is derived from the signing key.
    web_key: Option<Zeroizing<[u8; 32]>>,
}

impl Ctx {
    pub fn new(
        url: &str,
        signer: Option<PrivateKeySigner>,
        deployment_path: PathBuf,
        store_dir: PathBuf,
        ipfs_api: Option<&str>,
        progress: bool,
    ) -> Result<Self> {
        let ipfs = ipfs_api
            .map(KuboClient::new)
            .transpose()
            .map_err(|e| Error::Usage(format!("--ipfs-api: {e}")))?;
        let parsed: alloy::transports::http::reqwest::Url = url
            .parse()
            .map_err(|_| Error::Usage(format!("--rpc-url {url:?} is not a URL")))?;
        match parsed.scheme() {
            "http" => {}
            "https" if cfg!(feature = "tls") => {}
            "https" => {
                return Err(Error::Usage(format!(
                    "--rpc-url {url}: https needs careledger built with `--features tls`"
                )))
            }
            other => {
                return Err(Error::Usage(format!(
                    "--rpc-url {url:?}: {other}:// is not an http(s) JSON-RPC endpoint"
                )))
            }
        }
        let builder = ProviderBuilder::new();
        let provider = match &signer {
            Some(s) => builder
                .wallet(EthereumWallet::from(s.clone()))
                .connect_http(parsed)
                .erased(),
            None => builder.connect_http(parsed).erased(),
        };
        Ok(Self {
            url: url.to_string(),
            provider,
            signer,
            deployment_path,
            store_dir,
            ipfs,
            progress,
            web_key: None,
        })
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

    pub async fn chain_id(&self) -> Result<u64> {
        self.provider
            .get_chain_id()
            .await
            .map_err(|e| rpc_error(&self.url, e))
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

    pub fn store(&self) -> Result<FsBlockStore> {
        Ok(FsBlockStore::open(&self.store_dir)?)
    }

    pub fn registry(
        &self,
        d: &Deployment,
    ) -> IPatientRegistry::IPatientRegistryInstance<&DynProvider> {
        IPatientRegistry::new(d.patient_registry, &self.provider)
    }

    pub fn token(&self, d: &Deployment) -> IAccessToken::IAccessTokenInstance<&DynProvider> {
        IAccessToken::new(d.access_token, &self.provider)
    }

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
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| rpc_error(&self.url, e))?
            .ok_or_else(|| Error::Rpc("the node has no latest block".into()))?;
        Ok(block.header.timestamp)
    }
}
