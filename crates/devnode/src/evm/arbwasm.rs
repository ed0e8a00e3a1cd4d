//! ArbOS's ArbWasm precompile (0x71): activation and the views cargo-stylus asks for
//! (nitro precompiles/ArbWasm.go, arbos/programs/programs.go).
//!
//! Program records live in the precompile's own account storage, so they are
//! journaled, reverted and persisted like any other state.

use super::runtime::{ProgramInfo, StylusRuntime};
use super::stylus_evm::StylusContext;
use alloy_primitives::{address, Address, Bytes, Log, B256, U256};
use alloy_sol_types::{sol, SolCall, SolError, SolEvent, SolInterface, SolValue};
use revm::context_interface::{Block, ContextTr, JournalTr};
use revm::database_interface::Database;
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};
use stylus_vm::params::StylusParams;
use stylus_vm::program::is_stylus_program;

/// ArbWasm's address.
pub const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");
/// ArbOwnerPublic's address (cargo-stylus asks it about fragment limits).
pub const ARB_OWNER_PUBLIC: Address = address!("000000000000000000000000000000000000006b");
/// ArbWasmCache's address: ArbOS's program cache.
pub const ARB_WASM_CACHE: Address = address!("0000000000000000000000000000000000000072");
/// nitro-devnode's chain owner, its dev account: allowed to cache programs.
pub const CHAIN_OWNER: Address = address!("3f1Eae7D46d88F08fc2F8ed27FCb2AB183EB2d0E");
/// Where activation data fees go: nitro-devnode's network fee account is its dev account.
pub const NETWORK_FEE_ACCOUNT: Address = address!("3f1Eae7D46d88F08fc2F8ed27FCb2AB183EB2d0E");

/// Gas every activation burns before validating (ArbWasm.go).
const ACTIVATION_FIXED_GAS: u64 = 1_659_168;
/// What an ArbOS storage read costs a precompile (SloadGasEIP2200).
pub(super) const STORAGE_READ_GAS: u64 = 800;
/// nitro's "hours since Arbitrum began" epoch for activation times.
const ARBITRUM_START_TIME: u64 = 1_421_388_000;

const PRICER_DEMAND_SLOT: U256 = U256::from_limbs([1, 0, 0, 0]);
const PRICER_UPDATE_SLOT: U256 = U256::from_limbs([2, 0, 0, 0]);

sol! {
    /// The ArbWasm precompile's interface, as cargo-stylus's stylus-tools declares it.
    #[derive(Debug, PartialEq, Eq)]
    interface IArbWasm {
        function activateProgram(address program) external payable returns (uint16 version, uint256 dataFee);
        function stylusVersion() external view returns (uint16 version);
        function codehashVersion(bytes32 codehash) external view returns (uint16 version);
        function codehashKeepalive(bytes32 codehash) external payable;
        function codehashAsmSize(bytes32 codehash) external view returns (uint32 size);
        function programVersion(address program) external view returns (uint16 version);
        function programInitGas(address program) external view returns (uint64 gas, uint64 gasWhenCached);
        function programMemoryFootprint(address program) external view returns (uint16 footprint);
        function programTimeLeft(address program) external view returns (uint64 _secs);
        function inkPrice() external view returns (uint32 price);
        function maxStackDepth() external view returns (uint32 depth);
        function freePages() external view returns (uint16 pages);
        function pageGas() external view returns (uint16 gas);
        function pageRamp() external view returns (uint64 ramp);
        function pageLimit() external view returns (uint16 limit);
        function minInitGas() external view returns (uint64 gas, uint64 cached);
        function initCostScalar() external view returns (uint64 percent);
        function expiryDays() external view returns (uint16 _days);
        function keepaliveDays() external view returns (uint16 _days);
        function blockCacheSize() external view returns (uint16 count);
        function activationGas() external view returns (uint64 gas);
        event ProgramActivated(bytes32 indexed codehash, bytes32 moduleHash, address program, uint256 dataFee, uint16 version);
        event ProgramLifetimeExtended(bytes32 indexed codehash, uint256 dataFee);
        error ProgramNotWasm();
        error ProgramNotActivated();
        error ProgramNeedsUpgrade(uint16 version, uint16 stylusVersion);
        error ProgramExpired(uint64 ageInSeconds);
        error ProgramUpToDate();
        error ProgramKeepaliveTooSoon(uint64 ageInSeconds);
        error ProgramInsufficientValue(uint256 have, uint256 want);
    }

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

    /// The one ArbOwnerPublic view cargo-stylus calls.
    interface ArbOwnerPublic {
        function getMaxStylusContractFragments() external view returns (uint8);
    }
}

/// ArbWasm's custom errors, for reverts raised outside the precompile (calling an
/// unactivated program reverts with `ProgramNotActivated()` as on nitro).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named as ArbWasm's Solidity errors
pub enum ArbWasmError {
    ProgramNotActivated,
    ProgramNeedsUpgrade(u16, u16),
    ProgramExpired(u64),
}

impl ArbWasmError {
    pub fn abi_encode(&self) -> Vec<u8> {
        match *self {
            Self::ProgramNotActivated => IArbWasm::ProgramNotActivated {}.abi_encode(),
            Self::ProgramNeedsUpgrade(version, current) => IArbWasm::ProgramNeedsUpgrade {
                version,
                stylusVersion: current,
            }
            .abi_encode(),
            Self::ProgramExpired(age) => {
                IArbWasm::ProgramExpired { ageInSeconds: age }.abi_encode()
            }
        }
    }
}

pub(super) fn program_slot(codehash: B256) -> U256 {
    U256::from_be_bytes(
        alloy_primitives::keccak256(
            [b"careledger.program".as_slice(), codehash.as_slice()].concat(),
        )
        .0,
    )
}

fn hours_since_arbitrum(now: u64) -> u64 {
    now.saturating_sub(ARBITRUM_START_TIME) / 3600
}

fn age_secs(info: &ProgramInfo, now: u64) -> u64 {
    now.saturating_sub(ARBITRUM_START_TIME + info.activated_at * 3600)
}

/// nitro `Program.initGas`: paid when the program is not cached.
pub(crate) fn init_gas(info: &ProgramInfo, params: &StylusParams) -> u64 {
    params.init_gas(info.init_cost)
}

/// nitro `Program.cachedGas`: paid on every call from version 2 on.
pub(crate) fn cached_gas(info: &ProgramInfo, params: &StylusParams) -> u64 {
    params.cached_gas(info.cached_init_cost)
}

pub(super) fn read_word<DB: Database>(
    ctx: &mut StylusContext<DB>,
    slot: U256,
) -> Result<U256, DB::Error> {
    ctx.journal_mut().load_account(ARB_WASM)?;
    Ok(ctx.journal_mut().sload(ARB_WASM, slot)?.data)
}

pub(super) fn write_word<DB: Database>(
    ctx: &mut StylusContext<DB>,
    slot: U256,
    value: U256,
) -> Result<(), DB::Error> {
    ctx.journal_mut().load_account(ARB_WASM)?;
    ctx.journal_mut().touch_account(ARB_WASM);
    ctx.journal_mut().sstore(ARB_WASM, slot, value)?;
    Ok(())
}

/// The activation of `codehash` if it can run now (nitro `getActiveProgram`).
pub(crate) fn active_program<DB: Database>(
    ctx: &mut StylusContext<DB>,
    codehash: B256,
    now: u64,
    params: &StylusParams,
) -> Result<Result<ProgramInfo, ArbWasmError>, DB::Error> {
    let Some(info) = ProgramInfo::from_word(read_word(ctx, program_slot(codehash))?) else {
        return Ok(Err(ArbWasmError::ProgramNotActivated));
    };
    if info.version != params.version {
        return Ok(Err(ArbWasmError::ProgramNeedsUpgrade(
            info.version,
            params.version,
        )));
    }
    let age = age_secs(&info, now);
    if age > u64::from(params.expiry_days) * 86400 {
        return Ok(Err(ArbWasmError::ProgramExpired(age)));
    }
    Ok(Ok(info))
}

/// The precompile itself.
pub struct ArbWasm;

/// What a precompile call produced before it becomes an `InterpreterResult`
/// (ArbWasm's and ArbWasmCache's).
pub(super) enum Reply {
    Ok(Vec<u8>),
    Revert(Vec<u8>),
    /// Burns all gas (a failed activation, out of gas, nitro's BurnOut).
    Halt,
}

impl Reply {
    pub(super) fn into_result(self, mut gas: Gas) -> InterpreterResult {
        match self {
            Reply::Ok(out) => InterpreterResult::new(InstructionResult::Return, out.into(), gas),
            Reply::Revert(out) => {
                InterpreterResult::new(InstructionResult::Revert, out.into(), gas)
            }
            Reply::Halt => {
                gas.spend_all();
                InterpreterResult::new(InstructionResult::PrecompileOOG, Bytes::new(), gas)
            }
        }
    }
}

/// Runs a precompile's `dispatch` on the call's input and gas; a database error
/// (not a revert) comes back as the message the EVM halts with.
pub(super) fn run_precompile<DB: Database>(
    ctx: &mut StylusContext<DB>,
    inputs: &CallInputs,
    name: &str,
    dispatch: impl FnOnce(&mut StylusContext<DB>, &[u8], &mut Gas) -> Result<Reply, DB::Error>,
) -> Result<InterpreterResult, String> {
    let input = inputs.input.bytes(ctx);
    let mut gas = Gas::new(inputs.gas_limit);
    let reply = dispatch(ctx, &input, &mut gas).map_err(|e| format!("{name} state: {e}"))?;
    Ok(reply.into_result(gas))
}

impl ArbWasm {
    pub(crate) fn run<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
    ) -> Result<InterpreterResult, String> {
        run_precompile(ctx, inputs, "ArbWasm", |ctx, input, gas| {
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
        use IArbWasm::IArbWasmCalls as C;
        let params = &runtime.params;
        let now = ctx.block().timestamp().saturating_to::<u64>();
        let Ok(call) = C::abi_decode(input) else {
            return Ok(Reply::Revert(Vec::new()));
        };
        let value = inputs.value.get();
        if !value.is_zero() && !matches!(call, C::activateProgram(_) | C::codehashKeepalive(_)) {
            return Ok(Reply::Revert(Vec::new())); // non-payable
        }
        if !gas.record_regular_cost(STORAGE_READ_GAS) {
            return Ok(Reply::Halt);
        }
        let program_of =
            |ctx: &mut StylusContext<DB>, program: Address| -> Result<B256, DB::Error> {
                Ok(ctx.journal_mut().code_hash(program)?.data)
            };
        macro_rules! active {
            ($codehash:expr) => {
                match active_program(ctx, $codehash, now, params)? {
                    Ok(info) => info,
                    Err(e) => return Ok(Reply::Revert(e.abi_encode())),
                }
            };
        }
        let out = match call {
            C::activateProgram(c) => {
                return Self::activate(ctx, inputs, runtime, c.program, now, gas)
            }
            C::codehashKeepalive(c) => {
                return Self::keepalive(ctx, inputs, runtime, c.codehash, now)
            }
            C::stylusVersion(_) => params.version.abi_encode(),
            C::codehashVersion(c) => active!(c.codehash).version.abi_encode(),
            C::codehashAsmSize(c) => {
                (active!(c.codehash).asm_estimate_kb.saturating_mul(1024)).abi_encode()
            }
            C::programVersion(c) => {
                let h = program_of(ctx, c.program)?;
                active!(h).version.abi_encode()
            }
            C::programInitGas(c) => {
                let h = program_of(ctx, c.program)?;
                let info = active!(h);
                let cached = cached_gas(&info, params);
                (init_gas(&info, params) + cached, cached).abi_encode_params()
            }
            C::programMemoryFootprint(c) => {
                let h = program_of(ctx, c.program)?;
                active!(h).footprint.abi_encode()
            }
            C::programTimeLeft(c) => {
                let h = program_of(ctx, c.program)?;
                let info = active!(h);
                (u64::from(params.expiry_days) * 86400)
                    .saturating_sub(age_secs(&info, now))
                    .abi_encode()
            }
            C::inkPrice(_) => params.ink_price.abi_encode(),
            C::maxStackDepth(_) => params.max_stack_depth.abi_encode(),
            C::freePages(_) => params.free_pages.abi_encode(),
            C::pageGas(_) => params.page_gas.abi_encode(),
            C::pageRamp(_) => params.page_ramp.abi_encode(),
            C::pageLimit(_) => params.page_limit.abi_encode(),
            C::minInitGas(_) => (params.init_gas(0), params.cached_gas(0)).abi_encode_params(),
            C::initCostScalar(_) => (u64::from(params.init_cost_scalar) * 2).abi_encode(),
            C::expiryDays(_) => params.expiry_days.abi_encode(),
            C::keepaliveDays(_) => params.keepalive_days.abi_encode(),
            C::blockCacheSize(_) => params.block_cache_size.abi_encode(),
            C::activationGas(_) => params.activation_gas.abi_encode(),
        };
        Ok(Reply::Ok(out))
    }

    fn activate<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
        program: Address,
        now: u64,
        gas: &mut Gas,
    ) -> Result<Reply, DB::Error> {
        let params = &runtime.params;
        if !gas.record_regular_cost(ACTIVATION_FIXED_GAS.saturating_add(params.activation_gas)) {
            return Ok(Reply::Halt);
        }
        let code = ctx.journal_mut().code(program)?.data;
        let codehash = ctx.journal_mut().code_hash(program)?.data;
        if !is_stylus_program(&code) {
            return Ok(Reply::Revert(IArbWasm::ProgramNotWasm {}.abi_encode()));
        }
        let previous = ProgramInfo::from_word(read_word(ctx, program_slot(codehash))?);
        if let Some(old) = previous {
            if old.version == params.version
                && age_secs(&old, now) <= u64::from(params.expiry_days) * 86400
            {
                return Ok(Reply::Revert(IArbWasm::ProgramUpToDate {}.abi_encode()));
            }
        }
        let activation = match runtime.activate(codehash, &code) {
            Ok(a) => a,
            Err(e) => {
                // nitro burns all gas on a failed activation; the reason is kept in
                // the revert data (Error(string)) so that a developer can read it.
                tracing::debug!(%program, "activation rejected: {e}");
                gas.spend_all();
                let reason = alloy_sol_types::Revert::from(format!("activation failed: {e}"));
                return Ok(Reply::Revert(reason.abi_encode()));
            }
        };
        let info = ProgramInfo {
            version: params.version,
            init_cost: activation.init_cost,
            cached_init_cost: activation.cached_init_cost,
            footprint: activation.footprint,
            asm_estimate_kb: activation.asm_estimate.div_ceil(1024),
            activated_at: hours_since_arbitrum(now),
            // A re-activation (upgrade, expiry) stays in the cache, as on nitro.
            cached: previous.is_some_and(|p| p.cached),
        };
        let data_fee = match Self::pay_and_record(
            ctx,
            inputs,
            codehash,
            info,
            activation.asm_estimate,
            now,
        )? {
            Ok(fee) => fee,
            Err(revert) => return Ok(revert),
        };
        let event = IArbWasm::ProgramActivated {
            codehash,
            moduleHash: activation.module_hash,
            program,
            dataFee: data_fee,
            version: params.version,
        };
        ctx.journal_mut().log(Log {
            address: ARB_WASM,
            data: event.encode_log_data(),
        });
        Ok(Reply::Ok((params.version, data_fee).abi_encode_params()))
    }

    fn keepalive<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
        codehash: B256,
        now: u64,
    ) -> Result<Reply, DB::Error> {
        let params = &runtime.params;
        let mut info = match active_program(ctx, codehash, now, params)? {
            Ok(info) => info,
            Err(e) => return Ok(Reply::Revert(e.abi_encode())),
        };
        let age = age_secs(&info, now);
        if age < u64::from(params.keepalive_days) * 86400 {
            return Ok(Reply::Revert(
                IArbWasm::ProgramKeepaliveTooSoon { ageInSeconds: age }.abi_encode(),
            ));
        }
        info.activated_at = hours_since_arbitrum(now);
        let bytes = info.asm_estimate_kb.saturating_mul(1024);
        let data_fee = match Self::pay_and_record(ctx, inputs, codehash, info, bytes, now)? {
            Ok(fee) => fee,
            Err(revert) => return Ok(revert),
        };
        let event = IArbWasm::ProgramLifetimeExtended {
            codehash,
            dataFee: data_fee,
        };
        ctx.journal_mut().log(Log {
            address: ARB_WASM,
            data: event.encode_log_data(),
        });
        Ok(Reply::Ok(Vec::new()))
    }

    /// What activation and keepalive share: price `bytes`, require the value sent to
    /// cover the fee (`ProgramInsufficientValue` otherwise), record `info` for
    /// `codehash`, and settle the fee. Returns the fee, or the revert to answer with.
    fn pay_and_record<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        codehash: B256,
        info: ProgramInfo,
        bytes: u32,
        now: u64,
    ) -> Result<Result<U256, Reply>, DB::Error> {
        let data_fee = Self::data_fee(ctx, bytes, now)?;
        let value = inputs.value.get();
        if value < data_fee {
            let error = IArbWasm::ProgramInsufficientValue {
                have: value,
                want: data_fee,
            };
            return Ok(Err(Reply::Revert(error.abi_encode())));
        }
        write_word(ctx, program_slot(codehash), info.to_word())?;
        Self::settle_fee(ctx, inputs.caller, value, data_fee)?;
        Ok(Ok(data_fee))
    }

    /// nitro's data pricer, its state in two words of the precompile's storage.
    fn data_fee<DB: Database>(
        ctx: &mut StylusContext<DB>,
        bytes: u32,
        now: u64,
    ) -> Result<U256, DB::Error> {
        let mut pricer = stylus_vm::activation::DataPricer::default();
        let last = read_word(ctx, PRICER_UPDATE_SLOT)?;
        if !last.is_zero() {
            pricer.demand = read_word(ctx, PRICER_DEMAND_SLOT)?.saturating_to();
            pricer.last_update_time = last.saturating_to();
        }
        let fee = pricer.update(bytes, now);
        write_word(ctx, PRICER_DEMAND_SLOT, U256::from(pricer.demand))?;
        write_word(ctx, PRICER_UPDATE_SLOT, U256::from(pricer.last_update_time))?;
        Ok(fee)
    }

    /// The value sent was credited to the precompile: the fee goes to the network
    /// fee account and the rest back to the caller, as nitro's payActivationDataFee.
    fn settle_fee<DB: Database>(
        ctx: &mut StylusContext<DB>,
        caller: Address,
        value: U256,
        fee: U256,
    ) -> Result<(), DB::Error> {
        let journal = ctx.journal_mut();
        if !fee.is_zero() {
            journal.transfer(ARB_WASM, NETWORK_FEE_ACCOUNT, fee)?;
        }
        if value > fee {
            journal.transfer(ARB_WASM, caller, value - fee)?;
        }
        Ok(())
    }

    /// ArbOwnerPublic: only what cargo-stylus asks.
    pub(crate) fn owner_public(input: &[u8], gas_limit: u64) -> InterpreterResult {
        let gas = Gas::new(gas_limit);
        if input.starts_with(&ArbOwnerPublic::getMaxStylusContractFragmentsCall::SELECTOR) {
            // Fragmented programs are not supported: 0 fragments tells cargo-stylus so.
            return InterpreterResult::new(
                InstructionResult::Return,
                U256::ZERO.abi_encode().into(),
                gas,
            );
        }
        InterpreterResult::new(InstructionResult::Revert, Bytes::new(), gas)
    }
}
