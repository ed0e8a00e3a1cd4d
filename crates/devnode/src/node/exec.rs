//! One transaction through revm + Stylus, on any database.

use crate::evm::{build_evm, StylusContext, StylusRuntime};
use alloy_primitives::B256;
use revm::bytecode::opcode::{
    CALL, CALLCODE, CREATE, CREATE2, DELEGATECALL, JUMP, JUMPI, STATICCALL,
};
use revm::context::{BlockEnv, TxEnv};
use revm::context_interface::result::{EVMError, ExecutionResult, InvalidTransaction};
use revm::context_interface::{ContextTr, JournalTr};
use revm::database_interface::Database;
use revm::handler::{EthFrame, Handler, MainnetHandler};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::{
    instruction_table, Host, Instruction, InstructionContext, InstructionExecResult,
    InstructionResult,
};
use revm::primitives::hardfork::SpecId;
use revm::state::EvmState;
use std::cell::Cell;
use std::time::Instant;

/// The hardfork the devnode runs: Arbitrum's EVM follows Ethereum's Prague.
pub const SPEC: SpecId = SpecId::PRAGUE;

/// How a transaction is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A real transaction: every check, never interrupted (a block's result must
    /// not depend on the machine's speed).
    Commit,
    /// eth_call / eth_estimateGas: no nonce, balance-for-fees or base-fee checks;
    /// abandoned at `deadline` if one is given (geth's `rpc.evmtimeout`).
    Call {
        /// When to abandon the call; `None` lets it run to the end.
        deadline: Option<Instant>,
    },
}

/// What [`transact`] answers when a [`Mode::Call`] passed its deadline: the
/// result it got to is meaningless (frames were halted part-way).
pub const TIMED_OUT: &str = "devnode: execution passed its deadline";

/// Whether `err` is the [`TIMED_OUT`] error of a call that ran out of time.
pub fn timed_out<DB, E>(err: &EVMError<DB, E>) -> bool {
    matches!(err, EVMError::Custom(m) if m == TIMED_OUT)
}

/// revm's error for one transaction on `DB`: a database failure, an invalid
/// transaction, or a custom one such as [`TIMED_OUT`].
pub type ExecError<DB> = EVMError<<DB as Database>::Error, InvalidTransaction>;

/// Stack for executing a transaction: every nested call, EVM or Stylus, recurses on
/// the native stack (revm frames plus the WASM interpreter), far past the 2 MiB of
/// an async runtime's worker threads. Reserved lazily, so only what is used costs.
const EXEC_STACK_BYTES: usize = 256 << 20;

/// Runs [`transact_here`] on a thread with a stack deep enough for 1024 nested calls.
pub fn transact<DB>(
    db: DB,
    chain_id: u64,
    block: BlockEnv,
    tx: TxEnv,
    runtime: &StylusRuntime,
    recent_wasms: &mut Vec<B256>,
    mode: Mode,
) -> Result<(ExecutionResult, EvmState), ExecError<DB>>
where
    DB: Database + Send,
    DB::Error: Send,
{
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("devnode-exec".into())
            .stack_size(EXEC_STACK_BYTES)
            .spawn_scoped(scope, || {
                transact_here(db, chain_id, block, tx, runtime, recent_wasms, mode)
            })
            .map_err(|e| EVMError::Custom(format!("cannot start an execution thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(EVMError::Custom("execution panicked".into())))
    })
}

/// Runs one transaction on the calling thread, returning its result and the state
/// it changed, uncommitted. `recent_wasms` carries the block's recently used
/// programs (nitro's `RecentWasms`) from one transaction to the next.
pub fn transact_here<DB: Database>(
    db: DB,
    chain_id: u64,
    block: BlockEnv,
    tx: TxEnv,
    runtime: &StylusRuntime,
    recent_wasms: &mut Vec<B256>,
    mode: Mode,
) -> Result<(ExecutionResult, EvmState), ExecError<DB>> {
    let mut ctx: StylusContext<DB> = StylusContext::new(db, SPEC);
    ctx.cfg.chain_id = chain_id;
    // Stylus code starts with 0xEF; activation validates it instead of EIP-3541.
    ctx.cfg.disable_eip3541 = true;
    if let Mode::Call { .. } = mode {
        ctx.cfg.disable_nonce_check = true;
        ctx.cfg.disable_base_fee = true;
    }
    ctx.block = block;
    ctx.tx = tx;
    let mut evm = build_evm(ctx, runtime.clone());
    let deadline = match mode {
        Mode::Call { deadline } => deadline,
        Mode::Commit => None,
    };
    let clock = deadline.map(|at| {
        // Every EVM loop goes through a backward JUMP or JUMPI, and every fan-out of
        // calls through a CALL or CREATE: checking the clock there stops any of
        // them, at any call depth, without an inspector's cost on every opcode.
        let table = evm.inner.instruction.instruction_table_mut();
        table[usize::from(JUMP)] = Instruction::new(timed::<JUMP, StylusContext<DB>>);
        table[usize::from(JUMPI)] = Instruction::new(timed::<JUMPI, StylusContext<DB>>);
        table[usize::from(CALL)] = Instruction::new(timed::<CALL, StylusContext<DB>>);
        table[usize::from(CALLCODE)] = Instruction::new(timed::<CALLCODE, StylusContext<DB>>);
        table[usize::from(DELEGATECALL)] =
            Instruction::new(timed::<DELEGATECALL, StylusContext<DB>>);
        table[usize::from(STATICCALL)] = Instruction::new(timed::<STATICCALL, StylusContext<DB>>);
        table[usize::from(CREATE)] = Instruction::new(timed::<CREATE, StylusContext<DB>>);
        table[usize::from(CREATE2)] = Instruction::new(timed::<CREATE2, StylusContext<DB>>);
        ClockGuard::arm(at)
    });
    evm.recent_wasms = std::mem::take(recent_wasms);
    evm.begin_tx();
    let result =
        MainnetHandler::<_, ExecError<DB>, EthFrame<EthInterpreter>>::default().run(&mut evm);
    *recent_wasms = std::mem::take(&mut evm.recent_wasms);
    let state = evm.ctx_mut().journal_mut().finalize();
    if clock.as_ref().is_some_and(ClockGuard::expired) {
        return Err(EVMError::Custom(TIMED_OUT.into()));
    }
    result.map(|r| (r, state))
}

/// How many jumps pass between two looks at the clock: reading it costs about
/// as much as a few dozen instructions, so it is not read at every jump.
const JUMPS_PER_CLOCK_READ: u32 = 256;

thread_local! {
    /// The running call's deadline: instructions are plain `fn`s, so they find it
    /// here, on the thread that executes the call (nested frames, EVM or Stylus,
    /// run on the same thread).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static JUMPS: Cell<u32> = const { Cell::new(0) };
    static EXPIRED: Cell<bool> = const { Cell::new(false) };
}

/// The deadline of the call running on this thread, cleared when dropped.
struct ClockGuard;

impl ClockGuard {
    fn arm(at: Instant) -> Self {
        DEADLINE.set(Some(at));
        JUMPS.set(0);
        EXPIRED.set(false);
        ClockGuard
    }

    fn expired(&self) -> bool {
        EXPIRED.get()
    }
}

impl Drop for ClockGuard {
    fn drop(&mut self) {
        DEADLINE.set(None);
        EXPIRED.set(false);
    }
}

/// True once the deadline has passed; from then on every jump halts, so each
/// frame on the stack stops at its next jump and the call unwinds at once.
fn out_of_time() -> bool {
    if EXPIRED.get() {
        return true;
    }
    let n = JUMPS.get().wrapping_add(1);
    JUMPS.set(n);
    if !n.is_multiple_of(JUMPS_PER_CLOCK_READ) {
        return false;
    }
    let late = DEADLINE.get().is_some_and(|at| Instant::now() >= at);
    EXPIRED.set(late);
    late
}

/// Opcode `OP` of revm's mainnet table (the one `build_evm` installs), run only
/// while the call has time left.
fn timed<const OP: u8, H: Host>(
    context: InstructionContext<'_, H, EthInterpreter>,
) -> InstructionExecResult {
    if out_of_time() {
        // OutOfGas is the halt every frame and caller already handles; the result
        // is thrown away for the timeout error (see `transact_here`).
        return Err(InstructionResult::OutOfGas);
    }
    let mainnet = const { &instruction_table::<EthInterpreter, H>() };
    mainnet[usize::from(OP)].execute(context)
}
