//! `eth_subscribe` / `eth_unsubscribe` over WebSocket: "newHeads" and "logs",
//! fed by the backend's stream of mined blocks.

use std::sync::Arc;

use alloy_rpc_types_eth::{pubsub::SubscriptionKind, Filter};
use jsonrpsee::core::{async_trait, SubscriptionResult};
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage, SubscriptionSink};
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};

use super::backend::{Backend, MinedBlock};
use super::error::invalid_params;

/// Subscriptions in geth's names; notifications go out as `eth_subscription`.
#[rpc(server, namespace = "eth")]
pub trait EthPubSubApi {
    /// `["newHeads"]` or `["logs", filter?]`; only the filter's address and
    /// topics apply (a subscription follows new blocks, so no block range).
    #[subscription(
        name = "subscribe" => "subscription",
        unsubscribe = "unsubscribe",
        item = serde_json::Value
    )]
    async fn subscribe(
        &self,
        kind: SubscriptionKind,
        params: Option<serde_json::Value>,
    ) -> SubscriptionResult;
}

/// Serves [`EthPubSubApiServer`] from a [`Backend`].
pub struct EthPubSub {
    backend: Arc<dyn Backend>,
}

impl EthPubSub {
    /// Wraps the chain.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend }
    }
}

/// What one subscription forwards from each mined block.
enum Feed {
    Heads,
    Logs(Box<Filter>),
}

impl Feed {
    fn parse(
        kind: SubscriptionKind,
        params: Option<serde_json::Value>,
    ) -> Result<Self, jsonrpsee::types::ErrorObjectOwned> {
        match kind {
            SubscriptionKind::NewHeads => Ok(Feed::Heads),
            SubscriptionKind::Logs => {
                let filter = match params {
                    None | Some(serde_json::Value::Null) => Filter::default(),
                    Some(v) => serde_json::from_value(v)
                        .map_err(|e| invalid_params(format!("invalid logs filter: {e}")))?,
                };
                Ok(Feed::Logs(Box::new(filter)))
            }
            other => Err(invalid_params(format!(
                "unsupported subscription {other:?}: only newHeads and logs"
            ))),
        }
    }
}

#[async_trait]
impl EthPubSubApiServer for EthPubSub {
    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: SubscriptionKind,
        params: Option<serde_json::Value>,
    ) -> SubscriptionResult {
        let feed = match Feed::parse(kind, params) {
            Ok(feed) => feed,
            Err(err) => {
                pending.reject(err).await;
                return Ok(());
            }
        };
        // Subscribe before answering: a block mined right after the client has
        // its subscription id must reach it.
        let blocks = self.backend.subscribe();
        let sink = pending.accept().await?;
        tokio::spawn(forward(blocks, sink, feed));
        Ok(())
    }
}

/// Pushes each mined block (or its matching logs) until the client unsubscribes,
/// disconnects, or the chain drops its sender.
async fn forward(mut blocks: broadcast::Receiver<MinedBlock>, sink: SubscriptionSink, feed: Feed) {
    loop {
        let block = tokio::select! {
            _ = sink.closed() => return,
            next = blocks.recv() => match next {
                Ok(block) => block,
                // A slow client misses blocks rather than holding the chain back.
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "eth_subscribe client too slow, blocks skipped");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        let sent = match &feed {
            Feed::Heads => send(&sink, &block.header).await,
            Feed::Logs(filter) => {
                let mut sent = true;
                for log in block.logs.iter().filter(|log| filter.matches(&log.inner)) {
                    sent = send(&sink, log).await;
                    if !sent {
                        break;
                    }
                }
                sent
            }
        };
        if !sent {
            return;
        }
    }
}

/// Sends one item; `false` once the client is gone.
async fn send(sink: &SubscriptionSink, item: &impl Serialize) -> bool {
    match serde_json::value::to_raw_value(item) {
        Ok(json) => sink.send(SubscriptionMessage::from(json)).await.is_ok(),
        Err(err) => {
            tracing::error!(%err, "cannot serialise a subscription item");
            true
        }
    }
}
