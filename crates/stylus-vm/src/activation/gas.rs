//! What `ArbWasm.activateProgram` burns besides the data fee (nitro
//! `precompiles/ArbWasm.go`, `arbos/programs/programs.go` and prover `programs/mod.rs`
//! `Module::activate`).
//!
//! In order: the chain's `activation_gas` parameter, a fixed 1,659,168, the compile gas for
//! the module's shape (exact), then ArbOS storage reads and writes and the event
//! ([`ACTIVATION_STATE_GAS`], an approximation for a first activation). When activation
//! fails after the fixed charge, nitro burns all the gas left (`takeAllGas`).

use super::arbos_versions::ARBOS_VERSION_CHARGING_FIXES;
use super::ModuleStats;
use crate::params::StylusParams;

/// Gas `activateProgram` charges up front, before looking at the program.
pub const ACTIVATION_FIXED_GAS: u64 = 1_659_168;

/// Gas for the ArbOS state a first activation touches, assuming the program was never
/// activated: opening ArbOS state (800), the method's argument and result copies (3 + 6),
/// the Stylus params (100), the program entry read (800), the module hash write (20,000),
/// the data pricer's 5 reads and 2 writes (44,000), the program entry write (20,000), the
/// network fee account read (800) and the `ProgramActivated` event (375 + 2 × 375 + 128 × 8
/// = 2,149). Not counted: reading the `ActivationGas` parameter on chains that have it (800).
/// An approximation: nitro charges these as it goes, with warm/cold and zero/non-zero rules.
pub const ACTIVATION_STATE_GAS: u64 =
    800 + 3 + 6 + 100 + 800 + 20_000 + 44_000 + 20_000 + 800 + 2_149;

/// Gas nitro's compiler charges for a module of this shape (`Module::activate`): each term is
/// an estimate in microseconds converted at 28 gas per µs, charged one after another.
pub fn compile_gas(stats: &ModuleStats, arbos_version: u64) -> u64 {
    // 2 (fudge) × 7 M gas/s ÷ 500 k syncs/s, in nitro's order of operations.
    let us_to_gas = |us: u64| us.saturating_mul(2 * 7_000_000) / (1_000_000 / 2);
    let mut gas: u64 = 0;
    let mut pay = |us: u64| gas = gas.saturating_add(us_to_gas(us));
    if arbos_version >= ARBOS_VERSION_CHARGING_FIXES {
        pay(stats.wasm_len.saturating_mul(31_733) / 100_000);
    }
    pay(stats.functions.saturating_mul(17_263) / 100_000);
    pay(stats.data_bytes.saturating_mul(17_376) / 100_000);
    pay(stats.element_bytes.saturating_mul(17_376) / 100_000);
    pay(stats.memory_pages.saturating_mul(2_217));
    pay(stats.instrumented_ops.saturating_mul(535) / 1_000);
    gas
}

/// Everything `activateProgram` burns for a first activation of a module with `stats`:
/// `params.activation_gas` + [`ACTIVATION_FIXED_GAS`] + [`compile_gas`] +
/// [`ACTIVATION_STATE_GAS`]. The data fee is paid in wei, see [`super::DataPricer`].
pub fn activation_gas(stats: &ModuleStats, params: &StylusParams) -> u64 {
    params
        .activation_gas
        .saturating_add(ACTIVATION_FIXED_GAS)
        .saturating_add(compile_gas(stats, params.arbos_version))
        .saturating_add(ACTIVATION_STATE_GAS)
}
