//! [`Contract`]: one contract on a [`Chain`], with the ways its unit tests call it.

use std::{
    borrow::BorrowMut,
    ops::{Deref, DerefMut},
};

use alloy_primitives::Address;
use alloy_sol_types::{abi::TokenSeq, SolCall, SolEvent, SolInterface, SolType, SolValue};
use stylus_sdk::{
    abi::{router_entrypoint, Router, CONSTRUCTOR_SELECTOR},
    storage::StorageType,
    stylus_core::{TopLevelStorage, ValueDenier},
    ArbResult,
};

use crate::{Chain, ChainHost, Entry, Log};

/// A `#[entrypoint]` contract type: storage the chain can host, with the router
/// `#[public]` generates. Every CareLedger contract is one.
pub trait Routed:
    Router<Self>
    + StorageType
    + TopLevelStorage
    + BorrowMut<<Self as Router<Self>>::Storage>
    + ValueDenier
    + for<'a> From<&'a ChainHost>
{
}

impl<C> Routed for C where
    C: Router<C>
        + StorageType
        + TopLevelStorage
        + BorrowMut<<C as Router<C>>::Storage>
        + ValueDenier
        + for<'a> From<&'a ChainHost>
{
}

/// A contract placed on a [`Chain`]: its typed storage handle (it dereferences
/// to it, for views and direct calls), and the ways a test calls it: a typed
/// call as one transaction from a chosen sender ([`send`](Self::send)), and
/// calldata through its real router ([`construct`](Self::construct),
/// [`call`](Self::call), [`revert`](Self::revert), [`call_raw`](Self::call_raw)).
pub struct Contract<C> {
    chain: Chain,
    address: Address,
    storage: C,
}

impl<C: Routed> Contract<C> {
    /// Places `C` at `address`, routed by its own `#[public]` router. Runs no
    /// constructor (see [`construct`](Self::construct)).
    pub fn deploy(chain: &Chain, address: Address) -> Self {
        Self::with_entry(chain, address, router_entrypoint::<C, C>)
    }
}

impl<C> Contract<C> {
    /// Places `C` at `address` behind the entry point `entry`.
    pub fn with_entry(chain: &Chain, address: Address, entry: Entry) -> Self
    where
        C: for<'a> From<&'a ChainHost>,
    {
        Self {
            chain: chain.clone(),
            address,
            storage: chain.deploy(address, entry),
        }
    }

    /// Where the contract lives.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The chain it lives on.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Runs the constructor as a deployment does: `from` sends the constructor
    /// selector and `args` (the tuple of the constructor's arguments) through
    /// the router, so that the constructor can run only once.
    pub fn construct<A: ConstructorArgs>(&self, from: Address, args: A) -> ArbResult {
        self.chain
            .call(from, self.address, &constructor_calldata(args))
    }

    /// `from` runs `f` on the contract as one transaction: `msg.sender` (and
    /// `tx.origin`) is `from`, and an `Err` rolls back every storage write and
    /// log, as a revert does.
    pub fn send<T, E>(
        &mut self,
        from: Address,
        f: impl FnOnce(&mut C) -> Result<T, E>,
    ) -> Result<T, E> {
        self.chain.as_sender(from);
        let storage = &mut self.storage;
        self.chain.tx(|| f(storage))
    }

    /// `from` sends `call` through the router: its decoded return, or the
    /// revert data.
    ///
    /// # Panics
    /// If the contract answers with data that is not the call's return type.
    pub fn call<S: SolCall>(&self, from: Address, call: S) -> Result<S::Return, Vec<u8>> {
        self.chain
            .call(from, self.address, &call.abi_encode())
            .map(|out| S::abi_decode_returns(&out).expect("the return data decodes"))
    }

    /// `from` sends `call` through the router, which must revert with one of the
    /// errors `E` (the `…Errors` enum of a `sol!` interface): that error.
    ///
    /// # Panics
    /// If the call succeeds, or reverts with data that is none of `E`.
    pub fn revert<E: SolInterface>(&self, from: Address, call: impl SolCall) -> E {
        let data = self
            .chain
            .call(from, self.address, &call.abi_encode())
            .expect_err("the call must revert");
        E::abi_decode(&data).expect("the revert data is one of the expected errors")
    }

    /// `from` sends raw (possibly malformed) `data` through the router. If it
    /// reverts, asserts that it left every contract's storage and the logs as
    /// they were.
    pub fn call_raw(&self, from: Address, data: &[u8]) -> ArbResult {
        let storage = self.chain.all_storage();
        let logs = self.chain.logs().len();
        let result = self.chain.call(from, self.address, data);
        if result.is_err() {
            assert_eq!(
                self.chain.all_storage(),
                storage,
                "a revert wrote storage: {data:02x?}"
            );
            assert_eq!(
                self.chain.logs().len(),
                logs,
                "a revert left logs: {data:02x?}"
            );
        }
        result
    }
}

impl<C> Deref for Contract<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.storage
    }
}

impl<C> DerefMut for Contract<C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.storage
    }
}

/// The arguments of a constructor: a tuple of ABI values, such as `(owner,)`.
pub trait ConstructorArgs {
    /// The arguments, ABI-encoded as function parameters.
    fn encode_params(&self) -> Vec<u8>;
}

impl<A: SolValue> ConstructorArgs for A
where
    for<'a> <A::SolType as SolType>::Token<'a>: TokenSeq<'a>,
{
    fn encode_params(&self) -> Vec<u8> {
        self.abi_encode_params()
    }
}

/// The calldata a deployment sends to run a constructor with `args` (the tuple
/// of its arguments, such as `(owner,)`).
pub fn constructor_calldata<A: ConstructorArgs>(args: A) -> Vec<u8> {
    [
        &CONSTRUCTOR_SELECTOR.to_be_bytes()[..],
        &args.encode_params(),
    ]
    .concat()
}

/// The events of type `E` that the contract at `address` emitted in `logs`,
/// decoded.
///
/// # Panics
/// If a log with `E`'s signature does not decode as `E`.
pub fn events<E: SolEvent>(logs: &[Log], address: Address) -> Vec<E> {
    logs.iter()
        .filter(|l| l.address == address && l.topics.first() == Some(&E::SIGNATURE_HASH))
        .map(|l| E::decode_raw_log(l.topics.iter().copied(), &l.data).expect("the event decodes"))
        .collect()
}

/// The one event in `logs`, which must hold exactly one log: an event of type
/// `E` from the contract at `address`, decoded.
///
/// # Panics
/// If `logs` holds another number of logs, or one of another type or contract.
pub fn only_event<E: SolEvent>(logs: &[Log], address: Address) -> E {
    assert_eq!(logs.len(), 1, "expected exactly one log, got {logs:?}");
    let mut found = events::<E>(logs, address);
    assert_eq!(found.len(), 1, "the log is not a {}", E::SIGNATURE);
    found.remove(0)
}
