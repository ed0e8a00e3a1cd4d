//! `stylus_vm::EvmApi` over revm's journal: nitro's `newApiClosures`
//! (arbos/programs/api.go) for one program invocation.

use crate::evm::context::StylusContext;
use crate::evm::program_frame::ProgramFrame;
use crate::evm::stylus_evm::StylusEvm;
use alloy_primitives::{Address, Bytes, Log, LogData, B256, U256};
use revm::bytecode::Bytecode;
use revm::context_interface::context::ContextError;
use revm::context_interface::{Cfg, ContextTr, JournalTr};
use revm::database_interface::Database;
use revm::handler::evm::ContextDbError;
use revm::handler::FrameResult;
use revm::interpreter::gas::{
    CALLVALUE, CALL_STIPEND, COLD_ACCOUNT_ACCESS_COST, COLD_SLOAD_COST, CREATE, KECCAK256WORD,
    NEWACCOUNT, WARM_STORAGE_READ_COST,
};
use revm::interpreter::interpreter_action::{FrameInit, FrameInput};
use revm::interpreter::{
    CallInput, CallInputs, CallScheme, CallValue, CreateInputs, CreateScheme, InstructionResult,
};
use revm::primitives::eip3860::MAX_INITCODE_SIZE;
use stylus_vm::evm_api::{CallKind, CallOutcome, CreateOutcome, EvmApi, WriteError};

/// The EVM as one program invocation sees it: its storage, calls and logs go to revm's
/// journal on behalf of the frame's acting address.
pub(crate) struct FrameApi<'a, DB: Database> {
    evm: &'a mut StylusEvm<DB>,
    acting: Address,
    caller: Address,
    value: U256,
    is_static: bool,
    depth: usize,
    /// SSTORE refunds and successful children's refunds, applied if the program succeeds.
    pub refund: i64,
    /// A database failure: aborts the whole transaction once the program returns.
    pub fatal: Option<ContextDbError<StylusContext<DB>>>,
}

impl<'a, DB: Database> FrameApi<'a, DB> {
    pub(crate) fn new(evm: &'a mut StylusEvm<DB>, p: &ProgramFrame) -> Self {
        Self {
            evm,
            acting: p.acting,
            caller: p.caller,
            value: p.value,
            is_static: p.is_static,
            depth: p.depth,
            refund: 0,
            fatal: None,
        }
    }

    fn ctx(&mut self) -> &mut StylusContext<DB> {
        &mut self.evm.inner.ctx
    }

    fn db<T: Default>(&mut self, r: Result<T, DB::Error>) -> T {
        r.unwrap_or_else(|e| {
            self.fatal.get_or_insert(ContextError::Db(e));
            T::default()
        })
    }

    /// (is_cold, is_empty, code, codehash) of an account, warming it.
    fn touch(&mut self, address: Address) -> (bool, bool, Bytecode, B256) {
        let loaded = self
            .ctx()
            .journal_mut()
            .load_account_with_code(address)
            .map(|acc| {
                (
                    acc.is_cold,
                    acc.data.is_empty(),
                    acc.data.info.code.clone().unwrap_or_default(),
                    acc.data.info.code_hash,
                )
            });
        match loaded {
            Ok(v) => v,
            Err(e) => {
                self.fatal.get_or_insert(ContextError::Db(e));
                (true, true, Bytecode::default(), B256::ZERO)
            }
        }
    }

    fn access_cost(is_cold: bool) -> u64 {
        if is_cold {
            COLD_ACCOUNT_ACCESS_COST
        } else {
            WARM_STORAGE_READ_COST
        }
    }

    fn nested(&mut self, input: FrameInput) -> Option<FrameResult> {
        if self.fatal.is_some() {
            return None;
        }
        let memory = self
            .evm
            .inner
            .frame_stack
            .get()
            .interpreter
            .memory
            .new_child_context();
        let init = FrameInit {
            depth: self.depth + 1,
            memory,
            frame_input: input,
        };
        let result = self.evm.run_nested(init);
        self.evm
            .inner
            .frame_stack
            .get()
            .interpreter
            .memory
            .free_child_context();
        match result {
            Ok(r) => Some(r),
            Err(e) => {
                self.fatal = Some(e);
                None
            }
        }
    }
}

impl<DB: Database> EvmApi for FrameApi<'_, DB> {
    fn sload(&mut self, key: B256) -> (B256, u64) {
        let acting = self.acting;
        let r = self.ctx().journal_mut().sload(acting, key.into());
        let loaded = self.db(r.map(|l| (l.data, l.is_cold)));
        (
            B256::from(loaded.0),
            if loaded.1 {
                COLD_SLOAD_COST
            } else {
                WARM_STORAGE_READ_COST
            },
        )
    }

    fn sstore(&mut self, key: B256, value: B256, _gas_left: u64) -> Result<u64, WriteError> {
        if self.is_static {
            return Err(WriteError::WriteProtection);
        }
        let acting = self.acting;
        let r = self
            .ctx()
            .journal_mut()
            .sstore(acting, key.into(), value.into());
        let load = match r {
            Ok(load) => load,
            Err(e) => {
                self.fatal.get_or_insert(ContextError::Db(e));
                return Err(WriteError::OutOfGas);
            }
        };
        let params = self.evm.inner.ctx.cfg().gas_params().clone();
        let cost =
            params.sstore_static_gas() + params.sstore_dynamic_gas(true, &load.data, load.is_cold);
        self.refund += params.sstore_refund(true, &load.data);
        Ok(cost)
    }

    fn tload(&mut self, key: B256) -> B256 {
        let acting = self.acting;
        B256::from(self.ctx().journal_mut().tload(acting, key.into()))
    }

    fn tstore(&mut self, key: B256, value: B256) -> Result<(), WriteError> {
        if self.is_static {
            return Err(WriteError::WriteProtection);
        }
        let acting = self.acting;
        self.ctx()
            .journal_mut()
            .tstore(acting, key.into(), value.into());
        Ok(())
    }

    fn call(
        &mut self,
        kind: CallKind,
        to: Address,
        input: &[u8],
        gas_left: u64,
        gas_req: u64,
        value: U256,
    ) -> CallOutcome {
        let fail = |gas_cost| CallOutcome {
            status: 1,
            return_data: Bytes::new(),
            gas_cost,
        };
        let transfers = kind == CallKind::Call && !value.is_zero();
        if transfers && self.is_static {
            return fail(0);
        }
        let (is_cold, is_empty, code, codehash) = self.touch(to);
        let mut base = Self::access_cost(is_cold);
        if transfers {
            base += CALLVALUE;
            if is_empty {
                base += NEWACCOUNT;
            }
        }
        if gas_left < base {
            return fail(gas_left);
        }
        let start_gas = (gas_left - base) * 63 / 64;
        let mut gas = start_gas.min(gas_req);
        if transfers {
            gas = gas.saturating_add(CALL_STIPEND);
        }
        let (target, caller, call_value, scheme) = match kind {
            CallKind::Call => (
                to,
                self.acting,
                CallValue::Transfer(value),
                CallScheme::Call,
            ),
            CallKind::DelegateCall => (
                self.acting,
                self.caller,
                CallValue::Apparent(self.value),
                CallScheme::DelegateCall,
            ),
            CallKind::StaticCall => (
                to,
                self.acting,
                CallValue::Transfer(U256::ZERO),
                CallScheme::StaticCall,
            ),
        };
        let inputs = CallInputs {
            input: CallInput::Bytes(Bytes::copy_from_slice(input)),
            return_memory_offset: 0..0,
            gas_limit: gas,
            reservoir: 0,
            bytecode_address: to,
            known_bytecode: (codehash, code),
            target_address: target,
            caller,
            value: call_value,
            scheme,
            is_static: self.is_static || kind == CallKind::StaticCall,
            charged_new_account_state_gas: false,
        };
        let Some(FrameResult::Call(outcome)) = self.nested(FrameInput::Call(Box::new(inputs)))
        else {
            return fail(gas_left);
        };
        let ok = outcome.result.result.is_ok();
        if ok {
            self.refund += outcome.result.gas.refunded();
        }
        let returned = outcome.result.gas.remaining();
        CallOutcome {
            status: if ok { 0 } else { 1 },
            return_data: outcome.result.output,
            gas_cost: base.saturating_add(gas.saturating_sub(returned)),
        }
    }

    fn create(
        &mut self,
        init_code: &[u8],
        endowment: U256,
        salt: Option<B256>,
        gas: u64,
    ) -> Result<CreateOutcome, String> {
        if self.is_static {
            return Err("write protection".into());
        }
        if init_code.len() > MAX_INITCODE_SIZE {
            return Err("max initcode size exceeded".into());
        }
        let mut base = CREATE;
        if salt.is_some() {
            base += KECCAK256WORD * (init_code.len() as u64).div_ceil(32);
        }
        if gas < base {
            return Err("out of gas".into());
        }
        let available = gas - base;
        let one_64th = available / 64;
        let child_gas = available - one_64th;
        let scheme = match salt {
            Some(salt) => CreateScheme::Create2 {
                salt: U256::from_be_bytes(salt.0),
            },
            None => CreateScheme::Create,
        };
        let inputs = CreateInputs::new(
            self.acting,
            scheme,
            endowment,
            Bytes::copy_from_slice(init_code),
            child_gas,
            0,
        );
        let Some(FrameResult::Create(outcome)) = self.nested(FrameInput::Create(Box::new(inputs)))
        else {
            return Err("create failed".into());
        };
        let returned = outcome.result.gas.remaining();
        let ok = outcome.result.result.is_ok();
        if ok {
            self.refund += outcome.result.gas.refunded();
        }
        let reverted = outcome.result.result == InstructionResult::Revert;
        Ok(CreateOutcome {
            address: if ok {
                outcome.address.unwrap_or_default()
            } else {
                Address::ZERO
            },
            return_data: if reverted {
                outcome.result.output
            } else {
                Bytes::new()
            },
            gas_cost: gas.saturating_sub(returned + one_64th),
        })
    }

    fn emit_log(&mut self, topics: Vec<B256>, data: Bytes) -> Result<(), String> {
        if self.is_static {
            return Err("write protection".into());
        }
        let acting = self.acting;
        self.ctx().journal_mut().log(Log {
            address: acting,
            data: LogData::new_unchecked(topics, data),
        });
        Ok(())
    }

    fn balance(&mut self, address: Address) -> (U256, u64) {
        let r = self
            .ctx()
            .journal_mut()
            .load_account(address)
            .map(|a| (a.data.info.balance, a.is_cold));
        let (balance, cold) = self.db(r);
        (balance, Self::access_cost(cold))
    }

    fn code(&mut self, address: Address, gas_left: u64) -> (Bytes, u64) {
        let (is_cold, _, code, _) = self.touch(address);
        let cost = Self::access_cost(is_cold);
        if gas_left < cost {
            return (Bytes::new(), cost);
        }
        (code.original_bytes(), cost)
    }

    fn codehash(&mut self, address: Address) -> (B256, u64) {
        let r = self
            .ctx()
            .journal_mut()
            .code_hash(address)
            .map(|l| (l.data, l.is_cold));
        let (hash, cold) = self.db(r);
        (hash, Self::access_cost(cold))
    }

    fn add_pages(&mut self, pages: u16) -> u64 {
        let state = &mut self.evm.tx_state;
        let (open, ever) = (state.open_pages, state.ever_pages);
        let new_open = open.saturating_add(pages);
        state.open_pages = new_open;
        state.ever_pages = ever.max(new_open);
        self.evm
            .runtime
            .params
            .memory_model()
            .gas_cost(pages, open, ever)
    }

    fn console_log(&mut self, text: &str) {
        tracing::info!(program = %self.acting, "console: {text}");
    }
}
