//! How revm drives `StylusEvm`: its `EvmTr` is revm's own, except that `frame_run`
//! hands a frame whose code is a Stylus program to `program_call`.

use crate::evm::context::StylusContext;
use crate::evm::precompiles::ArbPrecompiles;
use crate::evm::program_call;
use crate::evm::stylus_evm::StylusEvm;
use revm::context::FrameStack;
use revm::database_interface::Database;
use revm::handler::evm::{ContextDbError, FrameInitResult};
use revm::handler::instructions::EthInstructions;
use revm::handler::{EthFrame, EvmTr, FrameInitOrResult, FrameTr};
use revm::interpreter::interpreter::EthInterpreter;

impl<DB: Database> EvmTr for StylusEvm<DB> {
    type Context = StylusContext<DB>;
    type Instructions = EthInstructions<EthInterpreter, StylusContext<DB>>;
    type Precompiles = ArbPrecompiles;
    type Frame = EthFrame<EthInterpreter>;

    fn all(
        &self,
    ) -> (
        &Self::Context,
        &Self::Instructions,
        &Self::Precompiles,
        &FrameStack<Self::Frame>,
    ) {
        self.inner.all()
    }

    fn all_mut(
        &mut self,
    ) -> (
        &mut Self::Context,
        &mut Self::Instructions,
        &mut Self::Precompiles,
        &mut FrameStack<Self::Frame>,
    ) {
        self.inner.all_mut()
    }

    fn frame_init(
        &mut self,
        frame_input: <Self::Frame as FrameTr>::FrameInit,
    ) -> Result<FrameInitResult<'_, Self::Frame>, ContextDbError<Self::Context>> {
        self.inner.frame_init(frame_input)
    }

    fn frame_run(
        &mut self,
    ) -> Result<FrameInitOrResult<Self::Frame>, ContextDbError<Self::Context>> {
        if program_call::is_stylus_frame(self.inner.frame_stack.get()) {
            return program_call::run_stylus_frame(self);
        }
        self.inner.frame_run()
    }

    fn frame_return_result(
        &mut self,
        result: <Self::Frame as FrameTr>::FrameResult,
    ) -> Result<Option<<Self::Frame as FrameTr>::FrameResult>, ContextDbError<Self::Context>> {
        self.inner.frame_return_result(result)
    }
}
