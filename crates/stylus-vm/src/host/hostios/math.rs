//! 256-bit arithmetic on words in the program's memory (`math_div`, `math_mod`, `math_pow`,
//! `math_add_mod`, `math_mul_mod`, each writing its result over the first operand) and
//! `native_keccak256`.

use super::C;
use crate::activation::hostio::VM_HOOKS_MODULE as VM;
use crate::host::state::{Env, HostResult, HostState};
use crate::pricing::{self, self as ink};
use alloy_primitives::{keccak256, U256};
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    fn word(env: &Env, ptr: i32) -> HostResult<U256> {
        Ok(U256::from_be_bytes(env.read_b32(ptr as u32)?.0))
    }
    linker.func_wrap(
        VM,
        "math_div",
        |mut c: C, a: i32, b: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::MATH_DIV_BASE_INK)?;
            let r = word(&env, a)?
                .checked_div(word(&env, b)?)
                .unwrap_or_default();
            env.write_slice(a as u32, &r.to_be_bytes::<32>())
        },
    )?;
    linker.func_wrap(
        VM,
        "math_mod",
        |mut c: C, a: i32, b: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::MATH_MOD_BASE_INK)?;
            let r = word(&env, a)?
                .checked_rem(word(&env, b)?)
                .unwrap_or_default();
            env.write_slice(a as u32, &r.to_be_bytes::<32>())
        },
    )?;
    linker.func_wrap(
        VM,
        "math_pow",
        |mut c: C, a: i32, b: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::MATH_POW_BASE_INK)?;
            let exponent = env.read_b32(b as u32)?;
            env.buy_ink(pricing::pow_price(&exponent.0))?;
            let r = word(&env, a)?.wrapping_pow(U256::from_be_bytes(exponent.0));
            env.write_slice(a as u32, &r.to_be_bytes::<32>())
        },
    )?;
    linker.func_wrap(
        VM,
        "math_add_mod",
        |mut c: C, a: i32, b: i32, m: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::MATH_ADD_MOD_BASE_INK)?;
            let r = word(&env, a)?.add_mod(word(&env, b)?, word(&env, m)?);
            env.write_slice(a as u32, &r.to_be_bytes::<32>())
        },
    )?;
    linker.func_wrap(
        VM,
        "math_mul_mod",
        |mut c: C, a: i32, b: i32, m: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::MATH_MUL_MOD_BASE_INK)?;
            let r = word(&env, a)?.mul_mod(word(&env, b)?, word(&env, m)?);
            env.write_slice(a as u32, &r.to_be_bytes::<32>())
        },
    )?;
    linker.func_wrap(
        VM,
        "native_keccak256",
        |mut c: C, input: i32, len: i32, out: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(pricing::keccak_price(len as u32))?;
            let preimage = env.read_slice(input as u32, len as u32)?;
            env.write_slice(out as u32, keccak256(preimage).as_slice())
        },
    )?;
    Ok(())
}
