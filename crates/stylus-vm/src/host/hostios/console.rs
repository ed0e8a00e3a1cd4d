//! nitro's `console` module (`log_txt`, `log_i32`, `log_i64`, `tee_i32`, `tee_i64`),
//! accepted by activation in debug mode only.

use super::C;
use crate::activation::hostio::CONSOLE_MODULE as CONSOLE;
use crate::host::state::{Env, HostResult, HostState};
use wasmi::Linker;

pub(super) fn link(linker: &mut Linker<HostState>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        CONSOLE,
        "log_txt",
        |mut c: C, ptr: i32, len: i32| -> HostResult<()> {
            let env = Env::new(&mut c);
            let text = env.read_slice(ptr as u32, len as u32)?;
            env.api().console_log(&String::from_utf8_lossy(&text));
            Ok(())
        },
    )?;
    linker.func_wrap(CONSOLE, "log_i32", |mut c: C, v: i32| -> HostResult<()> {
        Env::new(&mut c).api().console_log(&v.to_string());
        Ok(())
    })?;
    linker.func_wrap(CONSOLE, "log_i64", |mut c: C, v: i64| -> HostResult<()> {
        Env::new(&mut c).api().console_log(&v.to_string());
        Ok(())
    })?;
    linker.func_wrap(CONSOLE, "tee_i32", |mut c: C, v: i32| -> HostResult<i32> {
        Env::new(&mut c).api().console_log(&v.to_string());
        Ok(v)
    })?;
    linker.func_wrap(CONSOLE, "tee_i64", |mut c: C, v: i64| -> HostResult<i64> {
        Env::new(&mut c).api().console_log(&v.to_string());
        Ok(v)
    })?;
    Ok(())
}
