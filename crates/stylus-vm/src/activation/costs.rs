//! Nitro's predictions of what running a program costs, computed at activation (prover
//! `binary.rs`, end of `WasmBinary::instrument`). Exact formulas, integer division per term.

use super::ModuleStats;
use crate::Error;

/// Init cost, cached init cost and asm estimate of a module.
pub(crate) struct Costs {
    /// Init cost units (`StylusData::init_cost`).
    pub init: u16,
    /// Cached init cost units (`StylusData::cached_init_cost`).
    pub cached_init: u16,
    /// Predicted native code size in bytes (`StylusData::asm_estimate`).
    pub asm_estimate: u32,
}

/// Costs of a module with `stats`, activated at Stylus `version`.
pub(crate) fn estimate(stats: &ModuleStats, version: u16) -> Result<Costs, Error> {
    let funcs = stats.functions;
    let type_len = stats.type_len;
    let wasm_len = stats.wasm_len;
    let globals = stats.globals;
    let data_len = stats.data_segment_bytes.saturating_add(stats.element_bytes);
    let footprint = stats.memory_pages;

    let mut asm_estimate: u64 = 512_000;
    asm_estimate = asm_estimate.saturating_add(funcs.saturating_mul(996_829) / 1_000);
    asm_estimate = asm_estimate.saturating_add(type_len.saturating_mul(11_416) / 1_000);
    asm_estimate = asm_estimate.saturating_add(wasm_len.saturating_mul(62_628) / 10_000);

    let mut cached: u64 = 0;
    cached = cached.saturating_add(funcs.saturating_mul(13_420) / 100_000);
    cached = cached.saturating_add(type_len.saturating_mul(89) / 100_000);
    cached = cached.saturating_add(wasm_len.saturating_mul(122) / 100_000);
    cached = cached.saturating_add(globals.saturating_mul(1_628) / 1_000);
    cached = cached.saturating_add(data_len.saturating_mul(75_244) / 100_000);
    cached = cached.saturating_add(footprint.saturating_mul(5));

    // In version 1 the cached cost is part of the init cost.
    let mut init: u64 = if version == 1 { cached } else { 0 };
    init = init.saturating_add(funcs.saturating_mul(8_252) / 1_000);
    init = init.saturating_add(type_len.saturating_mul(1_059) / 1_000);
    init = init.saturating_add(wasm_len.saturating_mul(1_286) / 10_000);

    Ok(Costs {
        init: init
            .try_into()
            .map_err(|_| Error::CostOverflow("init cost"))?,
        cached_init: cached
            .try_into()
            .map_err(|_| Error::CostOverflow("cached cost"))?,
        asm_estimate: asm_estimate
            .try_into()
            .map_err(|_| Error::CostOverflow("asm estimate"))?,
    })
}
