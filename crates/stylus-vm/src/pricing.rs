//! What hostios cost, in ink (nitro `arbutil/src/pricing.rs`, charged as in
//! `wasm-libraries/user-host-trait/lib.rs`), the EVM gas constants hostios buy
//! (`arbutil/src/evm/mod.rs`), and the ink ↔ gas conversion (prover `programs/config.rs`).
//!
//! Every hostio first buys its `*_BASE_INK`; hostios that move bytes also pay
//! [`read_price`] / [`write_price`]; EVM-priced work is bought as gas × ink price.

/// Base of every hostio that may return something.
pub const HOSTIO_INK: u64 = 8_400;
/// Extra for each pointer argument a hostio reads or writes through.
pub const PTR_INK: u64 = 13_440 - HOSTIO_INK;
/// Extra for hostios that ask the EVM something (a request across the EVM API).
pub const EVM_API_INK: u64 = 59_673;
/// Extra for `math_div` and `math_mod`.
pub const DIV_INK: u64 = 20_000;
/// Extra for `math_mul_mod`.
pub const MUL_MOD_INK: u64 = 24_100;
/// Extra for `math_add_mod`.
pub const ADD_MOD_INK: u64 = 21_000;

/// `read_args`; then [`write_price`] of the calldata length.
pub const READ_ARGS_BASE_INK: u64 = HOSTIO_INK;
/// `write_result`; then [`read_price`] of the length twice (once more "to geth").
pub const WRITE_RESULT_BASE_INK: u64 = HOSTIO_INK;
/// `storage_load_bytes32`; then requires [`COLD_SLOAD_GAS`] + [`STORAGE_CACHE_ACCESS_GAS`] +
/// `ink_to_gas(EVM_API_INK)` and buys the gas the EVM reports.
pub const STORAGE_LOAD_BASE_INK: u64 = HOSTIO_INK + 2 * PTR_INK;
/// `storage_cache_bytes32`; then requires [`SSTORE_SENTRY_GAS`] + [`STORAGE_CACHE_ACCESS_GAS`]
/// and buys the gas the cache reports.
pub const STORAGE_CACHE_BASE_INK: u64 = HOSTIO_INK + 2 * PTR_INK;
/// `storage_flush_cache`; then requires [`SSTORE_SENTRY_GAS`] and buys the SSTORE gas.
pub const STORAGE_FLUSH_BASE_INK: u64 = HOSTIO_INK + EVM_API_INK;
/// `transient_load_bytes32`; then buys [`TLOAD_GAS`].
pub const TRANSIENT_LOAD_BASE_INK: u64 = HOSTIO_INK + 2 * PTR_INK + EVM_API_INK;
/// `transient_store_bytes32`; then buys [`TSTORE_GAS`].
pub const TRANSIENT_STORE_BASE_INK: u64 = HOSTIO_INK + 2 * PTR_INK + EVM_API_INK;
/// `call_contract`, `delegate_call_contract`, `static_call_contract`; then [`read_price`]
/// of the calldata twice and the call's gas.
pub const CALL_CONTRACT_BASE_INK: u64 = HOSTIO_INK + 3 * PTR_INK + EVM_API_INK;
/// `create1`; then [`read_price`] of the init code twice and the create's gas.
pub const CREATE1_BASE_INK: u64 = HOSTIO_INK + 3 * PTR_INK + EVM_API_INK;
/// `create2`; then [`read_price`] of the init code twice and the create's gas.
pub const CREATE2_BASE_INK: u64 = HOSTIO_INK + 4 * PTR_INK + EVM_API_INK;
/// `read_return_data`; then [`write_price`] of `min(size, return_len - offset)`.
pub const READ_RETURN_DATA_BASE_INK: u64 = HOSTIO_INK + EVM_API_INK;
/// `return_data_size`.
pub const RETURN_DATA_SIZE_BASE_INK: u64 = HOSTIO_INK;
/// `emit_log`; then [`read_price`] of the data and [`evm_log_gas`] as gas.
pub const EMIT_LOG_BASE_INK: u64 = HOSTIO_INK + EVM_API_INK;
/// `account_balance`; then requires [`COLD_ACCOUNT_GAS`] and buys the access gas.
pub const ACCOUNT_BALANCE_BASE_INK: u64 = HOSTIO_INK + 2 * PTR_INK + EVM_API_INK;
/// `account_code`; then requires [`COLD_ACCOUNT_GAS`], buys the access gas and
/// [`write_price`] of the bytes written.
pub const ACCOUNT_CODE_BASE_INK: u64 = HOSTIO_INK + EVM_API_INK;
/// `account_code_size`; then requires [`COLD_ACCOUNT_GAS`] and buys the access gas.
pub const ACCOUNT_CODE_SIZE_BASE_INK: u64 = HOSTIO_INK + EVM_API_INK;
/// `account_codehash`; then requires [`COLD_ACCOUNT_GAS`] and buys the access gas.
pub const ACCOUNT_CODE_HASH_BASE_INK: u64 = HOSTIO_INK + 2 * PTR_INK + EVM_API_INK;
/// `block_basefee`.
pub const BLOCK_BASEFEE_BASE_INK: u64 = HOSTIO_INK + PTR_INK;
/// `block_coinbase`.
pub const BLOCK_COINBASE_BASE_INK: u64 = HOSTIO_INK + PTR_INK;
/// `block_gas_limit`.
pub const BLOCK_GAS_LIMIT_BASE_INK: u64 = HOSTIO_INK;
/// `block_number`.
pub const BLOCK_NUMBER_BASE_INK: u64 = HOSTIO_INK;
/// `block_timestamp`.
pub const BLOCK_TIMESTAMP_BASE_INK: u64 = HOSTIO_INK;
/// `chainid`.
pub const CHAIN_ID_BASE_INK: u64 = HOSTIO_INK;
/// `contract_address`.
pub const ADDRESS_BASE_INK: u64 = HOSTIO_INK + PTR_INK;
/// `evm_gas_left`.
pub const EVM_GAS_LEFT_BASE_INK: u64 = HOSTIO_INK;
/// `evm_ink_left`.
pub const EVM_INK_LEFT_BASE_INK: u64 = HOSTIO_INK;
/// `math_div`.
pub const MATH_DIV_BASE_INK: u64 = HOSTIO_INK + 3 * PTR_INK + DIV_INK;
/// `math_mod`.
pub const MATH_MOD_BASE_INK: u64 = HOSTIO_INK + 3 * PTR_INK + DIV_INK;
/// `math_pow`; then [`pow_price`] of the exponent.
pub const MATH_POW_BASE_INK: u64 = HOSTIO_INK + 3 * PTR_INK;
/// `math_add_mod`.
pub const MATH_ADD_MOD_BASE_INK: u64 = HOSTIO_INK + 4 * PTR_INK + ADD_MOD_INK;
/// `math_mul_mod`.
pub const MATH_MUL_MOD_BASE_INK: u64 = HOSTIO_INK + 4 * PTR_INK + MUL_MOD_INK;
/// `msg_reentrant`.
pub const MSG_REENTRANT_BASE_INK: u64 = HOSTIO_INK;
/// `msg_sender`.
pub const MSG_SENDER_BASE_INK: u64 = HOSTIO_INK + PTR_INK;
/// `msg_value`.
pub const MSG_VALUE_BASE_INK: u64 = HOSTIO_INK + PTR_INK;
/// `tx_gas_price`.
pub const TX_GAS_PRICE_BASE_INK: u64 = HOSTIO_INK + PTR_INK;
/// `tx_ink_price`.
pub const TX_INK_PRICE_BASE_INK: u64 = HOSTIO_INK;
/// `tx_origin`.
pub const TX_ORIGIN_BASE_INK: u64 = HOSTIO_INK + PTR_INK;
/// `pay_for_memory_grow(0)`; a non-zero grow instead buys [`crate::params::MemoryModel`] gas.
pub const PAY_FOR_MEMORY_GROW_BASE_INK: u64 = HOSTIO_INK;

/// EVM `SstoreSentryGasEIP2200`: gas `storage_cache_bytes32` and `storage_flush_cache` require.
pub const SSTORE_SENTRY_GAS: u64 = 2_300;
/// EVM `ColdAccountAccessCostEIP2929`: gas the `account_*` hostios require.
pub const COLD_ACCOUNT_GAS: u64 = 2_600;
/// EVM `ColdSloadCostEIP2929`: part of what `storage_load_bytes32` requires.
pub const COLD_SLOAD_GAS: u64 = 2_100;
/// EVM `WarmStorageReadCostEIP2929`: a warm SLOAD (and a storage-cache hit).
pub const WARM_SLOAD_GAS: u64 = 100;
/// Gas `transient_load_bytes32` buys (TLOAD).
pub const TLOAD_GAS: u64 = WARM_SLOAD_GAS;
/// Gas `transient_store_bytes32` buys (TSTORE).
pub const TSTORE_GAS: u64 = WARM_SLOAD_GAS;
/// `StorageCache::REQUIRED_ACCESS_GAS`: the storage hostios require it on top of the EVM price.
pub const STORAGE_CACHE_ACCESS_GAS: u64 = 10;
/// EVM `LogGas` / `LogTopicGas`: per log and per topic, for `emit_log`.
pub const LOG_TOPIC_GAS: u64 = 375;
/// EVM `LogDataGas`: per byte of log data, for `emit_log`.
pub const LOG_DATA_GAS: u64 = 8;

/// Ink to write `bytes` into the program's memory (`read_args`, `read_return_data`,
/// `account_code`): 5,040 covers the first 32 bytes, then 30 per byte.
pub fn write_price(bytes: u32) -> u64 {
    sat_add_mul(5_040, 30, bytes.saturating_sub(32))
}

/// Ink to read `bytes` out of the program's memory (`write_result`, the `*call_contract`
/// calldata, the `create*` init code, `emit_log`): 16,381 covers the first 32 bytes, then 55
/// per byte.
pub fn read_price(bytes: u32) -> u64 {
    sat_add_mul(16_381, 55, bytes.saturating_sub(32))
}

/// Ink for `native_keccak256` over `bytes` (its only charge): 121,800 covers two words,
/// then 21,000 per 32-byte word.
pub fn keccak_price(bytes: u32) -> u64 {
    let words = bytes.div_ceil(32).saturating_sub(2);
    sat_add_mul(121_800, 21_000, words)
}

/// Ink `math_pow` adds for a big-endian 32-byte `exponent`: 3,000 + 17,500 per significant
/// byte, plus 17,500 once.
pub fn pow_price(exponent: &[u8; 32]) -> u64 {
    let leading_zeros = exponent.iter().take_while(|&&b| b == 0).count() as u64;
    3_000 + (33 - leading_zeros) * 17_500
}

/// Gas `emit_log` buys for `topics` topics and `data_len` bytes of data (after the topics):
/// `(1 + topics) × 375 + data_len × 8`.
pub fn evm_log_gas(topics: u32, data_len: u32) -> u64 {
    let cost = (1 + u64::from(topics)) * LOG_TOPIC_GAS;
    cost.saturating_add(u64::from(data_len) * LOG_DATA_GAS)
}

/// Ink bought by `gas` at `ink_price` (saturating); every hostio's `buy_gas` and the
/// program's starting ink (`stylus_ink_left` = gas_to_ink(gas left)).
pub fn gas_to_ink(gas: u64, ink_price: u32) -> u64 {
    gas.saturating_mul(u64::from(ink_price))
}

/// Gas worth `ink` at `ink_price`, rounded down; the gas left after a program, and
/// `evm_gas_left`. `ink_price` is never 0 on nitro; 0 is treated as 1 here.
pub fn ink_to_gas(ink: u64, ink_price: u32) -> u64 {
    ink / u64::from(ink_price.max(1))
}

/// `base + per × count` saturating, as nitro's `sat_add_mul`.
fn sat_add_mul(base: u64, per: u64, count: u32) -> u64 {
    base.saturating_add(per.saturating_mul(u64::from(count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_nitro() {
        assert_eq!(PTR_INK, 5_040);
        assert_eq!(STORAGE_LOAD_BASE_INK, 18_480);
        assert_eq!(CALL_CONTRACT_BASE_INK, 8_400 + 15_120 + 59_673);
        assert_eq!(MATH_MUL_MOD_BASE_INK, 8_400 + 20_160 + 24_100);
    }

    #[test]
    fn io_prices() {
        assert_eq!(write_price(0), 5_040);
        assert_eq!(write_price(32), 5_040);
        assert_eq!(write_price(33), 5_070);
        assert_eq!(read_price(100), 16_381 + 55 * 68);
        assert_eq!(
            read_price(u32::MAX),
            16_381 + 55 * (u64::from(u32::MAX) - 32)
        );
        assert_eq!(keccak_price(0), 121_800);
        assert_eq!(keccak_price(64), 121_800);
        assert_eq!(keccak_price(65), 142_800);
        let mut exp = [0u8; 32];
        assert_eq!(pow_price(&exp), 3_000 + 17_500);
        exp[31] = 2;
        assert_eq!(pow_price(&exp), 3_000 + 2 * 17_500);
        exp[0] = 1;
        assert_eq!(pow_price(&exp), 3_000 + 33 * 17_500);
        assert_eq!(evm_log_gas(2, 10), 3 * 375 + 80);
    }

    #[test]
    fn ink_and_gas() {
        assert_eq!(gas_to_ink(3, 10_000), 30_000);
        assert_eq!(gas_to_ink(u64::MAX, 10_000), u64::MAX);
        assert_eq!(ink_to_gas(29_999, 10_000), 2);
        assert_eq!(ink_to_gas(5, 0), 5);
    }
}
