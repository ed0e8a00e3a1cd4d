//! The state a program's hostios share during one invocation, and the ink and
//! memory helpers every hostio uses.

use super::storage_cache::StorageCache;
use crate::evm_api::{EvmApi, EvmData};
use alloy_primitives::{Address, Bytes, B256};
use std::fmt;
use wasmi::{Caller, Global, Memory, Val};

/// Why a hostio stopped the program. Carried through wasmi as a host error.
#[derive(Debug)]
pub(crate) enum Escape {
    /// Ink ran out (nitro: OutOfInk, all gas consumed).
    OutOfInk,
    /// `exit_early(status)`.
    Exit(u32),
    /// An out-of-bounds pointer or a malformed request: the program fails (reverts
    /// without data).
    Failure(String),
}

impl fmt::Display for Escape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Escape::OutOfInk => write!(f, "out of ink"),
            Escape::Exit(status) => write!(f, "exit_early({status})"),
            Escape::Failure(why) => write!(f, "{why}"),
        }
    }
}

impl wasmi::errors::HostError for Escape {}

pub(crate) type HostResult<T> = Result<T, wasmi::Error>;

pub(crate) fn escape(e: Escape) -> wasmi::Error {
    wasmi::Error::host(e)
}

/// The instrumentation globals nitro's activation adds (activation/), read and
/// written by the host so that WASM code and hostios draw on one ink balance.
#[derive(Clone, Copy)]
pub(crate) struct Meter {
    pub ink_left: Global,
    pub ink_status: Global,
}

/// The wasmi store's data during one invocation: the EVM, the program's input and
/// output, and the storage cache and ink meter its hostios share. Opaque outside the
/// crate: only [`super::StylusHost::run`] builds one.
pub struct HostState {
    /// The EVM for this invocation. Only dereferenced while `run` holds the
    /// `&mut dyn EvmApi` it came from (see `run`), hence the erased lifetime.
    pub(crate) api: *mut (dyn EvmApi + 'static),
    pub(crate) data: EvmData,
    pub(crate) ink_price: u64,
    pub(crate) args: Vec<u8>,
    pub(crate) outs: Vec<u8>,
    pub(crate) return_data: Bytes,
    pub(crate) cache: StorageCache,
    pub(crate) last_code: Option<(Address, Bytes)>,
    pub(crate) meter: Option<Meter>,
    pub(crate) memory: Option<Memory>,
    pub(crate) limits: wasmi::StoreLimits,
}

impl HostState {
    /// The state of one fresh invocation: nothing returned, cached, metered or
    /// bound yet. An `ink_price` of 0 is taken as 1: ink converts to gas by dividing by it.
    pub(crate) fn new(
        api: *mut (dyn EvmApi + 'static),
        data: EvmData,
        ink_price: u64,
        args: Vec<u8>,
    ) -> Self {
        Self {
            api,
            data,
            ink_price: ink_price.max(1),
            args,
            outs: Vec::new(),
            return_data: Default::default(),
            cache: Default::default(),
            last_code: None,
            meter: None,
            memory: None,
            limits: Default::default(),
        }
    }
}

// SAFETY: a HostState never leaves the thread that runs the program; wasmi's Store
// only requires Send for its data when the store itself is sent, which `run` never does.
unsafe impl Send for HostState {}

/// A hostio's view of the running program.
pub(crate) struct Env<'a, 'c> {
    pub caller: &'a mut Caller<'c, HostState>,
}

impl<'a, 'c> Env<'a, 'c> {
    pub(crate) fn new(caller: &'a mut Caller<'c, HostState>) -> Self {
        Self { caller }
    }

    pub(crate) fn state(&mut self) -> &mut HostState {
        self.caller.data_mut()
    }

    pub(crate) fn data(&self) -> &EvmData {
        &self.caller.data().data
    }

    /// The EVM of this invocation.
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn api(&self) -> &mut dyn EvmApi {
        // SAFETY: `run` sets `api` from a `&mut dyn EvmApi` that outlives the wasm call
        // and is not otherwise used until the call returns; hostios run one at a time.
        unsafe { &mut *self.caller.data().api }
    }

    pub(crate) fn ink_left(&mut self) -> HostResult<u64> {
        let meter = self.caller.data().meter.expect("instrumented module");
        if meter.ink_status.get(&*self.caller).i32() != Some(0) {
            return Err(escape(Escape::OutOfInk));
        }
        Ok(meter.ink_left.get(&*self.caller).i64().unwrap_or(0) as u64)
    }

    fn set_ink(&mut self, ink: u64) {
        let meter = self.caller.data().meter.expect("instrumented module");
        meter
            .ink_left
            .set(&mut *self.caller, Val::I64(ink as i64))
            .expect("ink global is a mutable i64");
    }

    fn out_of_ink<T>(&mut self) -> HostResult<T> {
        let meter = self.caller.data().meter.expect("instrumented module");
        meter
            .ink_status
            .set(&mut *self.caller, Val::I32(1))
            .expect("status global is a mutable i32");
        Err(escape(Escape::OutOfInk))
    }

    pub(crate) fn buy_ink(&mut self, ink: u64) -> HostResult<()> {
        let left = self.ink_left()?;
        if left < ink {
            return self.out_of_ink();
        }
        self.set_ink(left - ink);
        Ok(())
    }

    pub(crate) fn require_ink(&mut self, ink: u64) -> HostResult<()> {
        if self.ink_left()? < ink {
            return self.out_of_ink();
        }
        Ok(())
    }

    pub(crate) fn gas_to_ink(&self, gas: u64) -> u64 {
        gas.saturating_mul(self.caller.data().ink_price)
    }

    pub(crate) fn gas_left(&mut self) -> HostResult<u64> {
        let price = self.caller.data().ink_price;
        Ok(self.ink_left()? / price)
    }

    pub(crate) fn buy_gas(&mut self, gas: u64) -> HostResult<()> {
        self.buy_ink(self.gas_to_ink(gas))
    }

    pub(crate) fn require_gas(&mut self, gas: u64) -> HostResult<()> {
        self.require_ink(self.gas_to_ink(gas))
    }

    fn memory(&self) -> Memory {
        self.caller.data().memory.expect("module exports memory")
    }

    pub(crate) fn read_slice(&self, ptr: u32, len: u32) -> HostResult<Vec<u8>> {
        let mut buf = vec![0u8; len as usize];
        self.memory()
            .read(&*self.caller, ptr as usize, &mut buf)
            .map_err(|_| {
                escape(Escape::Failure(format!(
                    "read of {len} bytes at {ptr} is out of bounds"
                )))
            })?;
        Ok(buf)
    }

    pub(crate) fn read_fixed<const N: usize>(&self, ptr: u32) -> HostResult<[u8; N]> {
        let mut buf = [0u8; N];
        self.memory()
            .read(&*self.caller, ptr as usize, &mut buf)
            .map_err(|_| {
                escape(Escape::Failure(format!(
                    "read of {N} bytes at {ptr} is out of bounds"
                )))
            })?;
        Ok(buf)
    }

    pub(crate) fn read_b32(&self, ptr: u32) -> HostResult<B256> {
        Ok(B256::from(self.read_fixed::<32>(ptr)?))
    }

    pub(crate) fn read_address(&self, ptr: u32) -> HostResult<Address> {
        Ok(Address::from(self.read_fixed::<20>(ptr)?))
    }

    pub(crate) fn write_slice(&mut self, ptr: u32, bytes: &[u8]) -> HostResult<()> {
        let memory = self.memory();
        memory
            .write(&mut *self.caller, ptr as usize, bytes)
            .map_err(|_| {
                escape(Escape::Failure(format!(
                    "write of {} bytes at {ptr} is out of bounds",
                    bytes.len()
                )))
            })
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, value: u32) -> HostResult<()> {
        self.write_slice(ptr, &value.to_le_bytes())
    }
}
