//! Logs each JSON-RPC request's method name at debug level. Never the params:
//! they may carry signed transactions.

use std::future::Future;

use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::types::Request;

/// Middleware for [`jsonrpsee::server::middleware::rpc::RpcServiceBuilder`].
#[derive(Debug, Clone)]
pub struct RequestLog<S> {
    service: S,
}

impl<S> RequestLog<S> {
    /// Wraps the next RPC service.
    pub fn new(service: S) -> Self {
        Self { service }
    }
}

impl<S: RpcServiceT> RpcServiceT for RequestLog<S> {
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        tracing::debug!(method = request.method_name(), "rpc request");
        self.service.call(request)
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        // The root service runs a batch's entries without passing them back
        // through `call`, so they are logged here.
        for entry in batch.iter().flatten() {
            match entry {
                BatchEntry::Call(req) => {
                    tracing::debug!(method = req.method_name(), "rpc request (batch)")
                }
                BatchEntry::Notification(n) => {
                    tracing::debug!(method = n.method_name(), "rpc notification (batch)")
                }
            }
        }
        self.service.batch(batch)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        tracing::debug!(method = n.method_name(), "rpc notification");
        self.service.notification(n)
    }
}
