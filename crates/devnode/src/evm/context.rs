//! The revm context every part of the EVM works on. A leaf: it names revm's types only, so
//! the precompiles and the Stylus frame can both use it without depending on each other.

use revm::context::{BlockEnv, CfgEnv, Context, Journal, TxEnv};

/// revm's mainnet context over `DB`.
pub type StylusContext<DB> = Context<BlockEnv, TxEnv, CfgEnv, DB, Journal<DB>, ()>;
