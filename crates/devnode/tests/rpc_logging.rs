//! Request logging names the method and never the params (they may hold signed
//! transactions). A test binary of its own: tracing caches per-callsite interest
//! process-wide, and tests in parallel threads hitting the same log line while a
//! thread-local subscriber is installed make that cache racy.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::rpc::types::state::StateOverride;
use alloy::rpc::types::{
    Block, FeeHistory, Filter, Log, Transaction, TransactionReceipt, TransactionRequest,
};
use careledger_devnode::rpc::{serve, Backend, BackendError, BackendResult, MinedBlock, RpcConfig};
use serde_json::json;
use tokio::sync::broadcast;

/// A chain that refuses every transaction and knows nothing.
struct Refuses(broadcast::Sender<MinedBlock>);

fn refused<T>() -> BackendResult<T> {
    Err(BackendError::InvalidTransaction("refused".into()))
}

impl Backend for Refuses {
    fn chain_id(&self) -> u64 {
        1
    }
    fn block_number(&self) -> u64 {
        0
    }
    fn gas_price(&self) -> u128 {
        0
    }
    fn accounts(&self) -> Vec<Address> {
        Vec::new()
    }
    fn balance(&self, _: Address, _: BlockId) -> BackendResult<U256> {
        Ok(U256::ZERO)
    }
    fn transaction_count(&self, _: Address, _: BlockId) -> BackendResult<u64> {
        Ok(0)
    }
    fn code(&self, _: Address, _: BlockId) -> BackendResult<Bytes> {
        Ok(Bytes::new())
    }
    fn storage_at(&self, _: Address, _: U256, _: BlockId) -> BackendResult<B256> {
        Ok(B256::ZERO)
    }
    fn send_raw_transaction(&self, _: Bytes) -> BackendResult<B256> {
        refused()
    }
    fn send_transaction(&self, _: TransactionRequest) -> BackendResult<B256> {
        refused()
    }
    fn call(
        &self,
        _: TransactionRequest,
        _: BlockId,
        _: Option<StateOverride>,
    ) -> BackendResult<Bytes> {
        refused()
    }
    fn estimate_gas(
        &self,
        _: TransactionRequest,
        _: BlockId,
        _: Option<StateOverride>,
    ) -> BackendResult<u64> {
        refused()
    }
    fn transaction_receipt(&self, _: B256) -> Option<TransactionReceipt> {
        None
    }
    fn transaction_by_hash(&self, _: B256) -> Option<Transaction> {
        None
    }
    fn block(&self, _: BlockId, _: bool) -> Option<Block> {
        None
    }
    fn logs(&self, _: &Filter) -> BackendResult<Vec<Log>> {
        Ok(Vec::new())
    }
    fn fee_history(
        &self,
        _: u64,
        _: BlockNumberOrTag,
        _: Option<Vec<f64>>,
    ) -> BackendResult<FeeHistory> {
        refused()
    }
    fn increase_time(&self, seconds: u64) -> BackendResult<u64> {
        Ok(seconds)
    }
    fn mine(&self, _: Option<u64>) -> BackendResult<()> {
        Ok(())
    }
    fn subscribe(&self) -> broadcast::Receiver<MinedBlock> {
        self.0.subscribe()
    }
}

/// Records every event at debug level or above as "target field=value ...".
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        *meta.level() <= tracing::Level::DEBUG
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(event.metadata().target().to_owned());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// One HTTP/1.1 POST on a fresh connection; returns the raw response.
async fn post(addr: SocketAddr, body: String) -> String {
    use std::io::{Read, Write};
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn requests_are_logged_by_method_name_never_params() {
    // A current-thread runtime: the server's connection tasks log on this thread.
    let lines = Arc::new(Mutex::new(Vec::new()));
    let _guard = tracing::subscriber::set_default(Capture(lines.clone()));
    let backend = Arc::new(Refuses(broadcast::channel(1).0));
    let config = RpcConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..RpcConfig::default()
    };
    let server = serve(backend, config).await.unwrap();

    let secret = "0xdeadbeefcafe";
    let single =
        json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[secret]});
    let response = post(server.local_addr(), single.to_string()).await;
    assert!(response.contains("refused"), "{response}");
    let batch = json!([{"jsonrpc":"2.0","id":2,"method":"eth_call","params":[{"input": secret}]}]);
    let response = post(server.local_addr(), batch.to_string()).await;
    assert!(response.contains("refused"), "{response}");
    server.stop().await;

    let lines = lines.lock().unwrap().join("\n");
    assert!(
        lines.contains(r#"message=rpc request method="eth_sendRawTransaction""#),
        "{lines}"
    );
    assert!(lines.contains(r#"method="eth_call""#), "{lines}");
    assert!(!lines.contains("deadbeef"), "{lines}");
}
