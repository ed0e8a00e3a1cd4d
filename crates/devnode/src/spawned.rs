//! A devnode on a thread of its own, for synchronous code that talks to it over
//! RPC like to any other node: test harnesses, benchmarks (what alloy's
//! `Anvil::spawn` is for anvil).

use crate::node::genesis::DevAccount;
use crate::node::NodeConfig;
use crate::rpc::RpcConfig;
use crate::{Devnode, DevnodeError};
use std::net::SocketAddr;
use std::thread::JoinHandle;

/// A running devnode owned by its own thread and Tokio runtime; dropping it
/// stops the RPC server and joins the thread.
pub struct SpawnedDevnode {
    url: String,
    ws_url: String,
    chain_id: u64,
    accounts: Vec<DevAccount>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Devnode {
    /// Starts a devnode on a new thread and returns once its RPC server listens.
    ///
    /// # Errors
    /// [`DevnodeError::Runtime`] if the thread's runtime cannot be built, and
    /// whatever [`Devnode::start`] fails with.
    pub fn spawn(config: NodeConfig, rpc: RpcConfig) -> Result<SpawnedDevnode, DevnodeError> {
        let (ready, started) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("devnode".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return drop(ready.send(Err(DevnodeError::Runtime(e)))),
                };
                rt.block_on(async move {
                    let dev = match Devnode::start(config, rpc).await {
                        Ok(dev) => dev,
                        Err(e) => return drop(ready.send(Err(e))),
                    };
                    let info = (
                        dev.url(),
                        dev.ws_url(),
                        dev.node.config().chain_id,
                        dev.node.accounts().to_vec(),
                    );
                    if ready.send(Ok(info)).is_ok() {
                        // A dropped sender (the SpawnedDevnode gone) stops it too.
                        let _ = stopped.await;
                    }
                    dev.stop().await;
                });
            })
            .map_err(DevnodeError::Runtime)?;
        let started = started.recv().unwrap_or_else(|_| {
            Err(DevnodeError::Runtime(std::io::Error::other(
                "the devnode's thread ended before it started",
            )))
        });
        let (url, ws_url, chain_id, accounts) = match started {
            Ok(info) => info,
            Err(e) => {
                let _ = thread.join();
                return Err(e);
            }
        };
        Ok(SpawnedDevnode {
            url,
            ws_url,
            chain_id,
            accounts,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// [`Devnode::spawn`] of an in-memory chain on a free loopback port.
    pub fn spawn_ephemeral() -> Result<SpawnedDevnode, DevnodeError> {
        let rpc = RpcConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..RpcConfig::default()
        };
        Self::spawn(NodeConfig::default(), rpc)
    }
}

impl SpawnedDevnode {
    /// `http://host:port` of the JSON-RPC endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `ws://host:port` of the same endpoint (subscriptions).
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// The chain's EIP-155 chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The funded dev accounts, in the node's order.
    pub fn accounts(&self) -> &[DevAccount] {
        &self.accounts
    }
}

impl Drop for SpawnedDevnode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spawned_devnode_serves_until_dropped() {
        let dev = Devnode::spawn_ephemeral().unwrap();
        assert!(dev.url().starts_with("http://127.0.0.1:"));
        assert_eq!(dev.chain_id(), crate::CHAIN_ID);
        assert!(!dev.accounts().is_empty());
        let addr = dev.url().trim_start_matches("http://").to_string();
        assert!(std::net::TcpStream::connect(&addr).is_ok());
        drop(dev);
        assert!(
            std::net::TcpStream::connect(&addr).is_err(),
            "the port is closed once dropped"
        );
    }

    #[test]
    fn a_port_in_use_is_an_error_not_a_panic() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let rpc = RpcConfig {
            addr: taken.local_addr().unwrap(),
            ..RpcConfig::default()
        };
        assert!(Devnode::spawn(NodeConfig::default(), rpc).is_err());
    }
}
