//! The activation data fee (nitro `arbos/programs/data_pricer.go`): a price per byte of
//! predicted native code that rises exponentially with recent demand and decays as time
//! passes, paid in wei with `activateProgram`'s value.

use alloy_primitives::U256;

/// Unix time nitro counts from ("the day it all began").
pub const ARBITRUM_START_TIME: u64 = 1_421_388_000;

/// Basis points in one.
const ONE_IN_BIPS: u64 = 10_000;

/// Nitro's data pricer state, stored in ArbOS under the programs' data-pricer key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPricer {
    /// Bytes of recent demand not yet drained.
    pub demand: u32,
    /// Bytes of demand drained per second (1 TiB a year).
    pub bytes_per_second: u32,
    /// Time of the last update, Unix seconds.
    pub last_update_time: u64,
    /// Wei per byte at zero demand (5 MB ≈ $1).
    pub min_price: u32,
    /// Demand, in bytes, that multiplies the price by e.
    pub inertia: u32,
}

impl Default for DataPricer {
    /// Nitro's initial values (`initDataPricer`).
    fn default() -> Self {
        let hourly_bytes = (1u64 << 40) / (365 * 24);
        Self {
            demand: 0,
            bytes_per_second: (hourly_bytes / (60 * 60)) as u32,
            last_update_time: ARBITRUM_START_TIME,
            min_price: 82_928_201,
            inertia: 21_360_419,
        }
    }
}

impl DataPricer {
    /// Adds `temp_bytes` of demand at Unix `time` and returns the fee for them in wei
    /// (`UpdateModel`). Activation passes the asm estimate; `codehashKeepalive` passes the
    /// stored size, [`asm_size`] of [`asm_estimate_kb`].
    pub fn update(&mut self, temp_bytes: u32, time: u64) -> U256 {
        // Nitro subtracts in u64 without a check: a time before the last update wraps to a
        // huge interval, which drains all demand.
        let passed = u32::try_from(time.wrapping_sub(self.last_update_time)).unwrap_or(u32::MAX);
        let credit = self.bytes_per_second.saturating_mul(passed);
        self.demand = self
            .demand
            .saturating_sub(credit)
            .saturating_add(temp_bytes);
        self.last_update_time = time;

        // A zero inertia would divide by zero in nitro; treat it as 1.
        let exponent = ONE_IN_BIPS * u64::from(self.demand) / u64::from(self.inertia.max(1));
        let multiplier = approx_exp_bips(exponent, 12);
        let cost_per_byte = u64::from(self.min_price).saturating_mul(multiplier) / ONE_IN_BIPS;
        U256::from(cost_per_byte.saturating_mul(u64::from(temp_bytes)))
    }
}

/// The asm estimate in KiB, rounded up, as nitro stores it (a u24); `None` above 2^24 − 1.
pub fn asm_estimate_kb(asm_estimate: u32) -> Option<u32> {
    let kb = asm_estimate.div_ceil(1024);
    (kb < 1 << 24).then_some(kb)
}

/// Bytes the stored KiB count stands for (`Program.asmSize`), used by `codehashKeepalive`
/// and `programAsmSize`.
pub fn asm_size(asm_estimate_kb: u32) -> u32 {
    asm_estimate_kb.saturating_mul(1024)
}

/// `b·e^(x/b)` for `x` in basis points with a Horner-evaluated Maclaurin series of
/// `accuracy` terms (arbmath `ApproxExpBasisPoints`, non-negative inputs), saturating at
/// `i64::MAX` as nitro's cast to Bips does.
fn approx_exp_bips(x: u64, accuracy: u64) -> u64 {
    let b = ONE_IN_BIPS;
    let mut res = b + x / accuracy;
    for i in (1..accuracy).rev() {
        res = b + res.saturating_mul(x) / (i * b);
    }
    res.min(i64::MAX as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_values() {
        let p = DataPricer::default();
        assert_eq!(p.bytes_per_second, 34_865);
        assert_eq!(p.last_update_time, 1_421_388_000);
    }

    #[test]
    fn exp_approximation() {
        assert_eq!(approx_exp_bips(0, 12), 10_000);
        // e ≈ 2.71828
        assert_eq!(approx_exp_bips(10_000, 12), 27_182);
    }

    #[test]
    fn first_fee_is_the_minimum_price_for_small_programs() {
        let mut p = DataPricer::default();
        let now = 1_700_000_000;
        // Demand = 600,000 bytes: exponent 10000 × 600000 / 21360419 = 280 bips.
        let fee = p.update(600_000, now);
        let multiplier = approx_exp_bips(280, 12);
        assert_eq!(multiplier, 10_283);
        let per_byte = 82_928_201u64 * multiplier / 10_000;
        assert_eq!(fee, U256::from(per_byte * 600_000));
        assert_eq!(p.demand, 600_000);
        assert_eq!(p.last_update_time, now);
        // Ten seconds later 348,650 bytes have drained.
        p.update(0, now + 10);
        assert_eq!(p.demand, 600_000 - 348_650);
    }

    #[test]
    fn asm_sizes() {
        assert_eq!(asm_estimate_kb(1), Some(1));
        assert_eq!(asm_estimate_kb(1024), Some(1));
        assert_eq!(asm_estimate_kb(1025), Some(2));
        assert_eq!(asm_size(2), 2048);
    }
}
