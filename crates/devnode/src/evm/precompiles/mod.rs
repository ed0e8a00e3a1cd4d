//! Ethereum's precompiles plus the ArbOS ones a Stylus toolchain talks to, one module per
//! ArbOS precompile (as revm keeps one per Ethereum precompile), beside what they share:
//! ArbOS's addresses, the program records in ArbWasm's storage, and how a precompile
//! answers.

pub(crate) mod addresses;
mod arb_owner_public;
mod arb_wasm;
mod arb_wasm_cache;
pub(crate) mod programs;
pub(crate) mod reply;

pub use arb_owner_public::ArbOwnerPublic;
pub use arb_wasm::ArbWasm;
pub use arb_wasm_cache::ArbWasmCache;

use crate::evm::context::StylusContext;
use crate::evm::runtime::StylusRuntime;
use addresses::{ARB_OWNER_PUBLIC, ARB_WASM, ARB_WASM_CACHE};
use alloy_primitives::Address;
use revm::context_interface::{Cfg, ContextTr};
use revm::database_interface::Database;
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, InterpreterResult};
use revm::primitives::hardfork::SpecId;
use revm::primitives::AddressSet;

/// revm's precompiles for the spec, with ArbWasm (0x71), ArbWasmCache (0x72) and
/// ArbOwnerPublic (0x6b).
pub struct ArbPrecompiles {
    eth: EthPrecompiles,
    runtime: StylusRuntime,
    warm: AddressSet,
}

impl ArbPrecompiles {
    /// The precompiles of hardfork `spec`, the ArbOS ones running on `runtime`.
    pub fn new(spec: SpecId, runtime: StylusRuntime) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = Self::warm_set(&eth);
        Self { eth, runtime, warm }
    }

    fn warm_set(eth: &EthPrecompiles) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.extend(Self::arbos_addresses());
        warm
    }

    /// Addresses that need code (`0xFE`) in genesis so that Solidity's
    /// extcodesize check lets contracts call them, as nitro does.
    pub fn arbos_addresses() -> [Address; 3] {
        [ARB_WASM, ARB_WASM_CACHE, ARB_OWNER_PUBLIC]
    }
}

impl<DB: Database> PrecompileProvider<StylusContext<DB>> for ArbPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <<StylusContext<DB> as ContextTr>::Cfg as Cfg>::Spec) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<StylusContext<DB>>>::set_spec(
            &mut self.eth,
            spec,
        );
        if changed {
            self.warm = Self::warm_set(&self.eth);
        }
        changed
    }

    fn run(
        &mut self,
        context: &mut StylusContext<DB>,
        inputs: &CallInputs,
    ) -> Result<Option<Self::Output>, String> {
        match inputs.bytecode_address {
            ARB_WASM => ArbWasm::run(context, inputs, &self.runtime).map(Some),
            ARB_WASM_CACHE => ArbWasmCache::run(context, inputs, &self.runtime).map(Some),
            ARB_OWNER_PUBLIC => ArbOwnerPublic::run(context, inputs).map(Some),
            _ => self.eth.run(context, inputs),
        }
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}
