//! What a Stylus program asks of the EVM around it. Modelled on nitro's `EvmApi`
//! (arbutil/src/evm/api.rs): the host does ink accounting and the storage cache,
//! the EVM answers with values and gas costs by its own rules.

use alloy_primitives::{Address, Bytes, B256, U256};

/// The call opcode a program's `*_call_contract` hostio stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// CALL (`call_contract`): the only kind that transfers value.
    Call,
    /// DELEGATECALL (`delegate_call_contract`): the callee's code on the caller's
    /// storage, sender and value.
    DelegateCall,
    /// STATICCALL (`static_call_contract`): the callee may not change state.
    StaticCall,
}

/// What a nested call returned to the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// 0 on success, 1 when the callee reverted or failed (the hostio's status byte).
    pub status: u8,
    /// Output or revert data, kept by the host for `read_return_data`.
    pub return_data: Bytes,
    /// Gas the call consumed from the caller, access and value costs included.
    pub gas_cost: u64,
}

/// What `create1`/`create2` returned to the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOutcome {
    /// The new contract, or `Address::ZERO` when the init code reverted or failed.
    pub address: Address,
    /// Revert data of a reverted init code, empty otherwise.
    pub return_data: Bytes,
    /// Gas the creation consumed from the caller, CREATE costs included; the 64th kept
    /// back is not part of it.
    pub gas_cost: u64,
}

/// Why a storage flush or a state-changing hostio could not be honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// A state change inside a static call.
    WriteProtection,
    /// Not enough gas for the SSTOREs.
    OutOfGas,
}

/// The EVM side of a running program, one per program invocation (the frame's
/// acting address is implied).
pub trait EvmApi {
    /// SLOAD of the acting address: the value and its EIP-2929 cost (cold or warm).
    fn sload(&mut self, key: B256) -> (B256, u64);
    /// SSTORE of the acting address with `gas_left` available: its EIP-2200/2929 cost.
    fn sstore(&mut self, key: B256, value: B256, gas_left: u64) -> Result<u64, WriteError>;
    /// TLOAD.
    fn tload(&mut self, key: B256) -> B256;
    /// TSTORE.
    fn tstore(&mut self, key: B256, value: B256) -> Result<(), WriteError>;
    /// A nested call. `gas_left` is all the program has, `gas_req` what it asked to forward;
    /// the EVM applies the 63/64 rule, access and value costs as nitro's `doCall`.
    fn call(
        &mut self,
        kind: CallKind,
        to: Address,
        input: &[u8],
        gas_left: u64,
        gas_req: u64,
        value: U256,
    ) -> CallOutcome;
    /// CREATE (no salt) or CREATE2, with all of `gas` available (one 64th is kept back).
    /// `Err` is a hard failure that aborts the program, such as write protection.
    fn create(
        &mut self,
        init_code: &[u8],
        endowment: U256,
        salt: Option<B256>,
        gas: u64,
    ) -> Result<CreateOutcome, String>;
    /// LOGn from the acting address. `Err` aborts the program (write protection).
    fn emit_log(&mut self, topics: Vec<B256>, data: Bytes) -> Result<(), String>;
    /// BALANCE: value and access cost.
    fn balance(&mut self, address: Address) -> (U256, u64);
    /// EXTCODECOPY's account read: code (empty if `gas_left` cannot pay) and access cost.
    fn code(&mut self, address: Address, gas_left: u64) -> (Bytes, u64);
    /// EXTCODEHASH: hash and access cost.
    fn codehash(&mut self, address: Address) -> (B256, u64);
    /// Opens `pages` more WASM pages in this transaction: their gas by nitro's memory model.
    fn add_pages(&mut self, pages: u16) -> u64;
    /// A `console` hostio's text (debug chains only).
    fn console_log(&mut self, _text: &str) {}
}

/// The block, transaction and message a program runs in (nitro's `EvmData`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvmData {
    /// BASEFEE, for `block_basefee`.
    pub block_basefee: U256,
    /// CHAINID, for `chainid`.
    pub chain_id: u64,
    /// COINBASE, for `block_coinbase`.
    pub block_coinbase: Address,
    /// GASLIMIT, for `block_gas_limit`.
    pub block_gas_limit: u64,
    /// NUMBER, for `block_number`.
    pub block_number: u64,
    /// TIMESTAMP, for `block_timestamp`.
    pub block_timestamp: u64,
    /// ADDRESS (the acting address), for `contract_address`.
    pub contract_address: Address,
    /// CALLER, for `msg_sender`.
    pub msg_sender: Address,
    /// CALLVALUE, for `msg_value`.
    pub msg_value: U256,
    /// GASPRICE, for `tx_gas_price`.
    pub tx_gas_price: U256,
    /// ORIGIN, for `tx_origin`.
    pub tx_origin: Address,
    /// Whether this program already has a frame lower on the call stack.
    pub reentrant: bool,
}
