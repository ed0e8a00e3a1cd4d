//! Calls and creations (`call_contract`, `delegate_call_contract`, `static_call_contract`,
//! `create1`, `create2`), and the data the last of them returned (`read_return_data`,
//! `return_data_size`).

use super::C;
use crate::activation::hostio::VM_HOOKS_MODULE as VM;
use crate::evm_api::CallKind;
use crate::host::state::{escape, Env, Escape, HostResult, HostState};
use crate::pricing::{self, self as ink};
use alloy_primitives::U256;
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        VM,
        "call_contract",
        |mut c: C,
         to: i32,
         data: i32,
         len: i32,
         value: i32,
         gas: i64,
         ret_len: i32|
         -> HostResult<i32> {
            let value = Env::new(&mut c).read_b32(value as u32)?;
            call(
                &mut c,
                CallKind::Call,
                to,
                data,
                len,
                U256::from_be_bytes(value.0),
                gas,
                ret_len,
            )
        },
    )?;
    linker.func_wrap(
        VM,
        "delegate_call_contract",
        |mut c: C, to: i32, data: i32, len: i32, gas: i64, ret_len: i32| -> HostResult<i32> {
            call(
                &mut c,
                CallKind::DelegateCall,
                to,
                data,
                len,
                U256::ZERO,
                gas,
                ret_len,
            )
        },
    )?;
    linker.func_wrap(
        VM,
        "static_call_contract",
        |mut c: C, to: i32, data: i32, len: i32, gas: i64, ret_len: i32| -> HostResult<i32> {
            call(
                &mut c,
                CallKind::StaticCall,
                to,
                data,
                len,
                U256::ZERO,
                gas,
                ret_len,
            )
        },
    )?;
    linker.func_wrap(
        VM,
        "create1",
        |mut c: C,
         code: i32,
         code_len: i32,
         endowment: i32,
         contract: i32,
         revert_len: i32|
         -> HostResult<()> {
            create(
                &mut c, code, code_len, endowment, None, contract, revert_len,
            )
        },
    )?;
    linker.func_wrap(
        VM,
        "create2",
        |mut c: C,
         code: i32,
         code_len: i32,
         endowment: i32,
         salt: i32,
         contract: i32,
         revert_len: i32|
         -> HostResult<()> {
            create(
                &mut c,
                code,
                code_len,
                endowment,
                Some(salt),
                contract,
                revert_len,
            )
        },
    )?;
    linker.func_wrap(
        VM,
        "read_return_data",
        |mut c: C, dest: i32, offset: i32, size: i32| -> HostResult<i32> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::READ_RETURN_DATA_BASE_INK)?;
            let data = env.state().return_data.clone();
            let (offset, size) = (offset as u32, size as u32);
            let max = (data.len() as u32).saturating_sub(offset);
            env.buy_ink(pricing::write_price(size.min(max)))?;
            if max == 0 {
                return Ok(0);
            }
            let start = offset as usize;
            let end = (offset.saturating_add(size) as usize).min(data.len());
            let out = &data[start..end];
            if !out.is_empty() {
                env.write_slice(dest as u32, out)?;
            }
            Ok(out.len() as i32)
        },
    )?;
    linker.func_wrap(VM, "return_data_size", |mut c: C| -> HostResult<i32> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::RETURN_DATA_SIZE_BASE_INK)?;
        Ok(env.state().return_data.len() as i32)
    })?;
    Ok(())
}

/// The three `*call_contract` hostios: the EVM prices the call, the callee's return data
/// is kept for `read_return_data`, and its length written to `ret_len`.
#[allow(clippy::too_many_arguments)]
fn call(
    c: &mut C,
    kind: CallKind,
    to: i32,
    data: i32,
    len: i32,
    value: U256,
    gas: i64,
    ret_len: i32,
) -> HostResult<i32> {
    let mut env = Env::new(c);
    env.buy_ink(ink::CALL_CONTRACT_BASE_INK)?;
    env.buy_ink(pricing::read_price(len as u32))?;
    env.buy_ink(pricing::read_price(len as u32))?;
    let gas_left = env.gas_left()?;
    let gas_req = (gas as u64).min(gas_left);
    let to = env.read_address(to as u32)?;
    let input = env.read_slice(data as u32, len as u32)?;
    let outcome = env.api().call(kind, to, &input, gas_left, gas_req, value);
    env.buy_gas(outcome.gas_cost)?;
    let n = outcome.return_data.len() as u32;
    env.state().return_data = outcome.return_data;
    env.write_u32(ret_len as u32, n)?;
    Ok(i32::from(outcome.status))
}

/// `create1` (no salt) and `create2`: the address the EVM answers is written to
/// `contract`, and the return data kept for `read_return_data`, its length written to
/// `revert_len`.
fn create(
    c: &mut C,
    code: i32,
    code_len: i32,
    endowment: i32,
    salt: Option<i32>,
    contract: i32,
    revert_len: i32,
) -> HostResult<()> {
    let mut env = Env::new(c);
    env.buy_ink(if salt.is_some() {
        ink::CREATE2_BASE_INK
    } else {
        ink::CREATE1_BASE_INK
    })?;
    env.buy_ink(pricing::read_price(code_len as u32))?;
    env.buy_ink(pricing::read_price(code_len as u32))?;
    let init_code = env.read_slice(code as u32, code_len as u32)?;
    let endowment = U256::from_be_bytes(env.read_b32(endowment as u32)?.0);
    let salt = salt.map(|s| env.read_b32(s as u32)).transpose()?;
    let gas = env.gas_left()?;
    let outcome = env
        .api()
        .create(&init_code, endowment, salt, gas)
        .map_err(|why| escape(Escape::Failure(why)))?;
    env.buy_gas(outcome.gas_cost)?;
    let n = outcome.return_data.len() as u32;
    env.state().return_data = outcome.return_data;
    env.write_u32(revert_len as u32, n)?;
    env.write_slice(contract as u32, outcome.address.as_slice())
}
