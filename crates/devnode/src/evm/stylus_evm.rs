//! The EVM: revm's mainnet `Evm` wrapped with the Stylus state nitro keeps per
//! transaction and per block. How revm drives it (`EvmTr`, whose `frame_run` hands
//! Stylus frames to the WASM host) is in `evm_tr`.

use crate::evm::context::StylusContext;
use crate::evm::precompiles::ArbPrecompiles;
use crate::evm::runtime::StylusRuntime;
use alloy_primitives::{Address, B256};
use revm::context::{Evm, FrameStack};
use revm::database_interface::Database;
use revm::handler::evm::ContextDbError;
use revm::handler::instructions::EthInstructions;
use revm::handler::{EthFrame, EvmTr, FrameResult, ItemOrResult};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_action::FrameInit;
use std::collections::HashMap;

/// revm's mainnet `Evm` over the Stylus context, with the ArbOS precompiles.
type Inner<DB> = Evm<
    StylusContext<DB>,
    (),
    EthInstructions<EthInterpreter, StylusContext<DB>>,
    ArbPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// Per-transaction Stylus state nitro keeps in its StateDB.
#[derive(Debug, Default)]
pub(crate) struct TxStylusState {
    /// WASM pages open now and the most ever open in this transaction (memory model).
    pub open_pages: u16,
    pub ever_pages: u16,
    /// Stylus frames per program address currently on the stack (reentrancy flag).
    pub active: HashMap<Address, u32>,
}

/// revm with Stylus: implements `EvmTr`, so revm's `MainnetHandler` drives it.
pub struct StylusEvm<DB: Database> {
    pub(crate) inner: Inner<DB>,
    pub(crate) runtime: StylusRuntime,
    pub(crate) tx_state: TxStylusState,
    /// Code hashes that ran in this block, most recent last (nitro's recent-WASMs cache:
    /// a hit is charged the cached init cost).
    pub(crate) recent_wasms: Vec<B256>,
}

/// Builds a Stylus-enabled EVM over `ctx` (block, tx and cfg already set).
pub fn build_evm<DB: Database>(ctx: StylusContext<DB>, runtime: StylusRuntime) -> StylusEvm<DB> {
    let spec = ctx.cfg.spec;
    let precompiles = ArbPrecompiles::new(spec, runtime.clone());
    StylusEvm {
        inner: Evm::new(
            ctx,
            EthInstructions::new_mainnet_with_spec(spec),
            precompiles,
        ),
        runtime,
        tx_state: TxStylusState::default(),
        recent_wasms: Vec::new(),
    }
}

impl<DB: Database> StylusEvm<DB> {
    /// revm's context (journal, block, transaction, cfg), to finish a transaction
    /// with the journal's state.
    pub fn ctx_mut(&mut self) -> &mut StylusContext<DB> {
        &mut self.inner.ctx
    }

    /// revm's context, read-only.
    pub fn ctx_ref(&self) -> &StylusContext<DB> {
        &self.inner.ctx
    }

    /// Resets what nitro keeps per transaction.
    pub fn begin_tx(&mut self) {
        self.tx_state = TxStylusState::default();
    }

    /// Inserts into the recent-WASMs cache; true on a hit.
    pub(crate) fn recent_wasm_hit(&mut self, codehash: B256) -> bool {
        let size = usize::from(self.runtime.params.block_cache_size);
        if let Some(i) = self.recent_wasms.iter().position(|h| *h == codehash) {
            self.recent_wasms.remove(i);
            self.recent_wasms.push(codehash);
            return true;
        }
        self.recent_wasms.push(codehash);
        if self.recent_wasms.len() > size {
            self.recent_wasms.remove(0);
        }
        false
    }

    /// Runs a nested frame to completion on a fresh frame stack and hands back its
    /// result: revm has no re-entry API, so a Stylus program's call is driven here
    /// with the same loop as revm's `run_exec_loop` (through `EvmTr`, so a nested
    /// Stylus frame runs as WASM too).
    pub(crate) fn run_nested(
        &mut self,
        init: FrameInit,
    ) -> Result<FrameResult, ContextDbError<StylusContext<DB>>> {
        let saved = std::mem::replace(&mut self.inner.frame_stack, FrameStack::new_prealloc(4));
        let result = self.nested_loop(init);
        self.inner.frame_stack = saved;
        result
    }

    fn nested_loop(
        &mut self,
        init: FrameInit,
    ) -> Result<FrameResult, ContextDbError<StylusContext<DB>>> {
        if let ItemOrResult::Result(result) = self.frame_init(init)? {
            return Ok(result);
        }
        loop {
            let result = match self.frame_run()? {
                ItemOrResult::Item(init) => match self.frame_init(init)? {
                    ItemOrResult::Item(_) => continue,
                    ItemOrResult::Result(result) => result,
                },
                ItemOrResult::Result(result) => result,
            };
            if let Some(result) = self.frame_return_result(result)? {
                return Ok(result);
            }
        }
    }
}
