//! ArbOS's ArbWasmCache precompile (0x72): the program cache (nitro
//! `precompiles/ArbWasmCache.go`, `Programs.SetProgramCached`).
//!
//! A cached program pays only its cached init gas on every call. On Arbitrum the
//! CacheManager contract caches the programs that win its auction (`cargo stylus
//! cache bid`); here, as on nitro-devnode, the chain owner may cache any program.
//! There are no cache managers besides it.

use super::addresses::{ARB_WASM_CACHE, CHAIN_OWNER};
use super::programs::{active_program, program_slot, read_word, write_word, ProgramInfo};
use super::reply::{self, PrecompileError};
use crate::evm::context::StylusContext;
use crate::evm::runtime::StylusRuntime;
use alloy_primitives::{Address, Log, B256};
use alloy_sol_types::{sol, SolEvent, SolInterface, SolValue};
use revm::context_interface::{Block, ContextTr, JournalTr};
use revm::database_interface::Database;
use revm::interpreter::gas::ISTANBUL_SLOAD_GAS;
use revm::interpreter::{CallInputs, Gas, InterpreterResult};

sol! {
    /// ArbOS's program cache (nitro precompiles/ArbWasmCache.sol). Cached programs
    /// pay only the cached init gas; on Arbitrum the CacheManager contract caches
    /// the programs that win its auction, and the chain owner may cache any.
    #[derive(Debug, PartialEq, Eq)]
    interface IArbWasmCache {
        function isCacheManager(address manager) external view returns (bool);
        function allCacheManagers() external view returns (address[] memory managers);
        function cacheCodehash(bytes32 codehash) external;
        function cacheProgram(address addr) external;
        function evictCodehash(bytes32 codehash) external;
        function codehashIsCached(bytes32 codehash) external view returns (bool);
        event UpdateProgramCache(address indexed manager, bytes32 indexed codehash, bool cached);
    }
}

/// The precompile itself.
pub struct ArbWasmCache;

impl ArbWasmCache {
    pub(crate) fn run<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
    ) -> Result<InterpreterResult, String> {
        reply::run(ctx, inputs, "ArbWasmCache", |ctx, input, gas| {
            Self::dispatch(ctx, inputs, runtime, input, gas)
        })
    }

    fn dispatch<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
        input: &[u8],
        gas: &mut Gas,
    ) -> Result<Vec<u8>, PrecompileError<DB::Error>> {
        use IArbWasmCache::IArbWasmCacheCalls as C;
        let Ok(call) = C::abi_decode(input) else {
            return Err(PrecompileError::Revert(Vec::new()));
        };
        if !inputs.value.get().is_zero() {
            return Err(PrecompileError::Revert(Vec::new())); // nothing here is payable
        }
        // One flat ArbOS storage read, as in ArbWasm.
        if !gas.record_regular_cost(ISTANBUL_SLOAD_GAS) {
            return Err(PrecompileError::Halt);
        }
        let (codehash, cache) = match call {
            C::isCacheManager(c) => return Ok((c.manager == CHAIN_OWNER).abi_encode()),
            C::allCacheManagers(_) => return Ok(vec![CHAIN_OWNER].abi_encode()),
            C::codehashIsCached(c) => {
                let info = ProgramInfo::from_word(read_word(ctx, program_slot(c.codehash))?);
                return Ok(info.is_some_and(|i| i.cached).abi_encode());
            }
            C::cacheProgram(c) => (ctx.journal_mut().code_hash(c.addr)?.data, true),
            // Deprecated on nitro in favour of cacheProgram, and refused the same way.
            C::cacheCodehash(_) => return Err(PrecompileError::Revert(Vec::new())),
            C::evictCodehash(c) => (c.codehash, false),
        };
        if inputs.caller != CHAIN_OWNER {
            return Err(PrecompileError::Halt);
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
    ) -> Result<Vec<u8>, PrecompileError<DB::Error>> {
        let now = ctx.block().timestamp().saturating_to::<u64>();
        let slot = program_slot(codehash);
        let mut info = if cache {
            // A program that may not run reverts with ArbWasm's custom error, as on nitro.
            active_program(ctx, codehash, now, &runtime.params)?
        } else {
            match ProgramInfo::from_word(read_word(ctx, slot)?) {
                Some(info) => info,
                None => return Ok(Vec::new()),
            }
        };
        if info.cached == cache {
            return Ok(Vec::new());
        }
        if !gas.record_regular_cost(u64::from(info.init_cost)) {
            return Err(PrecompileError::Halt);
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
        Ok(Vec::new())
    }
}
