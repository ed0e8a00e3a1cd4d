//! Events: `emit_log`.

use super::C;
use crate::activation::hostio::VM_HOOKS_MODULE as VM;
use crate::host::state::{escape, Env, Escape, HostResult, HostState};
use crate::pricing::{self, self as ink};
use alloy_primitives::{Bytes, B256};
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        VM,
        "emit_log",
        |mut c: C, data: i32, len: i32, topics: i32| -> HostResult<()> {
            let mut env = Env::new(&mut c);
            env.buy_ink(ink::EMIT_LOG_BASE_INK)?;
            let (len, topics) = (len as u32, topics as u32);
            if topics > 4 || len < topics * 32 {
                return Err(escape(Escape::Failure("bad topic data".into())));
            }
            env.buy_ink(pricing::read_price(len))?;
            env.buy_gas(pricing::evm_log_gas(topics, len - topics * 32))?;
            let bytes = env.read_slice(data as u32, len)?;
            let split = topics as usize * 32;
            let topic_list = bytes[..split].chunks(32).map(B256::from_slice).collect();
            env.api()
                .emit_log(topic_list, Bytes::copy_from_slice(&bytes[split..]))
                .map_err(|why| escape(Escape::Failure(why)))
        },
    )?;
    Ok(())
}
