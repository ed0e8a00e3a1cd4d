//! The program's input and output: `read_args`, `write_result` and `exit_early`.

use super::C;
use crate::activation::hostio::VM_HOOKS_MODULE as VM;
use crate::host::state::{escape, Env, Escape, HostResult, HostState};
use crate::pricing::{self, self as ink};
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(VM, "read_args", |mut c: C, ptr: i32| -> HostResult<()> {
        let mut env = Env::new(&mut c);
        env.buy_ink(ink::READ_ARGS_BASE_INK)?;
        let args = std::mem::take(&mut env.state().args);
        env.buy_ink(pricing::write_price(args.len() as u32))?;
        let written = env.write_slice(ptr as u32, &args);
        env.state().args = args;
        written
    })?;
    linker.func_wrap(
        VM,
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
    linker.func_wrap(VM, "exit_early", |_c: C, status: i32| -> HostResult<()> {
        Err(escape(Escape::Exit(status as u32)))
    })?;
    Ok(())
}
