//! ArbOS's ArbWasm precompile (0x71): activation, keepalive and the views cargo-stylus asks
//! for (nitro `precompiles/ArbWasm.go`, `arbos/programs/programs.go`).

use super::addresses::{ARB_WASM, NETWORK_FEE_ACCOUNT};
use super::programs::{
    active_program, days, hours_since_arbitrum, program_slot, read_word, write_word, ProgramError,
    ProgramInfo,
};
use super::reply::{self, PrecompileError};
use crate::evm::context::StylusContext;
use crate::evm::runtime::StylusRuntime;
use alloy_primitives::{Address, Log, B256, U256};
use alloy_sol_types::{sol, SolError, SolEvent, SolInterface, SolValue};
use revm::context_interface::{Block, ContextTr, JournalTr};
use revm::database_interface::Database;
use revm::interpreter::gas::ISTANBUL_SLOAD_GAS;
use revm::interpreter::{CallInputs, Gas, InterpreterResult};
use stylus_vm::activation::{DataPricer, ACTIVATION_FIXED_GAS};
use stylus_vm::program::is_stylus_program;

/// The data pricer's state in ArbWasm's storage (the program records are elsewhere in it,
/// at [`program_slot`]).
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
}

/// A program that may not run reverts with ArbWasm's custom error of the same name, in
/// ArbWasm's views and, as on nitro, when the program is called.
impl<E> From<ProgramError<E>> for PrecompileError<E> {
    fn from(e: ProgramError<E>) -> Self {
        let data = match e {
            ProgramError::NotActivated => IArbWasm::ProgramNotActivated {}.abi_encode(),
            ProgramError::NeedsUpgrade {
                version,
                stylus_version,
            } => IArbWasm::ProgramNeedsUpgrade {
                version,
                stylusVersion: stylus_version,
            }
            .abi_encode(),
            ProgramError::Expired { age_secs } => IArbWasm::ProgramExpired {
                ageInSeconds: age_secs,
            }
            .abi_encode(),
            ProgramError::Db(e) => return Self::Db(e),
        };
        Self::Revert(data)
    }
}

/// The precompile itself.
pub struct ArbWasm;

impl ArbWasm {
    pub(crate) fn run<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
    ) -> Result<InterpreterResult, String> {
        reply::run(ctx, inputs, "ArbWasm", |ctx, input, gas| {
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
        use IArbWasm::IArbWasmCalls as C;
        let params = &runtime.params;
        let now = ctx.block().timestamp().saturating_to::<u64>();
        let Ok(call) = C::abi_decode(input) else {
            return Err(PrecompileError::Revert(Vec::new()));
        };
        let value = inputs.value.get();
        if !value.is_zero() && !matches!(call, C::activateProgram(_) | C::codehashKeepalive(_)) {
            return Err(PrecompileError::Revert(Vec::new())); // non-payable
        }
        // ArbOS charges each storage read a view makes; one flat read (nitro's
        // SloadGasEIP2200) stands for them all, as docs/devnode.md says.
        if !gas.record_regular_cost(ISTANBUL_SLOAD_GAS) {
            return Err(PrecompileError::Halt);
        }
        // The activation a view asks about, named by code hash or by program address.
        type Found<E> = Result<ProgramInfo, ProgramError<E>>;
        let by_hash = |ctx: &mut StylusContext<DB>, codehash: B256| -> Found<DB::Error> {
            active_program(ctx, codehash, now, params)
        };
        let by_address = |ctx: &mut StylusContext<DB>, program: Address| -> Found<DB::Error> {
            let codehash = ctx.journal_mut().code_hash(program)?.data;
            by_hash(ctx, codehash)
        };
        let out = match call {
            C::activateProgram(c) => {
                return Self::activate(ctx, inputs, runtime, c.program, now, gas)
            }
            C::codehashKeepalive(c) => {
                return Self::keepalive(ctx, inputs, runtime, c.codehash, now)
            }
            C::stylusVersion(_) => params.version.abi_encode(),
            C::codehashVersion(c) => by_hash(ctx, c.codehash)?.version.abi_encode(),
            C::codehashAsmSize(c) => {
                let kb = by_hash(ctx, c.codehash)?.asm_estimate_kb;
                kb.saturating_mul(1024).abi_encode()
            }
            C::programVersion(c) => by_address(ctx, c.program)?.version.abi_encode(),
            C::programInitGas(c) => {
                let info = by_address(ctx, c.program)?;
                let cached = info.cached_gas(params);
                (info.init_gas(params) + cached, cached).abi_encode_params()
            }
            C::programMemoryFootprint(c) => by_address(ctx, c.program)?.footprint.abi_encode(),
            C::programTimeLeft(c) => {
                let info = by_address(ctx, c.program)?;
                days(params.expiry_days)
                    .saturating_sub(info.age_secs(now))
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
        Ok(out)
    }

    fn activate<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
        program: Address,
        now: u64,
        gas: &mut Gas,
    ) -> Result<Vec<u8>, PrecompileError<DB::Error>> {
        let params = &runtime.params;
        if !gas.record_regular_cost(ACTIVATION_FIXED_GAS.saturating_add(params.activation_gas)) {
            return Err(PrecompileError::Halt);
        }
        let code = ctx.journal_mut().code(program)?.data;
        let codehash = ctx.journal_mut().code_hash(program)?.data;
        if !is_stylus_program(&code) {
            return Err(PrecompileError::Revert(
                IArbWasm::ProgramNotWasm {}.abi_encode(),
            ));
        }
        let previous = ProgramInfo::from_word(read_word(ctx, program_slot(codehash))?);
        if let Some(old) = previous {
            if old.version == params.version && old.age_secs(now) <= days(params.expiry_days) {
                return Err(PrecompileError::Revert(
                    IArbWasm::ProgramUpToDate {}.abi_encode(),
                ));
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
                return Err(PrecompileError::Revert(reason.abi_encode()));
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
        let data_fee =
            Self::pay_and_record(ctx, inputs, codehash, info, activation.asm_estimate, now)?;
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
        Ok((params.version, data_fee).abi_encode_params())
    }

    fn keepalive<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        runtime: &StylusRuntime,
        codehash: B256,
        now: u64,
    ) -> Result<Vec<u8>, PrecompileError<DB::Error>> {
        let params = &runtime.params;
        let mut info = active_program(ctx, codehash, now, params)?;
        let age = info.age_secs(now);
        if age < days(params.keepalive_days) {
            return Err(PrecompileError::Revert(
                IArbWasm::ProgramKeepaliveTooSoon { ageInSeconds: age }.abi_encode(),
            ));
        }
        info.activated_at = hours_since_arbitrum(now);
        let bytes = info.asm_estimate_kb.saturating_mul(1024);
        let data_fee = Self::pay_and_record(ctx, inputs, codehash, info, bytes, now)?;
        let event = IArbWasm::ProgramLifetimeExtended {
            codehash,
            dataFee: data_fee,
        };
        ctx.journal_mut().log(Log {
            address: ARB_WASM,
            data: event.encode_log_data(),
        });
        Ok(Vec::new())
    }

    /// What activation and keepalive share: price `bytes`, require the value sent to
    /// cover the fee (`ProgramInsufficientValue` otherwise), record `info` for
    /// `codehash`, and settle the fee. Returns the fee.
    fn pay_and_record<DB: Database>(
        ctx: &mut StylusContext<DB>,
        inputs: &CallInputs,
        codehash: B256,
        info: ProgramInfo,
        bytes: u32,
        now: u64,
    ) -> Result<U256, PrecompileError<DB::Error>> {
        let data_fee = Self::data_fee(ctx, bytes, now)?;
        let value = inputs.value.get();
        if value < data_fee {
            let error = IArbWasm::ProgramInsufficientValue {
                have: value,
                want: data_fee,
            };
            return Err(PrecompileError::Revert(error.abi_encode()));
        }
        write_word(ctx, program_slot(codehash), info.to_word())?;
        Self::settle_fee(ctx, inputs.caller, value, data_fee)?;
        Ok(data_fee)
    }

    /// nitro's data pricer, its state in two words of the precompile's storage.
    fn data_fee<DB: Database>(
        ctx: &mut StylusContext<DB>,
        bytes: u32,
        now: u64,
    ) -> Result<U256, DB::Error> {
        let mut pricer = DataPricer::default();
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
}
