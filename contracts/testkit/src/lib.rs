//! An in-memory chain for host unit tests of Stylus contracts that call each other.
//!
//! stylus-sdk's `TestVM` hosts one contract and answers its outgoing calls from
//! mocks (and answers every call with the data of the *last* mock registered),
//! so it cannot check that RecordRegistry, AccessToken and PatientRegistry agree.
//! [`Chain`] hosts several contracts at once: each gets its own storage and
//! address, outgoing calls are routed to the target contract's real router, a call
//! that reverts rolls back every storage write it made, and the block clock is
//! shared. It is a host for unit tests, not a blockchain: no gas, no value
//! transfers, no deployment.
//!
//! ```text
//! let chain = Chain::new();
//! let registry: PatientRegistry = chain.deploy(REGISTRY, router_entrypoint::<PatientRegistry, PatientRegistry>);
//! chain.as_sender(ALICE);
//! chain.tx(|| registry.register_patient(key))?;
//! ```
//!
//! On top of it, what the contracts' unit tests share: [`Contract`], one
//! contract with the ways a test calls it (a typed call as a transaction from a
//! chosen sender, calldata through its router, an expected revert decoded);
//! [`events`] and [`only_event`], which decode logs; [`careledger`], the
//! accounts and the deployment of the three contracts with their set-up calls;
//! and [`any_calldata!`], calldata a router must survive.
//!
//! ```text
//! let chain = Chain::new();
//! let mut registry: Contract<PatientRegistry> = careledger::deploy_patient_registry(&chain);
//! careledger::register_patients(&chain, &[PATIENT]);
//! registry.send(OWNER, |r| r.pause())?;
//! let err: IPatientRegistryErrors = registry.revert(PATIENT, I::registerPatientCall { … });
//! ```

use std::{cell::RefCell, collections::HashMap, rc::Rc};

pub mod careledger;
mod contract;

pub use contract::{constructor_calldata, events, only_event, ConstructorArgs, Contract, Routed};

use alloy_primitives::{Address, B256, U256};
use stylus_sdk::{host::VM, stylus_core::*, ArbResult};

/// What a contract's router entry point looks like: `router_entrypoint::<C, C>`.
pub type Entry = fn(Vec<u8>, VM) -> ArbResult;

/// One emitted log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    /// The contract that emitted it.
    pub address: Address,
    /// Its topics: the event's signature hash, then its indexed fields.
    pub topics: Vec<B256>,
    /// Its non-indexed fields, ABI-encoded.
    pub data: Vec<u8>,
}

#[derive(Clone, Copy)]
struct Frame {
    address: Address,
    sender: Address,
}

struct State {
    timestamp: u64,
    block_number: u64,
    chain_id: u64,
    origin: Address,
    sender: Address,
    contracts: HashMap<Address, Entry>,
    storage: HashMap<Address, HashMap<U256, B256>>,
    frames: Vec<Frame>,
    return_data: Vec<u8>,
    logs: Vec<Log>,
}

/// A handle on the shared chain; clones see the same state.
#[derive(Clone)]
pub struct Chain {
    state: Rc<RefCell<State>>,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// A chain at timestamp 1,700,000,000 with nitro-devnode's chain id.
    pub fn new() -> Self {
        Self {
            state: Rc::new(RefCell::new(State {
                timestamp: 1_700_000_000,
                block_number: 1,
                chain_id: 412_346,
                origin: Address::ZERO,
                sender: Address::ZERO,
                contracts: HashMap::new(),
                storage: HashMap::new(),
                frames: Vec::new(),
                return_data: Vec::new(),
                logs: Vec::new(),
            })),
        }
    }

    /// Places a contract at `address` and returns a typed handle on its storage.
    /// `entry` is `stylus_sdk::abi::router_entrypoint::<C, C>`: calls from other
    /// contracts and [`Chain::call`] go through it, exactly as calldata would.
    pub fn deploy<C>(&self, address: Address, entry: Entry) -> C
    where
        C: for<'a> From<&'a ChainHost>,
    {
        self.place(address, entry);
        C::from(&self.host(address))
    }

    /// Places code at `address` without a typed handle: a hand-written `entry`
    /// stands in for a contract whose own tests live elsewhere.
    pub fn place(&self, address: Address, entry: Entry) {
        let mut s = self.state.borrow_mut();
        s.contracts.insert(address, entry);
        s.storage.entry(address).or_default();
    }

    /// The host a contract at `address` sees.
    pub fn host(&self, address: Address) -> ChainHost {
        ChainHost {
            chain: self.clone(),
            address,
        }
    }

    /// Sets `msg.sender` (and `tx.origin`) for the typed calls that follow.
    pub fn as_sender(&self, sender: Address) {
        let mut s = self.state.borrow_mut();
        s.sender = sender;
        s.origin = sender;
    }

    /// Runs a typed call as one transaction: if it returns `Err`, every storage
    /// write and log it made is rolled back, as a revert would.
    pub fn tx<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let (storage, logs) = self.checkpoint();
        let result = f();
        if result.is_err() {
            self.restore(storage, logs);
        }
        result
    }

    /// Sends raw calldata to `to` from `from`, through the contract's router.
    /// Unknown addresses answer with empty success, as a call to an EOA does.
    pub fn call(&self, from: Address, to: Address, calldata: &[u8]) -> ArbResult {
        self.dispatch(from, to, calldata.to_vec())
    }

    /// Moves the clock forward by `secs` and mines a block.
    pub fn advance(&self, secs: u64) {
        let mut s = self.state.borrow_mut();
        s.timestamp += secs;
        s.block_number += 1;
    }

    /// The current block timestamp.
    pub fn timestamp(&self) -> u64 {
        self.state.borrow().timestamp
    }

    /// Every log emitted so far, oldest first.
    pub fn logs(&self) -> Vec<Log> {
        self.state.borrow().logs.clone()
    }

    /// Returns and forgets the logs emitted so far.
    pub fn take_logs(&self) -> Vec<Log> {
        std::mem::take(&mut self.state.borrow_mut().logs)
    }

    /// Every storage slot of `address` that holds a non-zero word.
    pub fn storage_of(&self, address: Address) -> HashMap<U256, B256> {
        let s = self.state.borrow();
        s.storage
            .get(&address)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (*k, *v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every contract's non-zero storage slots.
    fn all_storage(&self) -> HashMap<Address, HashMap<U256, B256>> {
        let addresses: Vec<Address> = self.state.borrow().storage.keys().copied().collect();
        addresses
            .into_iter()
            .map(|a| (a, self.storage_of(a)))
            .collect()
    }

    fn checkpoint(&self) -> Checkpoint {
        let s = self.state.borrow();
        (s.storage.clone(), s.logs.len())
    }

    fn restore(&self, storage: HashMap<Address, HashMap<U256, B256>>, logs: usize) {
        let mut s = self.state.borrow_mut();
        s.storage = storage;
        s.logs.truncate(logs);
    }

    fn dispatch(&self, from: Address, to: Address, calldata: Vec<u8>) -> ArbResult {
        let entry = {
            let s = self.state.borrow();
            // Mirror the WASM entry point: a program already on the stack refuses
            // to be entered again (stylus-sdk without the `reentrant` feature).
            if s.frames.iter().any(|f| f.address == to) {
                return Err(Vec::new());
            }
            s.contracts.get(&to).copied()
        };
        let Some(entry) = entry else {
            return Ok(Vec::new());
        };
        let (storage, logs) = self.checkpoint();
        self.state.borrow_mut().frames.push(Frame {
            address: to,
            sender: from,
        });
        let vm = VM {
            host: Box::new(self.host(to)),
        };
        let result = entry(calldata, vm);
        self.state.borrow_mut().frames.pop();
        if result.is_err() {
            self.restore(storage, logs);
        }
        result
    }
}

/// Snapshot of every contract's storage and the log count, for revert.
type Checkpoint = (HashMap<Address, HashMap<U256, B256>>, usize);

/// The host one contract sees: its own storage, the shared clock, and calls
/// routed to the other contracts on the [`Chain`].
#[derive(Clone)]
pub struct ChainHost {
    chain: Chain,
    address: Address,
}

impl ChainHost {
    fn state(&self) -> std::cell::RefMut<'_, State> {
        self.chain.state.borrow_mut()
    }

    /// Runs a call from this contract and leaves its output as return data.
    fn outgoing(&self, to: Address, data: &[u8], outs_len: &mut usize) -> u8 {
        let result = self.chain.dispatch(self.address, to, data.to_vec());
        let (status, out) = match result {
            Ok(out) => (0, out),
            Err(out) => (1, out),
        };
        *outs_len = out.len();
        self.state().return_data = out;
        status
    }
}

impl Host for ChainHost {}

impl CryptographyAccess for ChainHost {
    fn native_keccak256(&self, input: &[u8]) -> B256 {
        alloy_primitives::keccak256(input)
    }
}

impl CalldataAccess for ChainHost {
    fn read_args(&self, _len: usize) -> Vec<u8> {
        // Calldata reaches the router directly; nothing reads it through the host.
        Vec::new()
    }

    fn read_return_data(&self, offset: usize, size: Option<usize>) -> Vec<u8> {
        let s = self.chain.state.borrow();
        let start = offset.min(s.return_data.len());
        let end = size.map_or(s.return_data.len(), |n| {
            (start + n).min(s.return_data.len())
        });
        s.return_data[start..end].to_vec()
    }

    fn return_data_size(&self) -> usize {
        self.chain.state.borrow().return_data.len()
    }

    fn write_result(&self, _data: &[u8]) {}
}

unsafe impl UnsafeDeploymentAccess for ChainHost {
    unsafe fn create1(
        &self,
        _code: *const u8,
        _code_len: usize,
        _endowment: *const u8,
        contract: *mut u8,
        revert_data_len: *mut usize,
    ) {
        // Deployment is out of scope: report a failed create (zero address).
        unsafe {
            std::ptr::write_bytes(contract, 0, 20);
            *revert_data_len = 0;
        }
    }

    unsafe fn create2(
        &self,
        _code: *const u8,
        _code_len: usize,
        _endowment: *const u8,
        _salt: *const u8,
        contract: *mut u8,
        revert_data_len: *mut usize,
    ) {
        unsafe {
            std::ptr::write_bytes(contract, 0, 20);
            *revert_data_len = 0;
        }
    }
}

impl StorageAccess for ChainHost {
    fn storage_load_bytes32(&self, key: U256) -> B256 {
        let s = self.chain.state.borrow();
        s.storage
            .get(&self.address)
            .and_then(|m| m.get(&key))
            .copied()
            .unwrap_or_default()
    }

    unsafe fn storage_cache_bytes32(&self, key: U256, value: B256) {
        let address = self.address;
        self.state()
            .storage
            .entry(address)
            .or_default()
            .insert(key, value);
    }

    fn flush_cache(&self, _clear: bool) {}
}

unsafe impl UnsafeCallAccess for ChainHost {
    unsafe fn call_contract(
        &self,
        to: *const u8,
        data: *const u8,
        data_len: usize,
        _value: *const u8,
        _gas: u64,
        outs_len: &mut usize,
    ) -> u8 {
        let (to, data) = unsafe { call_args(to, data, data_len) };
        self.outgoing(to, data, outs_len)
    }

    unsafe fn static_call_contract(
        &self,
        to: *const u8,
        data: *const u8,
        data_len: usize,
        _gas: u64,
        outs_len: &mut usize,
    ) -> u8 {
        let (to, data) = unsafe { call_args(to, data, data_len) };
        self.outgoing(to, data, outs_len)
    }

    unsafe fn delegate_call_contract(
        &self,
        _to: *const u8,
        _data: *const u8,
        _data_len: usize,
        _gas: u64,
        outs_len: &mut usize,
    ) -> u8 {
        // No CareLedger contract delegates; fail loudly rather than pretend.
        *outs_len = 0;
        self.state().return_data.clear();
        1
    }
}

/// Reads the raw call arguments the SDK passes to the call hostios.
///
/// # Safety
/// `to` must point at 20 readable bytes and `data` at `data_len` readable bytes,
/// which the SDK's call wrappers guarantee.
unsafe fn call_args<'a>(to: *const u8, data: *const u8, data_len: usize) -> (Address, &'a [u8]) {
    unsafe {
        let to = Address::from_slice(std::slice::from_raw_parts(to, 20));
        let data = if data_len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(data, data_len)
        };
        (to, data)
    }
}

impl BlockAccess for ChainHost {
    fn block_basefee(&self) -> U256 {
        U256::from(100_000_000u64)
    }
    fn block_coinbase(&self) -> Address {
        Address::ZERO
    }
    fn block_number(&self) -> u64 {
        self.chain.state.borrow().block_number
    }
    fn block_timestamp(&self) -> u64 {
        self.chain.state.borrow().timestamp
    }
    fn block_gas_limit(&self) -> u64 {
        32_000_000
    }
}

impl ChainAccess for ChainHost {
    fn chain_id(&self) -> u64 {
        self.chain.state.borrow().chain_id
    }
}

impl AccountAccess for ChainHost {
    fn balance(&self, _account: Address) -> U256 {
        U256::ZERO
    }
    fn contract_address(&self) -> Address {
        self.address
    }
    fn code(&self, account: Address) -> Vec<u8> {
        // Contracts have code; the bytes themselves are not modelled.
        if self.chain.state.borrow().contracts.contains_key(&account) {
            vec![0xef, 0xf0, 0x00]
        } else {
            Vec::new()
        }
    }
    fn code_size(&self, account: Address) -> usize {
        self.code(account).len()
    }
    fn code_hash(&self, account: Address) -> B256 {
        alloy_primitives::keccak256(self.code(account))
    }
}

impl MemoryAccess for ChainHost {
    fn pay_for_memory_grow(&self, _pages: u16) {}
}

impl MessageAccess for ChainHost {
    fn msg_sender(&self) -> Address {
        let s = self.chain.state.borrow();
        match s.frames.last() {
            Some(frame) if frame.address == self.address => frame.sender,
            _ => s.sender,
        }
    }
    fn msg_reentrant(&self) -> bool {
        let s = self.chain.state.borrow();
        s.frames
            .iter()
            .filter(|f| f.address == self.address)
            .count()
            > 1
    }
    fn msg_value(&self) -> U256 {
        U256::ZERO
    }
    fn tx_origin(&self) -> Address {
        self.chain.state.borrow().origin
    }
}

impl MeteringAccess for ChainHost {
    fn evm_gas_left(&self) -> u64 {
        u64::MAX
    }
    fn evm_ink_left(&self) -> u64 {
        u64::MAX
    }
    fn tx_gas_price(&self) -> U256 {
        U256::ZERO
    }
    fn tx_ink_price(&self) -> u32 {
        10_000
    }
}

impl RawLogAccess for ChainHost {
    fn emit_log(&self, input: &[u8], num_topics: usize) {
        let split = (num_topics * 32).min(input.len());
        let topics = input[..split].chunks(32).map(B256::from_slice).collect();
        let address = self.address;
        self.state().logs.push(Log {
            address,
            topics,
            data: input[split..].to_vec(),
        });
    }

    fn raw_log(&self, topics: &[B256], data: &[u8]) -> Result<(), &'static str> {
        if topics.len() > 4 {
            return Err("too many topics");
        }
        let address = self.address;
        self.state().logs.push(Log {
            address,
            topics: topics.to_vec(),
            data: data.to_vec(),
        });
        Ok(())
    }
}

/// A proptest strategy of calldata a router must survive: random bytes, or one
/// of `selectors` (`[u8; 4]`s, such as a `sol!` interface's
/// `…Calls::SELECTORS`) followed by random bytes, each part shorter than
/// `max_len`.
///
/// A macro, expanded in the calling crate, which must depend on `proptest`: the
/// testkit itself depends on stylus-sdk and alloy only.
#[macro_export]
macro_rules! any_calldata {
    ($selectors:expr, $max_len:expr) => {{
        use ::proptest::strategy::Strategy as _;
        let raw = ::proptest::collection::vec(::proptest::arbitrary::any::<u8>(), 0..$max_len);
        let prefixed = (
            ::proptest::sample::select($selectors),
            ::proptest::collection::vec(::proptest::arbitrary::any::<u8>(), 0..$max_len),
        )
            .prop_map(|(selector, tail): ([u8; 4], Vec<u8>)| [&selector[..], &tail].concat());
        ::proptest::prop_oneof![raw, prefixed]
    }};
}
