//! A Stylus frame: nitro's `CallProgram` (arbos/programs/programs.go) on revm.

use crate::evm::context::StylusContext;
use crate::evm::frame_api::FrameApi;
use crate::evm::precompiles::programs::{active_program, ProgramError};
use crate::evm::precompiles::reply::PrecompileError;
use crate::evm::program_frame::ProgramFrame;
use crate::evm::stylus_evm::StylusEvm;
use alloy_primitives::{keccak256, Bytes, U256};
use revm::context_interface::context::ContextError;
use revm::context_interface::{Block, Cfg, ContextTr, Transaction};
use revm::database_interface::Database;
use revm::handler::evm::ContextDbError;
use revm::handler::{EthFrame, EvmTr, FrameData, FrameInitOrResult};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_action::FrameInput;
use revm::interpreter::{Gas, InstructionResult, InterpreterAction, InterpreterResult};
use stylus_vm::evm_api::EvmData;
use stylus_vm::host::{Invocation, Outcome};
use stylus_vm::program::is_stylus_program;

/// True when the frame on top is a call into Stylus code (`EF F0 00 …`).
pub(crate) fn is_stylus_frame(frame: &EthFrame<EthInterpreter>) -> bool {
    matches!(frame.data, FrameData::Call(_))
        && is_stylus_program(frame.interpreter.bytecode.original_byte_slice())
}

/// Runs the Stylus program of the frame on top and hands its result back to revm.
pub(crate) fn run_stylus_frame<DB: Database>(
    evm: &mut StylusEvm<DB>,
) -> Result<FrameInitOrResult<EthFrame<EthInterpreter>>, ContextDbError<StylusContext<DB>>> {
    let frame = evm.inner.frame_stack.get();
    let FrameInput::Call(inputs) = &frame.input else {
        return evm.inner.frame_run();
    };
    let code = frame.interpreter.bytecode.original_bytes();
    let known = inputs.known_bytecode.0;
    let program = ProgramFrame {
        codehash: if known.is_zero() {
            keccak256(&code)
        } else {
            known
        },
        input: inputs.input.bytes(&evm.inner.ctx),
        code,
        acting: inputs.target_address,
        caller: inputs.caller,
        value: inputs.value.get(),
        is_static: inputs.is_static,
        depth: frame.depth,
        gas_limit: inputs.gas_limit,
    };

    let result = call_program(evm, &program)?;

    let frame = evm.inner.frame_stack.get();
    let next = frame.process_next_action::<_, ContextDbError<StylusContext<DB>>>(
        &mut evm.inner.ctx,
        InterpreterAction::Return(result),
    )?;
    if next.is_result() {
        frame.set_finished(true);
    }
    Ok(next)
}

/// A halt consumes all the frame's gas and returns nothing.
fn halt(result: InstructionResult, gas_limit: u64) -> InterpreterResult {
    let mut gas = Gas::new(gas_limit);
    gas.spend_all();
    InterpreterResult::new(result, Bytes::new(), gas)
}

fn revert_with(data: Vec<u8>, gas: Gas) -> InterpreterResult {
    InterpreterResult::new(InstructionResult::Revert, data.into(), gas)
}

/// A program that may not run: nitro's `CallProgram` reverts with ArbWasm's custom error
/// (`ProgramNotActivated()`, …), as ArbWasm itself would.
fn refuse<DB: Database>(
    error: ProgramError<DB::Error>,
    gas: Gas,
    gas_limit: u64,
) -> Result<InterpreterResult, ContextDbError<StylusContext<DB>>> {
    match PrecompileError::from(error) {
        PrecompileError::Revert(data) => Ok(revert_with(data, gas)),
        PrecompileError::Halt => Ok(halt(InstructionResult::OutOfGas, gas_limit)),
        PrecompileError::Db(e) => Err(ContextError::Db(e)),
    }
}

fn call_program<DB: Database>(
    evm: &mut StylusEvm<DB>,
    p: &ProgramFrame,
) -> Result<InterpreterResult, ContextDbError<StylusContext<DB>>> {
    let mut gas = Gas::new(p.gas_limit);
    let params = evm.runtime.params.clone();
    let now = evm.inner.ctx.block().timestamp().saturating_to::<u64>();

    let info = match active_program(&mut evm.inner.ctx, p.codehash, now, &params) {
        Ok(info) => info,
        Err(error) => return refuse::<DB>(error, gas, p.gas_limit),
    };
    let activation = match evm.runtime.activate(p.codehash, &p.code) {
        Ok(a) => a,
        // Cannot happen for code that activated; nitro would panic, we fail the call.
        Err(_) => return refuse::<DB>(ProgramError::NotActivated, gas, p.gas_limit),
    };

    // Entry cost: memory pages beyond what the tx already opened, then init gas
    // (cheaper when the program is in ArbOS's cache or ran recently: nitro's
    // recent-WASMs cache, which a cached program does not enter).
    let (open, ever) = (evm.tx_state.open_pages, evm.tx_state.ever_pages);
    let mut call_cost = params.memory_model().gas_cost(info.footprint, open, ever);
    let cached = info.cached || evm.recent_wasm_hit(p.codehash);
    call_cost = call_cost.saturating_add(info.cached_gas(&params));
    if !cached {
        call_cost = call_cost.saturating_add(info.init_gas(&params));
    }
    if !gas.record_regular_cost(call_cost) {
        return Ok(halt(InstructionResult::OutOfGas, p.gas_limit));
    }
    let new_open = open.saturating_add(info.footprint);
    evm.tx_state.open_pages = new_open;
    evm.tx_state.ever_pages = ever.max(new_open);

    let ctx = &evm.inner.ctx;
    let data = EvmData {
        block_basefee: U256::from(ctx.block().basefee()),
        chain_id: ctx.cfg().chain_id(),
        block_coinbase: ctx.block().beneficiary(),
        block_gas_limit: ctx.block().gas_limit(),
        block_number: ctx.block().number().saturating_to(),
        block_timestamp: now,
        contract_address: p.acting,
        msg_sender: p.caller,
        msg_value: p.value,
        tx_gas_price: U256::from(ctx.tx().effective_gas_price(ctx.block().basefee() as u128)),
        tx_origin: ctx.tx().caller(),
        reentrant: evm.tx_state.active.get(&p.acting).copied().unwrap_or(0) > 0,
    };
    *evm.tx_state.active.entry(p.acting).or_default() += 1;

    let ink_price = u64::from(params.ink_price);
    let starting_gas = gas.remaining();
    let invocation = Invocation {
        codehash: p.codehash,
        module: &activation.module,
        args: &p.input,
        data,
        ink: starting_gas.saturating_mul(ink_price),
        ink_price,
        max_depth: params.max_stack_depth,
        page_limit: u32::from(params.page_limit),
    };
    let host = evm.runtime.host.clone();
    let mut api = FrameApi::new(evm, p);
    let run = host.run(invocation, &mut api);
    let refund = api.refund;
    let fatal = api.fatal.take();

    if let Some(count) = evm.tx_state.active.get_mut(&p.acting) {
        *count -= 1;
    }
    evm.tx_state.open_pages = open;
    if let Some(e) = fatal {
        return Err(e);
    }

    let run = match run {
        Ok(run) => run,
        Err(e) => {
            tracing::error!(program = %p.acting, "stylus host error: {e}");
            return Ok(revert_with(Vec::new(), gas));
        }
    };
    let (result, output) = match run.outcome {
        Outcome::Success(out) => (InstructionResult::Return, out),
        Outcome::Revert(out) => (InstructionResult::Revert, out),
        Outcome::Failure(why) => {
            tracing::debug!(program = %p.acting, "program failed: {why}");
            (InstructionResult::Revert, Vec::new())
        }
        Outcome::OutOfInk => return Ok(halt(InstructionResult::OutOfGas, p.gas_limit)),
        Outcome::OutOfStack => return Ok(halt(InstructionResult::CallTooDeep, p.gas_limit)),
    };
    let mut gas_left = (run.ink_left / ink_price).min(starting_gas);
    // nitro (ArbOS StylusFixes): returning data costs what EVM memory of that size would.
    if !output.is_empty() {
        let words = output.len().div_ceil(32);
        let evm_cost = evm.inner.ctx.cfg().gas_params().memory_cost(words);
        if starting_gas < evm_cost {
            return Ok(halt(InstructionResult::OutOfGas, p.gas_limit));
        }
        gas_left = gas_left.min(starting_gas - evm_cost);
    }
    let mut gas = Gas::new(p.gas_limit);
    let _ = gas.record_regular_cost(p.gas_limit - gas_left);
    if result == InstructionResult::Return {
        gas.record_refund(refund);
    }
    Ok(InterpreterResult::new(result, output.into(), gas))
}
