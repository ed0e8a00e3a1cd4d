//! Runs an activated (instrumented) Stylus module on wasmi with nitro's hostios.
//!
//! wasmi, not wasmer as nitro uses: an interpreter with lazy compilation starts a
//! program in microseconds and builds in seconds on 2 cores, and nitro's own ink
//! instrumentation (activation/) makes its gas counts independent of the engine.

mod hostios;
mod state;
mod storage_cache;

use crate::activation::{ENTRYPOINT, STYLUS_INK_LEFT, STYLUS_INK_STATUS, STYLUS_STACK_LEFT};
use crate::evm_api::{EvmApi, EvmData};
use crate::Error;
use alloy_primitives::B256;
pub use state::HostState;
use state::{Escape, Meter};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wasmi::{Config, Engine, Linker, Module, Store, StoreLimitsBuilder, Val};

/// How a program invocation ended, in nitro's terms (`UserOutcome`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `user_entrypoint` returned 0: the return data.
    Success(Vec<u8>),
    /// A non-zero status: the revert data.
    Revert(Vec<u8>),
    /// A trap or a hostio failure: reverts without data.
    Failure(String),
    /// Ink ran out: all gas is consumed.
    OutOfInk,
    /// The depth checker's stack budget ran out.
    OutOfStack,
}

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    /// How the program ended.
    pub outcome: Outcome,
    /// Ink left for the caller (0 after OutOfInk).
    pub ink_left: u64,
}

/// What one invocation needs besides the EVM.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    /// Code hash of the program: its compiled module is cached under it.
    pub codehash: B256,
    /// The instrumented module activation produced.
    pub module: &'a [u8],
    /// The calldata, handed to the program by `read_args`.
    pub args: &'a [u8],
    /// What the context hostios (`msg_sender`, `block_number`, ...) report.
    pub data: EvmData,
    /// Ink the program starts with: the caller's gas times `ink_price`.
    pub ink: u64,
    /// Ink per EVM gas, nitro's InkPrice: hostios that charge gas convert at it.
    pub ink_price: u64,
    /// nitro's max stack depth, loaded into `stylus_stack_left`.
    pub max_depth: u32,
    /// WASM pages a program may reach (nitro's page limit).
    pub page_limit: u32,
}

/// A WASM engine with the hostios linked and compiled modules cached by code hash.
#[derive(Clone)]
pub struct StylusHost {
    engine: Engine,
    linker: Arc<Linker<HostState>>,
    modules: Arc<Mutex<HashMap<B256, Module>>>,
}

impl StylusHost {
    /// An engine limited to the WASM features nitro's activation accepts, with every
    /// hostio linked and no module compiled yet.
    pub fn new() -> Result<Self, Error> {
        let mut config = Config::default();
        // The WASM features nitro's activation accepts; the rest are rejected there already.
        config
            .wasm_reference_types(false)
            .wasm_tail_call(false)
            .wasm_extended_const(false)
            .wasm_multi_memory(false)
            .wasm_bulk_memory(true)
            .floats(true);
        let engine = Engine::new(&config);
        let mut linker = Linker::new(&engine);
        hostios::link(&mut linker).map_err(|e| Error::Host(format!("linking hostios: {e}")))?;
        Ok(Self {
            engine,
            linker: Arc::new(linker),
            modules: Arc::default(),
        })
    }

    /// Number of compiled modules held (one per activated code hash that ran).
    pub fn cached_modules(&self) -> usize {
        self.modules.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn module(&self, codehash: B256, wasm: &[u8]) -> Result<Module, Error> {
        let mut modules = self
            .modules
            .lock()
            .map_err(|_| Error::Host("module cache poisoned".into()))?;
        if let Some(module) = modules.get(&codehash) {
            return Ok(module.clone());
        }
        let module = Module::new(&self.engine, wasm)
            .map_err(|e| Error::Host(format!("compiling an activated module: {e}")))?;
        modules.insert(codehash, module.clone());
        Ok(module)
    }

    /// Runs `user_entrypoint` once. `api` answers the program's EVM requests and must
    /// stay valid for the whole call (nested calls re-enter `run` with their own api).
    pub fn run(&self, inv: Invocation<'_>, api: &mut dyn EvmApi) -> Result<RunResult, Error> {
        let module = self.module(inv.codehash, inv.module)?;
        // SAFETY: the pointer is only dereferenced by hostios during `main.call` below,
        // while `api` is mutably borrowed by this function and used by nothing else.
        let api: *mut (dyn EvmApi + 'static) = unsafe { std::mem::transmute(api) };
        let state = HostState::new(api, inv.data, inv.ink_price, inv.args.to_vec());
        let mut store = Store::new(&self.engine, state);
        store.data_mut().limits = StoreLimitsBuilder::new()
            .memory_size(inv.page_limit as usize * 65536)
            .instances(1)
            .build();
        store.limiter(|state| &mut state.limits);

        let instance = match self.linker.instantiate_and_start(&mut store, &module) {
            Ok(instance) => instance,
            // Activation checked imports and memory, so this is a program fault
            // (a data segment out of bounds, say), which nitro reports as a failure.
            Err(e) => {
                return Ok(RunResult {
                    outcome: Outcome::Failure(e.to_string()),
                    ink_left: 0,
                })
            }
        };
        let global = |name: &str| instance.get_global(&store, name);
        let (Some(ink_left), Some(ink_status)) =
            (global(STYLUS_INK_LEFT), global(STYLUS_INK_STATUS))
        else {
            return Err(Error::Host(
                "module is not instrumented (no ink globals)".into(),
            ));
        };
        let stack_left = global(STYLUS_STACK_LEFT);
        let memory = instance.get_memory(&store, "memory");
        store.data_mut().meter = Some(Meter {
            ink_left,
            ink_status,
        });
        store.data_mut().memory = memory;
        let set = |store: &mut Store<HostState>, g: wasmi::Global, v: Val| {
            g.set(store, v)
                .map_err(|e| Error::Host(format!("setting a meter global: {e}")))
        };
        set(&mut store, ink_left, Val::I64(inv.ink as i64))?;
        set(&mut store, ink_status, Val::I32(0))?;
        if let Some(stack) = stack_left {
            set(&mut store, stack, Val::I32(inv.max_depth as i32))?;
        }
        let main = instance
            .get_typed_func::<i32, i32>(&store, ENTRYPOINT)
            .map_err(|e| Error::Host(format!("user_entrypoint: {e}")))?;

        let called = main.call(&mut store, inv.args.len() as i32);

        let ink_exhausted = ink_status.get(&store).i32() != Some(0);
        let ink = if ink_exhausted {
            0
        } else {
            ink_left.get(&store).i64().unwrap_or(0) as u64
        };
        let stack_exhausted = stack_left.is_some_and(|g| g.get(&store).i32() == Some(0));
        let outs = std::mem::take(&mut store.data_mut().outs);
        let outcome = match called {
            Ok(0) => Outcome::Success(outs),
            Ok(_) => Outcome::Revert(outs),
            Err(e) => match e.downcast_ref::<Escape>() {
                Some(Escape::Exit(0)) => Outcome::Success(outs),
                Some(Escape::Exit(_)) => Outcome::Revert(outs),
                Some(Escape::OutOfInk) => Outcome::OutOfInk,
                _ if stack_exhausted => Outcome::OutOfStack,
                _ if ink_exhausted => Outcome::OutOfInk,
                Some(Escape::Failure(why)) => Outcome::Failure(why.clone()),
                None => Outcome::Failure(e.to_string()),
            },
        };
        let ink_left = if outcome == Outcome::OutOfInk { 0 } else { ink };
        Ok(RunResult { outcome, ink_left })
    }
}
