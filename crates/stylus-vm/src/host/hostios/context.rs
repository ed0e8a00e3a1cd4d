//! The block, the message and the transaction, from the `EvmData` the EVM handed over at
//! entry: `block_basefee`, `block_coinbase`, `block_gas_limit`, `block_number`,
//! `block_timestamp`, `chainid`, `contract_address`, `msg_reentrant`, `msg_sender`,
//! `msg_value`, `tx_gas_price`, `tx_ink_price` and `tx_origin`.

use super::C;
use crate::activation::hostio::VM_HOOKS_MODULE as VM;
use crate::host::state::{Env, HostResult, HostState};
use crate::pricing as ink;
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    // A hostio that writes one value of `EvmData` to the program's memory at `dest`.
    macro_rules! write_word {
        ($name:literal, $ink:expr, |$d:ident| $value:expr) => {
            linker.func_wrap(VM, $name, |mut c: C, dest: i32| -> HostResult<()> {
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
    // A hostio that returns one integer of `EvmData`.
    macro_rules! read_u64 {
        ($name:literal, $ink:expr, |$d:ident| $value:expr) => {
            linker.func_wrap(VM, $name, |mut c: C| -> HostResult<i64> {
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
    linker.func_wrap(VM, "msg_reentrant", |mut c: C| -> HostResult<i32> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::MSG_REENTRANT_BASE_INK)?;
        Ok(env.data().reentrant as i32)
    })?;
    linker.func_wrap(VM, "tx_ink_price", |mut c: C| -> HostResult<i32> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::TX_INK_PRICE_BASE_INK)?;
        Ok(env.state().ink_price as i32)
    })?;
    Ok(())
}
