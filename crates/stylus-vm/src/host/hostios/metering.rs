//! Gas, ink and memory: `evm_gas_left`, `evm_ink_left` and `pay_for_memory_grow` (which the
//! heap-bound instrumentation calls before every `memory.grow`).

use super::C;
use crate::activation::hostio::{PAY_FOR_MEMORY_GROW, VM_HOOKS_MODULE as VM};
use crate::host::state::{Env, HostResult, HostState};
use crate::pricing as ink;
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(VM, "evm_gas_left", |mut c: C| -> HostResult<i64> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::EVM_GAS_LEFT_BASE_INK)?;
        Ok(env.gas_left()? as i64)
    })?;
    linker.func_wrap(VM, "evm_ink_left", |mut c: C| -> HostResult<i64> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::EVM_INK_LEFT_BASE_INK)?;
        Ok(env.ink_left()? as i64)
    })?;
    linker.func_wrap(
        VM,
        PAY_FOR_MEMORY_GROW,
        |mut c: C, pages: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            let pages = pages as u32 as u16;
            if pages == 0 {
                return env.buy_ink(ink::PAY_FOR_MEMORY_GROW_BASE_INK);
            }
            // The EVM prices pages with the transaction's memory model.
            let gas = env.api().add_pages(pages);
            env.buy_gas(gas)
        },
    )?;
    Ok(())
}
