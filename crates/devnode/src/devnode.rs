//! A node and its RPC server in one value: what tests, the demo and the binary start.

use crate::node::{Node, NodeConfig, NodeError};
use crate::rpc::{serve, RpcConfig, RpcError, RpcServer};
use std::net::SocketAddr;
use std::sync::Arc;

/// Why a devnode could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevnodeError {
    /// The chain could not start (its data dir, most often).
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The JSON-RPC server could not start (its port, most often).
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The thread or runtime of [`Devnode::spawn`] could not start.
    #[error("cannot start the devnode's thread: {0}")]
    Runtime(std::io::Error),
}

/// A running devnode: the chain and its JSON-RPC endpoint.
pub struct Devnode {
    /// The chain, to use directly (accounts, config, snapshots) besides RPC.
    pub node: Node,
    /// The JSON-RPC server on the chain.
    pub rpc: RpcServer,
}

impl Devnode {
    /// Starts a chain and serves it on `rpc.addr`.
    pub async fn start(config: NodeConfig, rpc: RpcConfig) -> Result<Self, DevnodeError> {
        let node = Node::new(config)?;
        let rpc = serve(Arc::new(node.clone()), rpc).await?;
        Ok(Self { node, rpc })
    }

    /// An in-memory chain on a free loopback port, for tests:
    /// `let dev = Devnode::ephemeral().await?; let url = dev.url();`
    pub async fn ephemeral() -> Result<Self, DevnodeError> {
        let rpc = RpcConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..RpcConfig::default()
        };
        Self::start(NodeConfig::default(), rpc).await
    }

    /// `http://host:port` of the JSON-RPC endpoint.
    pub fn url(&self) -> String {
        self.rpc.url()
    }

    /// `ws://host:port` of the same endpoint (subscriptions).
    pub fn ws_url(&self) -> String {
        self.rpc.ws_url()
    }

    /// Stops the RPC server, closing its connections gracefully, and waits until done.
    pub async fn stop(self) {
        self.rpc.stop().await;
    }
}
