//! CareLedger end to end: the harness the scenarios in `tests/` share.
//!
//! - [`Net`]: the chain, an in-process devnode with a data dir or, with
//!   `STYLUS_RPC_URL` and `STYLUS_PRIVATE_KEY` set, any Stylus chain;
//! - [`cli::World`]: a deployment and its users, each command a run of the real
//!   `careledger` binary;
//! - [`smtp::Smtp`] and [`notifier::Notifier`]: aiosmtpd and the real
//!   `careledger-notifier` binary;
//! - [`scan::Scan`]: the privacy scan;
//! - [`twins`]: the Solidity twins of the contracts beside the Stylus ones, for
//!   the gas table.

pub mod cli;
pub mod http;
pub mod net;
pub mod notifier;
pub mod scan;
pub mod smtp;
pub mod twins;

pub use net::{Account, Net};

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a loopback port")
        .local_addr()
        .expect("its address")
        .port()
}
