//! One transaction through revm + Stylus, on any database.

use crate::evm::{build_evm, StylusContext, StylusRuntime};
use alloy_primitives::B256;
use revm::context::{BlockEnv, TxEnv};
use revm::context_interface::result::{EVMError, ExecutionResult, InvalidTransaction};
use revm::context_interface::{ContextTr, JournalTr};
use revm::database_interface::Database;
use revm::handler::{EthFrame, Handler, MainnetHandler};
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::hardfork::SpecId;
use revm::state::EvmState;

/// The hardfork the devnode runs: Arbitrum's EVM follows Ethereum's Prague.
pub const SPEC: SpecId = SpecId::PRAGUE;

/// How a transaction is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A real transaction: every check.
    Commit,
    /// eth_call / eth_estimateGas: no nonce, balance-for-fees or base-fee checks.
    Call,
}

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
    if mode == Mode::Call {
        ctx.cfg.disable_nonce_check = true;
        ctx.cfg.disable_base_fee = true;
    }
    ctx.block = block;
    ctx.tx = tx;
    let mut evm = build_evm(ctx, runtime.clone());
    evm.recent_wasms = std::mem::take(recent_wasms);
    evm.begin_tx();
    let result =
        MainnetHandler::<_, ExecError<DB>, EthFrame<EthInterpreter>>::default().run(&mut evm);
    *recent_wasms = std::mem::take(&mut evm.recent_wasms);
    let state = evm.ctx_mut().journal_mut().finalize();
    result.map(|r| (r, state))
}
