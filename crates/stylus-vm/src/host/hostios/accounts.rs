//! Other accounts: `account_balance`, `account_code`, `account_code_size` and
//! `account_codehash`, each priced as the EVM's EXT* opcodes.

use super::C;
use crate::activation::hostio::VM_HOOKS_MODULE as VM;
use crate::host::state::{Env, HostResult, HostState};
use crate::pricing::{self, self as evm, self as ink};
use alloy_primitives::Bytes;
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        VM,
        "account_balance",
        |mut c: C, address: i32, dest: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::ACCOUNT_BALANCE_BASE_INK)?;
            env.require_gas(evm::COLD_ACCOUNT_GAS)?;
            let address = env.read_address(address as u32)?;
            let (balance, gas) = env.api().balance(address);
            env.buy_gas(gas)?;
            env.write_slice(dest as u32, &balance.to_be_bytes::<32>())
        },
    )?;
    linker.func_wrap(
        VM,
        "account_code",
        |mut c: C, address: i32, offset: i32, size: i32, dest: i32| -> HostResult<i32> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::ACCOUNT_CODE_BASE_INK)?;
            let code = account_code(&mut env, address)?;
            env.buy_ink(pricing::write_price(code.len() as u32))?;
            let start = (offset as u32 as usize).min(code.len());
            let end = (offset as u32).saturating_add(size as u32) as usize;
            let out = &code[start..end.min(code.len())];
            env.write_slice(dest as u32, out)?;
            Ok(out.len() as i32)
        },
    )?;
    linker.func_wrap(
        VM,
        "account_code_size",
        |mut c: C, address: i32| -> HostResult<i32> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::ACCOUNT_CODE_SIZE_BASE_INK)?;
            Ok(account_code(&mut env, address)?.len() as i32)
        },
    )?;
    linker.func_wrap(
        VM,
        "account_codehash",
        |mut c: C, address: i32, dest: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::ACCOUNT_CODE_HASH_BASE_INK)?;
            env.require_gas(evm::COLD_ACCOUNT_GAS)?;
            let address = env.read_address(address as u32)?;
            let (hash, gas) = env.api().codehash(address);
            env.buy_gas(gas)?;
            env.write_slice(dest as u32, hash.as_slice())
        },
    )?;
    Ok(())
}

/// EXTCODE* as nitro: the last code read is remembered, so asking again is free.
fn account_code(env: &mut Env, address: i32) -> HostResult<Bytes> {
    env.require_gas(evm::COLD_ACCOUNT_GAS)?;
    let address = env.read_address(address as u32)?;
    if let Some((last, code)) = &env.state().last_code {
        if *last == address {
            return Ok(code.clone());
        }
    }
    let gas = env.gas_left()?;
    let (code, cost) = env.api().code(address, gas);
    env.buy_gas(cost)?;
    if !code.is_empty() {
        env.state().last_code = Some((address, code.clone()));
    }
    Ok(code)
}
