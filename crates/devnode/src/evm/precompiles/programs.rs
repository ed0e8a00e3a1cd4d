//! ArbOS's program records (nitro `arbos/programs/programs.go`): one storage word per code
//! hash in ArbWasm's account, whether a program may run now, and what starting it costs.
//! ArbWasm writes the records, ArbWasmCache flips their cached bit, and every Stylus call
//! reads them.
//!
//! The records live in ArbWasm's own account storage, so they are journaled, reverted and
//! persisted like any other state.

use super::addresses::ARB_WASM;
use crate::evm::context::StylusContext;
use alloy_primitives::{keccak256, B256, U256};
use revm::context_interface::{ContextTr, JournalTr};
use revm::database_interface::Database;
use stylus_vm::activation::ARBITRUM_START_TIME;
use stylus_vm::params::StylusParams;

const HOUR_SECS: u64 = 3_600;
const DAY_SECS: u64 = 86_400;

/// An activation as recorded in ArbWasm's storage (one word per code hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProgramInfo {
    /// The Stylus version it was activated for: a call under another one fails
    /// with `ProgramNeedsUpgrade`.
    pub version: u16,
    /// nitro's `initCost`: scaled by the chain's parameters into the gas an
    /// uncached call pays to start the program.
    pub init_cost: u16,
    /// nitro's `cachedCost`: scaled into the gas every call pays, cached or not.
    pub cached_init_cost: u16,
    /// WASM pages the program opens at start, charged under the memory model.
    pub footprint: u16,
    /// Estimated size of its native code in KiB (ArbWasm's `codehashAsmSize`),
    /// on which keepalive's data fee is charged.
    pub asm_estimate_kb: u32,
    /// Hours since [`ARBITRUM_START_TIME`], as nitro counts activation times.
    pub activated_at: u64,
    /// In ArbOS's program cache (ArbWasmCache.cacheProgram): calls pay the cached
    /// init gas only.
    pub cached: bool,
}

impl ProgramInfo {
    /// Packs into one storage word; zero means "not activated" (version is never 0).
    pub fn to_word(self) -> U256 {
        let mut w = [0u8; 32];
        w[0..2].copy_from_slice(&self.version.to_be_bytes());
        w[2..4].copy_from_slice(&self.init_cost.to_be_bytes());
        w[4..6].copy_from_slice(&self.cached_init_cost.to_be_bytes());
        w[6..8].copy_from_slice(&self.footprint.to_be_bytes());
        w[8..12].copy_from_slice(&self.asm_estimate_kb.to_be_bytes());
        w[12..20].copy_from_slice(&self.activated_at.to_be_bytes());
        w[20] = u8::from(self.cached);
        U256::from_be_bytes(w)
    }

    /// Unpacks a storage word; `None` for zero, a code hash never activated.
    pub fn from_word(word: U256) -> Option<Self> {
        if word.is_zero() {
            return None;
        }
        let w = word.to_be_bytes::<32>();
        let u16_at = |i: usize| u16::from_be_bytes([w[i], w[i + 1]]);
        Some(Self {
            version: u16_at(0),
            init_cost: u16_at(2),
            cached_init_cost: u16_at(4),
            footprint: u16_at(6),
            asm_estimate_kb: u32::from_be_bytes(w[8..12].try_into().expect("4 bytes")),
            activated_at: u64::from_be_bytes(w[12..20].try_into().expect("8 bytes")),
            cached: w[20] != 0,
        })
    }

    /// Seconds since the (last) activation at `now`.
    pub(crate) fn age_secs(&self, now: u64) -> u64 {
        now.saturating_sub(ARBITRUM_START_TIME + self.activated_at * HOUR_SECS)
    }

    /// nitro `Program.initGas`: paid when the program is not cached.
    pub(crate) fn init_gas(&self, params: &StylusParams) -> u64 {
        params.init_gas(self.init_cost)
    }

    /// nitro `Program.cachedGas`: paid on every call from version 2 on.
    pub(crate) fn cached_gas(&self, params: &StylusParams) -> u64 {
        params.cached_gas(self.cached_init_cost)
    }
}

/// Why [`active_program`] found no program that may run: nitro's program errors, which
/// ArbWasm's custom errors of the same names report (see `arb_wasm`), or a failed read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProgramError<E> {
    /// `ProgramNotActivated()`: no record for the code hash.
    NotActivated,
    /// `ProgramNeedsUpgrade(version, stylusVersion)`: activated for another Stylus version.
    NeedsUpgrade { version: u16, stylus_version: u16 },
    /// `ProgramExpired(ageInSeconds)`: activated longer ago than the expiry.
    Expired { age_secs: u64 },
    /// The state database failed while reading the record.
    Db(E),
}

impl<E> From<E> for ProgramError<E> {
    fn from(e: E) -> Self {
        Self::Db(e)
    }
}

/// The activation of `codehash` if it can run now (nitro `getActiveProgram`).
pub(crate) fn active_program<DB: Database>(
    ctx: &mut StylusContext<DB>,
    codehash: B256,
    now: u64,
    params: &StylusParams,
) -> Result<ProgramInfo, ProgramError<DB::Error>> {
    let Some(info) = ProgramInfo::from_word(read_word(ctx, program_slot(codehash))?) else {
        return Err(ProgramError::NotActivated);
    };
    if info.version != params.version {
        return Err(ProgramError::NeedsUpgrade {
            version: info.version,
            stylus_version: params.version,
        });
    }
    let age = info.age_secs(now);
    if age > days(params.expiry_days) {
        return Err(ProgramError::Expired { age_secs: age });
    }
    Ok(info)
}

/// nitro's "hours since Arbitrum began", what [`ProgramInfo::activated_at`] holds.
pub(crate) fn hours_since_arbitrum(now: u64) -> u64 {
    now.saturating_sub(ARBITRUM_START_TIME) / HOUR_SECS
}

/// `n` days in seconds (the expiry and keepalive parameters count days).
pub(crate) fn days(n: u16) -> u64 {
    u64::from(n) * DAY_SECS
}

/// The storage slot, in ArbWasm's account, of the record of `codehash`.
pub(crate) fn program_slot(codehash: B256) -> U256 {
    U256::from_be_bytes(
        keccak256([b"careledger.program".as_slice(), codehash.as_slice()].concat()).0,
    )
}

/// Reads a word of ArbWasm's storage.
pub(crate) fn read_word<DB: Database>(
    ctx: &mut StylusContext<DB>,
    slot: U256,
) -> Result<U256, DB::Error> {
    ctx.journal_mut().load_account(ARB_WASM)?;
    Ok(ctx.journal_mut().sload(ARB_WASM, slot)?.data)
}

/// Writes a word of ArbWasm's storage (journaled: a revert undoes it).
pub(crate) fn write_word<DB: Database>(
    ctx: &mut StylusContext<DB>,
    slot: U256,
    value: U256,
) -> Result<(), DB::Error> {
    ctx.journal_mut().load_account(ARB_WASM)?;
    ctx.journal_mut().touch_account(ARB_WASM);
    ctx.journal_mut().sstore(ARB_WASM, slot, value)?;
    Ok(())
}
