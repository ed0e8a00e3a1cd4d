//! Activation: nitro's validation of a program's WASM and its instrumentation into a module
//! any engine can run with nitro's ink, stack and memory accounting (prover
//! `programs/mod.rs` `Module::activate`, `binary.rs` `parse_user`).
//!
//! The instrumented module exports four mutable globals the host drives:
//! `stylus_ink_left` (i64, set before the call, read after), `stylus_ink_status` (i32, 1 after
//! running out of ink), `stylus_stack_left` (i32, set to `max_stack_depth` before the call)
//! and `stylus_scratch_global` (i32, internal).

mod arbos_versions;
mod checks;
mod costs;
mod data_pricer;
mod depth;
mod encode;
mod features;
mod gas;
mod heap;
pub mod hostio;
mod instrument;
mod meter;
mod opcodes;
mod parse;
#[cfg(test)]
mod tests;

use alloy_primitives::{keccak256, B256};

pub use self::arbos_versions::{ARBOS_VERSION_CHARGING_FIXES, ARBOS_VERSION_NO_MULTI_VALUE};
pub use self::checks::ENTRYPOINT;
pub use self::data_pricer::{asm_estimate_kb, asm_size, DataPricer, ARBITRUM_START_TIME};
pub use self::depth::{MAX_FRAME_CONTENTION, MAX_FRAME_SIZE};
pub use self::encode::{
    STYLUS_INK_LEFT, STYLUS_INK_STATUS, STYLUS_SCRATCH_GLOBAL, STYLUS_STACK_LEFT,
};
pub use self::gas::{activation_gas, compile_gas, ACTIVATION_FIXED_GAS, ACTIVATION_STATE_GAS};
pub use self::heap::HEAP_BOUND_PAGES;
use self::instrument::{instrument_function, Globals, ModuleContext};
pub use self::opcodes::{opcode_ink, INK_HEADER_COST, MEMORY_COPY_INK, MEMORY_FILL_INK};
use crate::params::StylusParams;
use crate::Error;

/// The result of activating a program.
#[derive(Clone, Debug)]
pub struct ActivationInfo {
    /// The instrumented WASM the host instantiates.
    pub module: Vec<u8>,
    /// Initial memory in pages, charged per call through [`crate::params::MemoryModel`].
    pub footprint: u16,
    /// Init cost units (nitro's exact formula), turned into gas by
    /// [`StylusParams::init_gas`].
    pub init_cost: u16,
    /// Cached init cost units (nitro's exact formula), turned into gas by
    /// [`StylusParams::cached_gas`].
    pub cached_init_cost: u16,
    /// Nitro's predicted native code size in bytes (exact formula); the data fee is charged
    /// on it.
    pub asm_estimate: u32,
    /// keccak256 of the Stylus version and the instrumented module. Nitro hashes its prover module (a Merkle tree
    /// over globals, memory, tables and functions, salted with the code hash), which this
    /// devnode does not build: the value differs from nitro's but is equally unique per
    /// WASM and Stylus version.
    pub module_hash: B256,
    /// The shape figures the costs and the activation gas derive from.
    pub stats: ModuleStats,
}

impl ActivationInfo {
    /// Gas `ArbWasm.activateProgram` burns for this program, data fee aside
    /// ([`activation_gas`]).
    pub fn activation_gas(&self, params: &StylusParams) -> u64 {
        activation_gas(&self.stats, params)
    }
}

/// Figures about a module that nitro's cost formulas use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModuleStats {
    /// Length of the WASM in bytes.
    pub wasm_len: u64,
    /// Functions the module defines (imports excluded).
    pub functions: u64,
    /// Parameters plus results over the types of the defined functions.
    pub type_len: u64,
    /// Globals after instrumentation (the module's own plus four).
    pub globals: u64,
    /// Encoded size of the data segments, headers included (what the cost formulas use).
    pub data_segment_bytes: u64,
    /// Bytes of data in the data segments (what the compile gas uses).
    pub data_bytes: u64,
    /// Encoded size of the element segments.
    pub element_bytes: u64,
    /// Initial memory pages.
    pub memory_pages: u64,
    /// Operators in all instrumented function bodies.
    pub instrumented_ops: u64,
}

/// Validates and instruments `wasm` as nitro's `activateProgram` does under `params`
/// (`debug`: a debug chain, which also accepts `console` imports and keeps every export).
///
/// Differences from nitro: a start function is rejected in debug mode too (nitro moves it to
/// an export there); `module_hash` is not nitro's (see [`ActivationInfo::module_hash`]); the
/// page limit is not reduced by pages already open in the transaction.
pub fn activate(wasm: &[u8], params: &StylusParams, debug: bool) -> Result<ActivationInfo, Error> {
    if wasm.len() > params.max_wasm_size as usize {
        return Err(Error::WasmTooLarge {
            limit: params.max_wasm_size as usize,
        });
    }
    features::validate(wasm, params.arbos_version)?;
    let info = parse::parse(wasm)?;
    if info.start.is_some() {
        return Err(Error::StartFunction);
    }
    checks::check_imports(&info, debug)?;
    let memory = checks::check_memory(&info, params)?;
    checks::check_entrypoint(&info)?;
    checks::check_segments(&info)?;

    let globals = Globals::after(info.globals.len() as u32);
    let func_types: Vec<u32> = info
        .imports
        .iter()
        .map(|i| i.type_index)
        .chain(info.functions.iter().copied())
        .collect();
    let cx = ModuleContext {
        types: &info.types,
        func_types: &func_types,
        globals,
        pay_func: memory.pay_func,
    };
    let mut bodies = Vec::with_capacity(info.bodies.len());
    for (index, body) in info.bodies.iter().enumerate() {
        bodies.push(instrument_function(body, index as u32, &cx)?);
    }

    let exports = encode::exports(&info, &globals, debug);
    let export_names: Vec<String> = exports.iter().map(|e| e.name.clone()).collect();
    let total_globals = info.globals.len() as u64 + 4;
    checks::check_limits(&info, params, &export_names, total_globals)?;

    let stats = ModuleStats {
        wasm_len: wasm.len() as u64,
        functions: info.bodies.len() as u64,
        type_len: info
            .functions
            .iter()
            .filter_map(|&t| info.types.get(t as usize))
            .map(|t| (t.params().len() + t.results().len()) as u64)
            .sum(),
        globals: total_globals,
        data_segment_bytes: info.datas.iter().map(|d| d.range.end - d.range.start).sum(),
        data_bytes: info.datas.iter().map(|d| d.data.len() as u64).sum(),
        element_bytes: info
            .elements
            .iter()
            .map(|e| e.range.end - e.range.start)
            .sum(),
        memory_pages: u64::from(memory.footprint),
        instrumented_ops: bodies.iter().map(|b| b.ops.len() as u64).sum(),
    };
    let costs = costs::estimate(&stats, params.version)?;

    let module = encode::encode(wasm, &info, bodies, &exports, debug)?;
    features::validate_output(&module, params.arbos_version)?;
    let module_hash = module_hash(params.version, &module);
    Ok(ActivationInfo {
        module,
        footprint: memory.footprint,
        init_cost: costs.init,
        cached_init_cost: costs.cached_init,
        asm_estimate: costs.asm_estimate,
        module_hash,
        stats,
    })
}

/// keccak256(version (2 bytes, big-endian) ‖ instrumented module).
fn module_hash(version: u16, module: &[u8]) -> B256 {
    let mut preimage = Vec::with_capacity(module.len() + 2);
    preimage.extend_from_slice(&version.to_be_bytes());
    preimage.extend_from_slice(module);
    keccak256(preimage)
}

/// Hint for [`Error::ForeignImport`]: nitro offers `console` on debug chains only.
pub(crate) fn console_hint(module: &str) -> &'static str {
    if module == hostio::CONSOLE_MODULE {
        " (console is only available on debug chains)"
    } else {
        ""
    }
}
