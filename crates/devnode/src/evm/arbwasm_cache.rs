//! ArbOS's ArbWasmCache precompile (0x72): the program cache (nitro
//! precompiles/ArbWasmCache.go, `Programs.SetProgramCached`).
//!
//! A cached program pays only its cached init gas on every call. On Arbitrum the
//! CacheManager contract caches the programs that win its auction (`cargo stylus
//! cache bid`); here, as on nitro-devnode, the chain owner may cache any program.
//! There are no cache managers besides it.

use super::arbwasm::{
    active_program, program_slot, read_word, run_precompile, write_word, IArbWasmCache, Reply,
    ARB_WASM_CACHE, CHAIN_OWNER, STORAGE_READ_GAS,
};
use super::runtime::{ProgramInfo, StylusRuntime};
use super::stylus_evm::StylusContext;
use alloy_primitives::{Address, Log, B256};
use alloy_sol_types::{SolEvent, SolInterface, SolValue};
use revm::context_interface::{Block, ContextTr, JournalTr};
use revm::database_interface::Database;
use revm::interpreter::{CallInputs, Gas, InterpreterResult};

pub struct ArbWasmCache;

impl ArbWasmCache {
    pub(crate) fn run<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
    ) -> Result<InterpreterResult, String> {
        run_precompile(ctx, inputs, "ArbWasmCache", |ctx, input, gas| {
            Self::dispatch(ctx, inputs, runtime, input, gas)
        })
    }

    fn dispatch<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
        input: &[u8],
        gas: &mut Gas,
    ) -> Result<Reply, DB::Error> {
        use IArbWasmCache::IArbWasmCacheCalls as C;
        let Ok(call) = C::abi_decode(input) else {
            return Ok(Reply::Revert(Vec::new()));
        };
        if !inputs.value.get().is_zero() {
            return Ok(Reply::Revert(Vec::new())); // nothing here is payable
        }
        if !gas.record_regular_cost(STORAGE_READ_GAS) {
            return Ok(Reply::Halt);
        }
        let (codehash, cache) = match call {
            C::isCacheManager(c) => return Ok(Reply::Ok((c.manager == CHAIN_OWNER).abi_encode())),
            C::allCacheManagers(_) => return Ok(Reply::Ok(vec![CHAIN_OWNER].abi_encode())),
            C::codehashIsCached(c) => {
                let info = ProgramInfo::from_word(read_word(ctx, program_slot(c.codehash))?);
                return Ok(Reply::Ok(info.is_some_and(|i| i.cached).abi_encode()));
            }
            C::cacheProgram(c) => (ctx.journal_mut().code_hash(c.addr)?.data, true),
            // Deprecated on nitro in favour of cacheProgram, and refused the same way.
            C::cacheCodehash(_) => return Ok(Reply::Revert(Vec::new())),
            C::evictCodehash(c) => (c.codehash, false),
        };
        if inputs.caller != CHAIN_OWNER {
            return Ok(Reply::Halt);
        }
        Self::set_cached(ctx, runtime, inputs.caller, codehash, cache, gas)
    }

    /// nitro `SetProgramCached`: checks the program can run (when caching), emits
    /// `UpdateProgramCache`, burns the program's init cost and records the bit.
    fn set_cached<DB: Database>(
        ctx: &mut StylusContext<DB>,
        runtime: &StylusRuntime,
        manager: Address,
        codehash: B256,
        cache: bool,
        gas: &mut Gas,
    ) -> Result<Reply, DB::Error> {
        let now = ctx.block().timestamp().saturating_to::<u64>();
        let slot = program_slot(codehash);
        let mut info = if cache {
            match active_program(ctx, codehash, now, &runtime.params)? {
                Ok(info) => info,
                Err(e) => return Ok(Reply::Revert(e.abi_encode())),
            }
        } else {
            match ProgramInfo::from_word(read_word(ctx, slot)?) {
                Some(info) => info,
                None => return Ok(Reply::Ok(Vec::new())),
            }
        };
        if info.cached == cache {
            return Ok(Reply::Ok(Vec::new()));
        }
        if !gas.record_regular_cost(u64::from(info.init_cost)) {
            return Ok(Reply::Halt);
        }
        ctx.journal_mut().log(Log {
            address: ARB_WASM_CACHE,
            data: IArbWasmCache::UpdateProgramCache {
                manager,
                codehash,
                cached: cache,
            }
            .encode_log_data(),
        });
        info.cached = cache;
        write_word(ctx, slot, info.to_word())?;
        Ok(Reply::Ok(Vec::new()))
    }
}
