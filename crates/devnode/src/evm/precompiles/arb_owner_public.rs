//! ArbOS's ArbOwnerPublic precompile (0x6b): only the view cargo-stylus calls.

use super::reply::{self, PrecompileError};
use crate::evm::context::StylusContext;
use alloy_primitives::U256;
use alloy_sol_types::{sol, SolCall, SolValue};
use revm::database_interface::Database;
use revm::interpreter::{CallInputs, InterpreterResult};

sol! {
    /// The one ArbOwnerPublic view cargo-stylus calls.
    interface IArbOwnerPublic {
        function getMaxStylusContractFragments() external view returns (uint8);
    }
}

/// The precompile itself.
pub struct ArbOwnerPublic;

impl ArbOwnerPublic {
    /// Answers `getMaxStylusContractFragments` and reverts on anything else; charges no gas.
    pub(crate) fn run<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
    ) -> Result<InterpreterResult, String> {
        reply::run(ctx, inputs, "ArbOwnerPublic", |_, input, _| {
            if input.starts_with(&IArbOwnerPublic::getMaxStylusContractFragmentsCall::SELECTOR) {
                // Fragmented programs are not supported: 0 fragments tells cargo-stylus so.
                return Ok(U256::ZERO.abi_encode());
            }
            Err(PrecompileError::<DB::Error>::Revert(Vec::new()))
        })
    }
}
