//! The `vm_hooks` imports, with nitro's semantics and ink prices
//! (nitro `crates/wasm-libraries/user-host-trait/lib.rs`).

use super::state::{escape, Env, Escape, HostResult, HostState};
use crate::evm_api::CallKind;
use crate::pricing::{self, self as evm, self as ink};
use alloy_primitives::{keccak256, Bytes, B256, U256};
use wasmi::{Caller, Linker};

type C<'a> = Caller<'a, HostState>;

/// Registers every hostio under `vm_hooks` (and `console` for debug chains).
pub(crate) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    let vm = "vm_hooks";
    linker.func_wrap(vm, "read_args", |mut c: C, ptr: i32| -> HostResult<()> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::READ_ARGS_BASE_INK)?;
        let args = std::mem::take(&mut env.state().args);
        env.buy_ink(pricing::write_price(args.len() as u32))?;
        let written = env.write_slice(ptr as u32, &args);
        env.state().args = args;
        written
    })?;
    linker.func_wrap(
        vm,
        "write_result",
        |mut c: C, ptr: i32, len: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::WRITE_RESULT_BASE_INK)?;
            env.buy_ink(pricing::read_price(len as u32))?;
            env.buy_ink(pricing::read_price(len as u32))?; // and geth reads it again
            let outs = env.read_slice(ptr as u32, len as u32)?;
            env.state().outs = outs;
            Ok(())
        },
    )?;
    linker.func_wrap(vm, "exit_early", |_c: C, status: i32| -> HostResult<()> {
        Err(escape(Escape::Exit(status as u32)))
    })?;
    linker.func_wrap(
        vm,
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
        vm,
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
        vm,
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
                    Ok(_) | Err(crate::evm_api::WriteError::OutOfGas) => {
                        return Err(escape(Escape::OutOfInk));
                    }
                    Err(crate::evm_api::WriteError::WriteProtection) => {
                        return Err(escape(Escape::Failure("write protection".into())));
                    }
                }
            }
            env.buy_gas(spent)
        },
    )?;
    linker.func_wrap(
        vm,
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
        vm,
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
    linker.func_wrap(
        vm,
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
        vm,
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
        vm,
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
        vm,
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
        vm,
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
        vm,
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
    linker.func_wrap(vm, "return_data_size", |mut c: C| -> HostResult<i32> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::RETURN_DATA_SIZE_BASE_INK)?;
        Ok(env.state().return_data.len() as i32)
    })?;
    linker.func_wrap(
        vm,
        "emit_log",
        |mut c: C, data: i32, len: i32, topics: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::EMIT_LOG_BASE_INK)?;
            let (len, topics) = (len as u32, topics as u32);
            if topics > 4 || len < topics * 32 {
                return Err(escape(Escape::Failure("bad topic data".into())));
            }
            env.buy_ink(pricing::read_price(len))?;
            let log_gas = (1 + u64::from(topics)) * evm::LOG_TOPIC_GAS
                + u64::from(len - topics * 32) * evm::LOG_DATA_GAS;
            env.buy_gas(log_gas)?;
            let bytes = env.read_slice(data as u32, len)?;
            let split = topics as usize * 32;
            let topic_list = bytes[..split].chunks(32).map(B256::from_slice).collect();
            env.api()
                .emit_log(topic_list, Bytes::copy_from_slice(&bytes[split..]))
                .map_err(|why| escape(Escape::Failure(why)))
        },
    )?;
    linker.func_wrap(
        vm,
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
        vm,
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
        vm,
        "account_code_size",
        |mut c: C, address: i32| -> HostResult<i32> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::ACCOUNT_CODE_SIZE_BASE_INK)?;
            Ok(account_code(&mut env, address)?.len() as i32)
        },
    )?;
    linker.func_wrap(
        vm,
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
    macro_rules! write_word {
        ($name:literal, $ink:expr, |$d:ident| $value:expr) => {
            linker.func_wrap(vm, $name, |mut c: C, dest: i32| -> HostResult<()> {
                let mut env = Env::new(&mut c);
                env.buy_ink($ink)?;
                let $d = env.data().clone();
                let bytes: Vec<u8> = $value;
                env.write_slice(dest as u32, &bytes)
            })?;
        };
    }
    write_word!("block_basefee", ink::BLOCK_BASEFEE_BASE_INK, |d| d
        .block_basefee
        .to_be_bytes::<32>()
        .to_vec());
    write_word!("block_coinbase", ink::BLOCK_COINBASE_BASE_INK, |d| d
        .block_coinbase
        .to_vec());
    write_word!("contract_address", ink::ADDRESS_BASE_INK, |d| d
        .contract_address
        .to_vec());
    write_word!("msg_sender", ink::MSG_SENDER_BASE_INK, |d| d
        .msg_sender
        .to_vec());
    write_word!("msg_value", ink::MSG_VALUE_BASE_INK, |d| d
        .msg_value
        .to_be_bytes::<32>()
        .to_vec());
    write_word!("tx_gas_price", ink::TX_GAS_PRICE_BASE_INK, |d| d
        .tx_gas_price
        .to_be_bytes::<32>()
        .to_vec());
    write_word!("tx_origin", ink::TX_ORIGIN_BASE_INK, |d| d
        .tx_origin
        .to_vec());
    macro_rules! read_u64 {
        ($name:literal, $ink:expr, |$d:ident| $value:expr) => {
            linker.func_wrap(vm, $name, |mut c: C| -> HostResult<i64> {
                let mut env = Env::new(&mut c);
                env.buy_ink($ink)?;
                let $d = env.data();
                Ok($value as i64)
            })?;
        };
    }
    read_u64!("block_gas_limit", ink::BLOCK_GAS_LIMIT_BASE_INK, |d| d
        .block_gas_limit);
    read_u64!("block_number", ink::BLOCK_NUMBER_BASE_INK, |d| d
        .block_number);
    read_u64!("block_timestamp", ink::BLOCK_TIMESTAMP_BASE_INK, |d| d
        .block_timestamp);
    read_u64!("chainid", ink::CHAIN_ID_BASE_INK, |d| d.chain_id);
    linker.func_wrap(vm, "msg_reentrant", |mut c: C| -> HostResult<i32> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::MSG_REENTRANT_BASE_INK)?;
        Ok(env.data().reentrant as i32)
    })?;
    linker.func_wrap(vm, "tx_ink_price", |mut c: C| -> HostResult<i32> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::TX_INK_PRICE_BASE_INK)?;
        Ok(env.state().ink_price as i32)
    })?;
    linker.func_wrap(vm, "evm_gas_left", |mut c: C| -> HostResult<i64> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::EVM_GAS_LEFT_BASE_INK)?;
        Ok(env.gas_left()? as i64)
    })?;
    linker.func_wrap(vm, "evm_ink_left", |mut c: C| -> HostResult<i64> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::EVM_INK_LEFT_BASE_INK)?;
        Ok(env.ink_left()? as i64)
    })?;
    linker.func_wrap(
        vm,
        "native_keccak256",
        |mut c: C, input: i32, len: i32, out: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(pricing::keccak_price(len as u32))?;
            let preimage = env.read_slice(input as u32, len as u32)?;
            env.write_slice(out as u32, keccak256(preimage).as_slice())
        },
    )?;
    linker.func_wrap(
        vm,
        "pay_for_memory_grow",
        |mut c: C, pages: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            let pages = pages as u32 as u16;
            if pages == 0 {
                return env.buy_ink(ink::PAY_FOR_MEMORY_GROW_BASE_INK);
            }
            let gas = env.api().add_pages(pages);
            env.buy_gas(gas)
        },
    )?;
    link_math(linker)?;
    link_console(linker)
}

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

fn link_math(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    let vm = "vm_hooks";
    fn word(env: &Env, ptr: i32) -> HostResult<U256> {
        Ok(U256::from_be_bytes(env.read_b32(ptr as u32)?.0))
    }
    linker.func_wrap(
        vm,
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
        vm,
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
        vm,
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
        vm,
        "math_add_mod",
        |mut c: C, a: i32, b: i32, m: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::MATH_ADD_MOD_BASE_INK)?;
            let r = word(&env, a)?.add_mod(word(&env, b)?, word(&env, m)?);
            env.write_slice(a as u32, &r.to_be_bytes::<32>())
        },
    )?;
    linker.func_wrap(
        vm,
        "math_mul_mod",
        |mut c: C, a: i32, b: i32, m: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::MATH_MUL_MOD_BASE_INK)?;
            let r = word(&env, a)?.mul_mod(word(&env, b)?, word(&env, m)?);
            env.write_slice(a as u32, &r.to_be_bytes::<32>())
        },
    )?;
    Ok(())
}

/// nitro's `console` module, accepted by activation in debug mode only.
fn link_console(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        "console",
        "log_txt",
        |mut c: C, ptr: i32, len: i32| -> HostResult<()> {
            let env = Env::new(&mut c);
            let text = env.read_slice(ptr as u32, len as u32)?;
            env.api().console_log(&String::from_utf8_lossy(&text));
            Ok(())
        },
    )?;
    linker.func_wrap("console", "log_i32", |mut c: C, v: i32| -> HostResult<()> {
        Env::new(&mut c).api().console_log(&v.to_string());
        Ok(())
    })?;
    linker.func_wrap("console", "log_i64", |mut c: C, v: i64| -> HostResult<()> {
        Env::new(&mut c).api().console_log(&v.to_string());
        Ok(())
    })?;
    linker.func_wrap(
        "console",
        "tee_i32",
        |mut c: C, v: i32| -> HostResult<i32> {
            Env::new(&mut c).api().console_log(&v.to_string());
            Ok(v)
        },
    )?;
    linker.func_wrap(
        "console",
        "tee_i64",
        |mut c: C, v: i64| -> HostResult<i64> {
            Env::new(&mut c).api().console_log(&v.to_string());
            Ok(v)
        },
    )?;
    Ok(())
}
