//! The `vm_hooks` imports, with nitro's semantics and ink prices
//! (nitro `crates/wasm-libraries/user-host-trait/lib.rs`), one module per group of
//! hostios; each hostio buys its ink first, as nitro's do.

mod accounts;
mod calls;
mod console;
mod context;
mod logs;
mod math;
mod metering;
mod program_io;
mod storage;

use super::state::HostState;
use wasmi::{Caller, Linker};

/// What every hostio closure receives: wasmi's handle on the running program.
type C<'a> = Caller<'a, HostState>;

/// Registers every hostio under `vm_hooks` (and `console` for debug chains).
pub(crate) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    program_io::link(linker)?;
    storage::link(linker)?;
    calls::link(linker)?;
    logs::link(linker)?;
    accounts::link(linker)?;
    context::link(linker)?;
    metering::link(linker)?;
    math::link(linker)?;
    console::link(linker)
}

#[cfg(test)]
mod tests {
    use super::link;
    use crate::activation::hostio::{self, VM_HOOKS_MODULE};
    use crate::evm_api::{CallKind, CallOutcome, CreateOutcome, EvmApi, WriteError};
    use crate::host::state::HostState;
    use alloy_primitives::{Address, Bytes, B256, U256};
    use wasmi::{Engine, Linker, Module, Store};
    use wasmparser::ValType;

    /// Never called: instantiating runs no hostio.
    struct NoEvm;

    impl EvmApi for NoEvm {
        fn sload(&mut self, _: B256) -> (B256, u64) {
            unreachable!()
        }
        fn sstore(&mut self, _: B256, _: B256, _: u64) -> Result<u64, WriteError> {
            unreachable!()
        }
        fn tload(&mut self, _: B256) -> B256 {
            unreachable!()
        }
        fn tstore(&mut self, _: B256, _: B256) -> Result<(), WriteError> {
            unreachable!()
        }
        fn call(
            &mut self,
            _: CallKind,
            _: Address,
            _: &[u8],
            _: u64,
            _: u64,
            _: U256,
        ) -> CallOutcome {
            unreachable!()
        }
        fn create(
            &mut self,
            _: &[u8],
            _: U256,
            _: Option<B256>,
            _: u64,
        ) -> Result<CreateOutcome, String> {
            unreachable!()
        }
        fn emit_log(&mut self, _: Vec<B256>, _: Bytes) -> Result<(), String> {
            unreachable!()
        }
        fn balance(&mut self, _: Address) -> (U256, u64) {
            unreachable!()
        }
        fn code(&mut self, _: Address, _: u64) -> (Bytes, u64) {
            unreachable!()
        }
        fn codehash(&mut self, _: Address) -> (B256, u64) {
            unreachable!()
        }
        fn add_pages(&mut self, _: u16) -> u64 {
            unreachable!()
        }
    }

    fn wat_type(t: &ValType) -> &'static str {
        match t {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            other => panic!("no hostio takes {other:?}"),
        }
    }

    #[test]
    fn every_vm_hooks_hostio_is_linked_with_nitros_signature() {
        let imports: String = hostio::vm_hooks()
            .map(|name| {
                let ty = hostio::signature(VM_HOOKS_MODULE, name).expect("a vm_hooks hostio");
                let list = |kind: &str, types: &[ValType]| {
                    types
                        .iter()
                        .map(|t| format!(" ({kind} {})", wat_type(t)))
                        .collect::<String>()
                };
                format!(
                    "(import \"{VM_HOOKS_MODULE}\" \"{name}\" (func{}{}))\n",
                    list("param", ty.params()),
                    list("result", ty.results())
                )
            })
            .collect();
        let wasm = wat::parse_str(format!("(module\n{imports})")).expect("valid text");

        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        link(&mut linker).expect("every hostio links once");
        let module = Module::new(&engine, &wasm).expect("a valid module");
        let state = HostState::new(
            std::ptr::null_mut::<NoEvm>() as *mut (dyn EvmApi + 'static),
            Default::default(),
            1,
            Vec::new(),
        );
        let mut store = Store::new(&engine, state);
        linker
            .instantiate_and_start(&mut store, &module)
            .expect("every import resolves with the signature activation accepts");
    }
}
