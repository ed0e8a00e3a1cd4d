//! The listening server: one port, HTTP and WebSocket, CORS and Host checks
//! (see [`guard`](super::guard)), limits, shutdown.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{
    BatchRequestConfig, IdProvider, RegisterMethodError, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::types::SubscriptionId;
use jsonrpsee::RpcModule;

use super::backend::Backend;
use super::debug::{DebugApiServer, DebugRpc};
use super::dev::{DevApiServer, DevRpc};
use super::eth::{EthApiServer, EthRpc};
use super::guard::{Access, GuardLayer};
use super::net::{NetApiServer, NetRpc};
use super::pubsub::{EthPubSub, EthPubSubApiServer};
use super::request_log::RequestLog;

/// nitro-devnode's port, so that tools configured for it work unchanged.
pub const DEFAULT_PORT: u16 = 8547;

/// Responses can be far larger than requests (eth_getLogs over many blocks,
/// call traces); jsonrpsee's 10 MiB default would turn those into errors.
const MAX_RESPONSE_BODY_BYTES: u32 = 128 * 1024 * 1024;

/// How [`serve`] listens.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// Address to bind; port 0 picks a free port (see [`RpcServer::local_addr`]).
    pub addr: SocketAddr,
    /// Largest request (HTTP body or WebSocket message); larger HTTP bodies get
    /// status 413 with a JSON-RPC error. Default 5 MiB, geth's limit.
    pub max_request_body_bytes: u32,
    /// Open connections (HTTP keep-alive and WebSocket) beyond which new ones are refused.
    pub max_connections: u32,
    /// Most calls in one JSON-RPC batch; a larger batch gets one error. Default
    /// 1000, geth's `--rpc.batch-request-limit`.
    pub max_batch_len: u32,
    /// Browser origins (`scheme://host[:port]`, or `*` for any) that may call the
    /// node: CORS is answered for them, and a WebSocket handshake from any other
    /// origin is refused. Default none: a web page cannot use the node unless a
    /// developer allows its origin (`--allow-origin`).
    pub allow_origins: Vec<String>,
    /// Host names accepted in the `Host` header besides IP addresses and
    /// `localhost` (`*` for any), against DNS rebinding (`--allow-host`).
    pub allow_hosts: Vec<String>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            max_request_body_bytes: 5 * 1024 * 1024,
            max_connections: 100,
            max_batch_len: 1000,
            allow_origins: Vec::new(),
            allow_hosts: Vec::new(),
        }
    }
}

/// Why [`serve`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The address could not be bound (in use, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Two methods share a name: a bug in this module.
    #[error("cannot register the RPC methods: {0}")]
    Register(#[from] RegisterMethodError),
    /// An allowed origin or host that is not one.
    #[error("{0}")]
    Access(String),
}

/// A running server. Dropping it (or every clone of its handle) stops it too.
#[derive(Debug)]
pub struct RpcServer {
    local_addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcServer {
    /// The address actually bound (the real port when the config asked for 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://host:port` for HTTP clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.connect_addr())
    }

    /// `ws://host:port` for WebSocket clients (same port as HTTP).
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.connect_addr())
    }

    /// Stops accepting, closes connections gracefully and waits until done.
    pub async fn stop(self) {
        // Err only means it was already stopping; waiting is still right.
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }

    /// Waits until the server stops (after [`RpcServer::stop`] from elsewhere, or never).
    pub async fn stopped(&self) {
        self.handle.clone().stopped().await;
    }

    /// Whether the server has stopped.
    pub fn is_stopped(&self) -> bool {
        self.handle.is_stopped()
    }

    /// A wildcard bind address is not something a client can connect to; the
    /// loopback of the same family is.
    fn connect_addr(&self) -> SocketAddr {
        let ip = match self.local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.local_addr.port())
    }
}

/// Every method the node answers, bound to `backend`. [`serve`] uses it; tests
/// can call it directly with `RpcModule::call` without a socket.
pub fn rpc_module(backend: Arc<dyn Backend>) -> Result<RpcModule<()>, RegisterMethodError> {
    let mut module = RpcModule::new(());
    module.merge(EthRpc::new(backend.clone()).into_rpc())?;
    module.merge(EthPubSub::new(backend.clone()).into_rpc())?;
    module.merge(NetRpc::new(backend.clone()).into_rpc())?;
    module.merge(DevRpc::new(backend.clone()).into_rpc())?;
    module.merge(DebugRpc::new(backend).into_rpc())?;
    Ok(module)
}

/// Binds `config.addr` and serves JSON-RPC over HTTP and WebSocket on it until
/// the returned [`RpcServer`] is stopped or dropped.
pub async fn serve(backend: Arc<dyn Backend>, config: RpcConfig) -> Result<RpcServer, RpcError> {
    let access =
        Access::new(&config.allow_origins, &config.allow_hosts).map_err(RpcError::Access)?;
    let module = rpc_module(backend)?;
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_body_bytes)
        .max_response_body_size(MAX_RESPONSE_BODY_BYTES)
        .max_connections(config.max_connections)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch_len))
        .set_id_provider(HexIdProvider::default())
        .build();
    // Without allowed origins the CORS layer is still there but allows none.
    let cors = access.cors();
    let bind_error = |source| RpcError::Bind {
        addr: config.addr,
        source,
    };
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(GuardLayer(Arc::new(access)))
                .layer(cors),
        )
        .set_rpc_middleware(RpcServiceBuilder::new().layer_fn(RequestLog::new))
        .build(config.addr)
        .await
        .map_err(bind_error)?;
    let local_addr = server.local_addr().map_err(bind_error)?;
    let handle = server.start(module);
    tracing::info!(%local_addr, "JSON-RPC listening (HTTP and WebSocket)");
    Ok(RpcServer { local_addr, handle })
}

/// Subscription ids as geth writes them (`0x` + 32 hex digits). alloy reads the
/// id as a 256-bit number, which jsonrpsee's default random strings are not.
#[derive(Debug)]
struct HexIdProvider {
    keys: RandomState,
    next: AtomicU64,
}

impl Default for HexIdProvider {
    fn default() -> Self {
        Self {
            keys: RandomState::new(),
            next: AtomicU64::new(1),
        }
    }
}

impl IdProvider for HexIdProvider {
    fn next_id(&self) -> SubscriptionId<'static> {
        // The counter makes ids unique; the keyed hash makes them hard to guess,
        // so one WebSocket client cannot name another's subscription.
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut hasher = self.keys.build_hasher();
        hasher.write_u64(n);
        format!("0x{:016x}{n:016x}", hasher.finish()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_ids_are_unique_hex() {
        let ids = HexIdProvider::default();
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        let SubscriptionId::Str(s) = a else {
            panic!("string id expected")
        };
        assert_eq!(s.len(), 34);
        assert!(s.starts_with("0x") && s[2..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
