//! One module per group of verbs.

pub mod audit;
pub mod custodian;
pub mod demo;
pub mod deploy;
pub mod emergency;
pub mod grants;
pub mod ipfs;
pub mod keys;
pub mod notify;
pub mod record;
pub mod roles;
mod sharing;
