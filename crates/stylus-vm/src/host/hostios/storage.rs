//! Storage through nitro's storage cache (`storage_load_bytes32`, `storage_cache_bytes32`,
//! `storage_flush_cache`), and transient storage (`transient_load_bytes32`,
//! `transient_store_bytes32`).

use super::C;
use crate::activation::hostio::VM_HOOKS_MODULE as VM;
use crate::evm_api::WriteError;
use crate::host::state::{escape, Env, Escape, HostResult, HostState};
use crate::pricing::{self, self as evm, self as ink};
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        VM,
        "storage_load_bytes32",
        |mut c: C, key: i32, dest: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::STORAGE_LOAD_BASE_INK)?;
            let api_gas = pricing::EVM_API_INK / env.state().ink_price;
            env.require_gas(evm::COLD_SLOAD_GAS + evm::STORAGE_CACHE_ACCESS_GAS + api_gas)?;
            let key = env.read_b32(key as u32)?;
            let mut cost = env.state().cache.read_gas();
            let value = match env.state().cache.get(&key) {
                Some(value) => value,
                None => {
                    let (value, gas) = env.api().sload(key);
                    cost = cost.saturating_add(gas).saturating_add(api_gas);
                    env.state().cache.insert_known(key, value);
                    value
                }
            };
            env.buy_gas(cost)?;
            env.write_slice(dest as u32, value.as_slice())
        },
    )?;
    linker.func_wrap(
        VM,
        "storage_cache_bytes32",
        |mut c: C, key: i32, value: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::STORAGE_CACHE_BASE_INK)?;
            env.require_gas(evm::SSTORE_SENTRY_GAS + evm::STORAGE_CACHE_ACCESS_GAS)?;
            let key = env.read_b32(key as u32)?;
            let value = env.read_b32(value as u32)?;
            let cost = env.state().cache.write_gas();
            env.state().cache.write(key, value);
            env.buy_gas(cost)
        },
    )?;
    linker.func_wrap(
        VM,
        "storage_flush_cache",
        |mut c: C, clear: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::STORAGE_FLUSH_BASE_INK)?;
            env.require_gas(evm::SSTORE_SENTRY_GAS)?;
            let mut gas_left = env.gas_left()? + 1;
            let dirty = env.state().cache.take_dirty();
            if clear != 0 {
                env.state().cache.clear();
            }
            let mut spent = 0u64;
            for (key, value) in dirty {
                match env.api().sstore(key, value, gas_left) {
                    Ok(cost) if cost <= gas_left => {
                        gas_left -= cost;
                        spent = spent.saturating_add(cost);
                    }
                    Ok(_) | Err(WriteError::OutOfGas) => {
                        return Err(escape(Escape::OutOfInk));
                    }
                    Err(WriteError::WriteProtection) => {
                        return Err(escape(Escape::Failure("write protection".into())));
                    }
                }
            }
            env.buy_gas(spent)
        },
    )?;
    linker.func_wrap(
        VM,
        "transient_load_bytes32",
        |mut c: C, key: i32, dest: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::TRANSIENT_LOAD_BASE_INK)?;
            env.buy_gas(evm::TLOAD_GAS)?;
            let key = env.read_b32(key as u32)?;
            let value = env.api().tload(key);
            env.write_slice(dest as u32, value.as_slice())
        },
    )?;
    linker.func_wrap(
        VM,
        "transient_store_bytes32",
        |mut c: C, key: i32, value: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::TRANSIENT_STORE_BASE_INK)?;
            env.buy_gas(evm::TSTORE_GAS)?;
            let key = env.read_b32(key as u32)?;
            let value = env.read_b32(value as u32)?;
            env.api()
                .tstore(key, value)
                .map_err(|_| escape(Escape::Failure("write protection".into())))
        },
    )?;
    Ok(())
}
