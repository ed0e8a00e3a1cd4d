//! How an ArbOS precompile answers: its output, or a [`PrecompileError`] that becomes a
//! revert, a halt or the message the EVM stops on.

use crate::evm::context::StylusContext;
use alloy_primitives::Bytes;
use revm::database_interface::Database;
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};

/// How a precompile call ends when it does not return its output.
#[derive(Debug)]
pub(crate) enum PrecompileError<E> {
    /// Reverts with this data (an ABI-encoded custom error, a reason, or nothing); the gas
    /// left is returned.
    Revert(Vec<u8>),
    /// Burns all gas (a failed activation, out of gas, nitro's BurnOut).
    Halt,
    /// The state database failed: no answer is possible, the EVM halts.
    Db(E),
}

impl<E> From<E> for PrecompileError<E> {
    fn from(e: E) -> Self {
        Self::Db(e)
    }
}

/// Runs a precompile's `dispatch` on the call's input and gas, and turns what it answered
/// into the frame's result; a database error comes back as the message the EVM halts with
/// (`"{name} state: …"`).
pub(crate) fn run<DB: Database>(
    ctx: &mut StylusContext<DB>,
    inputs: &CallInputs,
    name: &str,
    dispatch: impl FnOnce(
        &mut StylusContext<DB>,
        &[u8],
        &mut Gas,
    ) -> Result<Vec<u8>, PrecompileError<DB::Error>>,
) -> Result<InterpreterResult, String> {
    let input = inputs.input.bytes(ctx);
    let mut gas = Gas::new(inputs.gas_limit);
    let result = match dispatch(ctx, &input, &mut gas) {
        Ok(out) => InterpreterResult::new(InstructionResult::Return, out.into(), gas),
        Err(PrecompileError::Revert(out)) => {
            InterpreterResult::new(InstructionResult::Revert, out.into(), gas)
        }
        Err(PrecompileError::Halt) => {
            gas.spend_all();
            InterpreterResult::new(InstructionResult::PrecompileOOG, Bytes::new(), gas)
        }
        Err(PrecompileError::Db(e)) => return Err(format!("{name} state: {e}")),
    };
    Ok(result)
}
