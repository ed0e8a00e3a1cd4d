//! One module per group of verbs.

pub mod audit;
pub mod demo;
pub mod deploy;
pub mod grants;
pub mod ipfs;
pub mod keys;
pub mod notify;
pub mod record;
pub mod roles;
mod sharing;
