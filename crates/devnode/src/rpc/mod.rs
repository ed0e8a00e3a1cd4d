//! JSON-RPC over HTTP and WebSocket on one port.
//!
//! [`serve`] puts a [`Backend`] behind the methods alloy, cast, viem and
//! cargo-stylus use, in geth's shapes and error codes (see [`error`]).
//! The RPC layer never touches revm: everything goes through [`Backend`].

pub mod backend;
pub mod debug;
pub mod dev;
pub mod error;
pub mod eth;
pub mod guard;
pub mod net;
pub mod params;
pub mod pubsub;
pub mod request_log;
pub mod server;

pub use backend::{Backend, BackendError, BackendResult, MinedBlock};
pub use server::{serve, RpcConfig, RpcError, RpcServer};
