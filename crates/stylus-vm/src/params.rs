//! Stylus chain parameters (nitro `arbos/programs/params.go`), the memory model that prices
//! pages (`arbos/programs/memory.go`) and the per-call init gas (`programs.go`).

/// Stylus parameters of a chain, with the values a fresh nitro chain has at
/// [`StylusParams::LATEST_ARBOS_VERSION`] (`initStylusParams` followed by the ArbOS upgrades
/// in `arbos/arbosState/arbosstate.go`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StylusParams {
    /// ArbOS version whose Stylus rules apply (nitro: `StylusParams.arbosVersion`, not
    /// stored). From 60 on, multi-value WASM is rejected at activation
    /// (`ARBOS_VERSION_STYLUS_NO_MULTI_VALUE`, arbutil `evm/mod.rs`).
    pub arbos_version: u64,
    /// Stylus version (`Version`): 1 at ArbOS 30, 2 from ArbOS 31 (`UpgradeToVersion(2)`).
    /// Selects nitro's compile config (`CompileConfig::version`); 1 and 2 instrument alike, but
    /// in version 1 the cached init cost is part of the init cost.
    pub version: u16,
    /// Ink bought by one gas (`InkPrice`, `initialInkPrice` = 10,000).
    pub ink_price: u32,
    /// Stack depth limit handed to `stylus_stack_left` per call (`MaxStackDepth`):
    /// `initialStackDepth` = 4 × 65,536 words, capped at 22,000 by the ArbOS 50 upgrade.
    pub max_stack_depth: u32,
    /// Pages a transaction gets for free (`FreePages`, `InitialFreePages` = 2).
    pub free_pages: u16,
    /// Linear gas per page beyond the free ones (`PageGas`, `InitialPageGas` = 1,000).
    pub page_gas: u16,
    /// Ramp of the exponential page cost (`PageRamp`, `initialPageRamp` = 620,674,314; not
    /// stored, reported by `ArbWasm.pageRamp`; the exponent table of [`MemoryModel`] bakes it in).
    pub page_ramp: u64,
    /// Most pages a program may start with (`PageLimit`, `initialPageLimit` = 128).
    pub page_limit: u16,
    /// Minimum init gas in units of 128 gas (`MinInitGas`: `initialMinInitGas` = 72 in
    /// version 1, `v2MinInitGas` = 69 from version 2).
    pub min_init_gas: u8,
    /// Minimum cached init gas in units of 32 gas (`MinCachedInitGas`, `initialMinCachedGas` = 11).
    pub min_cached_init_gas: u8,
    /// Init cost scalar in 2% units (`InitCostScalar`, `initialInitCostScalar` = 50, i.e. 100%).
    pub init_cost_scalar: u8,
    /// Cached init cost scalar in 2% units (`CachedCostScalar`, `initialCachedCostScalar` = 50).
    pub cached_cost_scalar: u8,
    /// Days until an activation expires (`ExpiryDays`, `initialExpiryDays` = 365).
    pub expiry_days: u16,
    /// Days before a keepalive is allowed (`KeepaliveDays`, `initialKeepaliveDays` = 31).
    pub keepalive_days: u16,
    /// Recently used programs that count as cached (`BlockCacheSize`, `initialRecentCacheSize` = 32).
    pub block_cache_size: u16,
    /// Largest decompressed WASM (`MaxWasmSize`, `initialMaxWasmSize` = 128 KiB, a parameter
    /// from ArbOS 40).
    pub max_wasm_size: u32,
    /// Most fragments of a fragmented program (`MaxFragmentCount`, `initialMaxFragmentCount`
    /// = 2 from ArbOS 60). This devnode does not run fragmented programs.
    pub max_fragment_count: u8,
    /// Extra gas `ArbWasm.activateProgram` burns up front (`Programs.ActivationGas`, storage
    /// key 5, default 0; `activationGas()` reports it).
    pub activation_gas: u64,
}

impl StylusParams {
    /// Latest ArbOS version that changes Stylus rules in nitro's sources (60: fragments and no
    /// multi-value). ArbOS 61 changes none of them.
    pub const LATEST_ARBOS_VERSION: u64 = 60;

    /// The parameters of a fresh chain at `arbos_version` (30 or later), following nitro's
    /// upgrade path: version 2 at 31, `max_wasm_size` stored at 40, the stack cap at 50,
    /// fragments at 60.
    pub fn for_arbos(arbos_version: u64) -> Self {
        let version_2 = arbos_version >= 31;
        Self {
            arbos_version,
            version: if version_2 { 2 } else { 1 },
            ink_price: 10_000,
            max_stack_depth: if arbos_version >= 50 {
                22_000
            } else {
                4 * 65_536
            },
            free_pages: 2,
            page_gas: 1_000,
            page_ramp: 620_674_314,
            page_limit: 128,
            min_init_gas: if version_2 { 69 } else { 72 },
            min_cached_init_gas: 11,
            init_cost_scalar: 50,
            cached_cost_scalar: 50,
            expiry_days: 365,
            keepalive_days: 31,
            block_cache_size: 32,
            max_wasm_size: 128 * 1024,
            max_fragment_count: if arbos_version >= 60 { 2 } else { 0 },
            activation_gas: 0,
        }
    }

    /// The memory model that prices pages with these parameters.
    pub fn memory_model(&self) -> MemoryModel {
        MemoryModel {
            free_pages: self.free_pages,
            page_gas: self.page_gas,
        }
    }

    /// Gas for starting a program that is not cached (`Program.initGas`, programs.go):
    /// `min_init_gas × 128 + ⌈init_cost × scalar × 2 / 100⌉`.
    pub fn init_gas(&self, init_cost: u16) -> u64 {
        let base = u64::from(self.min_init_gas) * 128;
        let dyno = u64::from(init_cost).saturating_mul(u64::from(self.init_cost_scalar) * 2);
        base.saturating_add(dyno.div_ceil(100))
    }

    /// Gas for starting a cached program (`Program.cachedGas`, programs.go):
    /// `min_cached_init_gas × 32 + ⌈cached_init_cost × scalar × 2 / 100⌉`.
    pub fn cached_gas(&self, cached_init_cost: u16) -> u64 {
        let base = u64::from(self.min_cached_init_gas) * 32;
        let dyno =
            u64::from(cached_init_cost).saturating_mul(u64::from(self.cached_cost_scalar) * 2);
        base.saturating_add(dyno.div_ceil(100))
    }

    /// Init gas `CallProgram` burns before running a program activated at `program_version`
    /// (memory for the footprint is charged separately through [`MemoryModel::gas_cost`]):
    /// the cached cost when the program is cached or its version is above 1, plus the
    /// uncached init cost when it is not cached.
    pub fn call_init_gas(
        &self,
        program_version: u16,
        init_cost: u16,
        cached_init_cost: u16,
        cached: bool,
    ) -> u64 {
        let mut gas = 0u64;
        if cached || program_version > 1 {
            gas = gas.saturating_add(self.cached_gas(cached_init_cost));
        }
        if !cached {
            gas = gas.saturating_add(self.init_gas(init_cost));
        }
        gas
    }

    /// What `ArbWasm.programInitGas` reports: `(init gas, cached gas)`, where the init gas
    /// includes the cached gas from version 2 on (`Programs.ProgramInitGas`).
    pub fn program_init_gas(&self, init_cost: u16, cached_init_cost: u16) -> (u64, u64) {
        let cached = self.cached_gas(cached_init_cost);
        let mut init = self.init_gas(init_cost);
        if self.version > 1 {
            init = init.saturating_add(cached);
        }
        (init, cached)
    }
}

impl Default for StylusParams {
    /// A fresh chain at [`StylusParams::LATEST_ARBOS_VERSION`].
    fn default() -> Self {
        Self::for_arbos(Self::LATEST_ARBOS_VERSION)
    }
}

/// Nitro's price of WASM pages (`MemoryModel`, arbos/programs/memory.go and
/// prover `programs/memory.rs`): free up to `free_pages`, then linear plus exponential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryModel {
    /// Pages a transaction gets for free.
    pub free_pages: u16,
    /// Linear gas per page beyond the free ones.
    pub page_gas: u16,
}

impl MemoryModel {
    /// Gas to open `new` pages when `open` are open now and `ever` were open at once during
    /// the transaction (`GasCost(new, open, ever)`). Saturates at `u64::MAX` beyond 128 pages.
    /// Used at call time for the footprint and by the `pay_for_memory_grow` hostio.
    pub fn gas_cost(&self, new: u16, open: u16, ever: u16) -> u64 {
        let new_open = open.saturating_add(new);
        let new_ever = ever.max(new_open);
        if new_ever <= self.free_pages {
            return 0;
        }
        let beyond_free = |pages: u16| pages.saturating_sub(self.free_pages);
        let adding = beyond_free(new_open).saturating_sub(beyond_free(open));
        let linear = u64::from(adding).saturating_mul(u64::from(self.page_gas));
        let expand = Self::exp(new_ever).wrapping_sub(Self::exp(ever));
        linear.saturating_add(expand)
    }

    /// The exponential part for `pages` open at once; `u64::MAX` beyond the table.
    fn exp(pages: u16) -> u64 {
        MEMORY_EXPONENTS
            .get(usize::from(pages))
            .map_or(u64::MAX, |&x| u64::from(x))
    }
}

/// `b^pages` rounded down, with `b = e^(ln(31,874,000) / 128)`: 8 MiB (128 pages) costs
/// about 32 M gas beyond the linear term. nitro's `memoryExponents` table.
const MEMORY_EXPONENTS: [u32; 129] = [
    1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 11, 12, 14, 17, 19, 22, 25, 29, 33, 38,
    43, 50, 57, 65, 75, 85, 98, 112, 128, 147, 168, 193, 221, 253, 289, 331, 379, 434, 497, 569,
    651, 745, 853, 976, 1117, 1279, 1463, 1675, 1917, 2194, 2511, 2874, 3290, 3765, 4309, 4932,
    5645, 6461, 7395, 8464, 9687, 11087, 12689, 14523, 16621, 19024, 21773, 24919, 28521, 32642,
    37359, 42758, 48938, 56010, 64104, 73368, 83971, 96106, 109994, 125890, 144082, 164904, 188735,
    216010, 247226, 282953, 323844, 370643, 424206, 485509, 555672, 635973, 727880, 833067, 953456,
    1091243, 1248941, 1429429, 1636000, 1872423, 2143012, 2452704, 2807151, 3212820, 3677113,
    4208502, 4816684, 5512756, 6309419, 7221210, 8264766, 9459129, 10826093, 12390601, 14181199,
    16230562, 18576084, 21260563, 24332984, 27849408, 31873999,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_upgrade_path() {
        let p = StylusParams::default();
        assert_eq!(p.arbos_version, 60);
        assert_eq!(
            (p.version, p.ink_price, p.max_stack_depth),
            (2, 10_000, 22_000)
        );
        assert_eq!((p.free_pages, p.page_gas, p.page_limit), (2, 1_000, 128));
        assert_eq!((p.min_init_gas, p.min_cached_init_gas), (69, 11));
        assert_eq!((p.init_cost_scalar, p.cached_cost_scalar), (50, 50));
        assert_eq!(
            (p.expiry_days, p.keepalive_days, p.block_cache_size),
            (365, 31, 32)
        );
        assert_eq!((p.max_wasm_size, p.max_fragment_count), (131_072, 2));
        let old = StylusParams::for_arbos(40);
        assert_eq!((old.max_stack_depth, old.max_fragment_count), (262_144, 0));
        assert_eq!(StylusParams::for_arbos(30).min_init_gas, 72);
    }

    #[test]
    fn exponent_table_matches_its_formula() {
        let base = f64::exp(31_874_000_f64.ln() / 128.);
        for pages in 0..129u16 {
            assert_eq!(base.powi(pages.into()) as u64, MemoryModel::exp(pages));
        }
        assert_eq!(MemoryModel::exp(129), u64::MAX);
    }

    #[test]
    fn memory_model_matches_nitro() {
        let model = MemoryModel {
            free_pages: 2,
            page_gas: 1000,
        };
        // Growing to 128 pages in any step size costs the same (nitro's test_model).
        for jump in 1..=128u16 {
            let (mut total, mut pages) = (0u64, 0u16);
            while pages < 128 {
                let jump = jump.min(128 - pages);
                total += model.gas_cost(jump, pages, pages);
                pages += jump;
            }
            assert_eq!(total, 31_999_998);
        }
        assert_eq!(model.gas_cost(2, 0, 0), 0);
        assert_eq!(model.gas_cost(1, 2, 2), 1000);
        assert_eq!(model.gas_cost(129, 0, 0), u64::MAX);
        assert_eq!(model.gas_cost(u16::MAX, 0, 0), u64::MAX);
        let free = MemoryModel {
            free_pages: 128,
            page_gas: 1000,
        };
        assert_eq!(free.gas_cost(128, 0, 128), 0);
    }

    #[test]
    fn init_gas_formulas() {
        let p = StylusParams::default();
        // 69 × 128 + ⌈100 × 100 / 100⌉
        assert_eq!(p.init_gas(100), 8832 + 100);
        // 11 × 32 + ⌈3 × 100 / 100⌉
        assert_eq!(p.cached_gas(3), 352 + 3);
        assert_eq!(p.call_init_gas(2, 100, 3, false), 8932 + 355);
        assert_eq!(p.call_init_gas(2, 100, 3, true), 355);
        assert_eq!(p.call_init_gas(1, 100, 3, false), 8932);
        assert_eq!(p.program_init_gas(100, 3), (8932 + 355, 355));
        let halved = StylusParams {
            init_cost_scalar: 25,
            ..p
        };
        // ⌈101 × 50 / 100⌉ = 51
        assert_eq!(halved.init_gas(101), 8832 + 51);
    }
}
