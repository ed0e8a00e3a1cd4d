//! Stylus programs outside nitro: the deployed-code format, activation (nitro's
//! validation and ink instrumentation) and the `vm_hooks` host, behind the
//! [`evm_api::EvmApi`] trait so that any EVM can run them.

pub mod activation;
pub mod error;
pub mod evm_api;
pub mod host;
pub mod params;
pub mod pricing;
pub mod program;

pub use error::Error;
