//! Two-step ownership, after OpenZeppelin's `Ownable2Step`: a transfer only takes
//! effect when the new owner accepts it, so a mistyped address cannot lock the
//! registry's administration away.
//!
//! The public functions live on the contract (`lib.rs`); this module holds the
//! storage, the checks and the events so that they can be reasoned about alone.

use alloc::{vec, vec::Vec};

use alloy_primitives::Address;
use alloy_sol_types::sol;
use stylus_sdk::{prelude::*, storage::StorageAddress};

sol! {
    /// A transfer was proposed; it completes when `newOwner` accepts.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    /// Ownership changed (accepted transfer, renounce, or the constructor).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// The caller is not the owner (or, for `acceptOwnership`, not the pending owner).
    #[derive(Debug)]
    error OwnableUnauthorizedAccount(address account);
    /// The zero address cannot own the registry.
    #[derive(Debug)]
    error OwnableInvalidOwner(address owner);
}

/// Errors of the ownership functions.
#[derive(SolidityError, Debug)]
pub enum OwnableError {
    /// See [`OwnableUnauthorizedAccount`].
    UnauthorizedAccount(OwnableUnauthorizedAccount),
    /// See [`OwnableInvalidOwner`].
    InvalidOwner(OwnableInvalidOwner),
}

/// Owner and pending owner.
#[storage]
pub struct Ownable2Step {
    owner: StorageAddress,
    pending_owner: StorageAddress,
}

impl Ownable2Step {
    /// The owner, zero once ownership is renounced.
    pub fn owner(&self) -> Address {
        self.owner.get()
    }

    /// The proposed owner, zero when no transfer is pending.
    pub fn pending_owner(&self) -> Address {
        self.pending_owner.get()
    }

    /// Reverts unless `account` is the owner.
    pub fn only_owner(&self, account: Address) -> Result<(), OwnableError> {
        if account != self.owner.get() {
            return Err(OwnableError::UnauthorizedAccount(
                OwnableUnauthorizedAccount { account },
            ));
        }
        Ok(())
    }

    /// Sets the first owner; the zero address is refused.
    pub fn init(&mut self, initial_owner: Address) -> Result<(), OwnableError> {
        if initial_owner.is_zero() {
            return Err(OwnableError::InvalidOwner(OwnableInvalidOwner {
                owner: Address::ZERO,
            }));
        }
        self.transfer(initial_owner);
        Ok(())
    }

    /// Records `new_owner` as pending; the zero address cancels a pending transfer.
    pub fn start_transfer(
        &mut self,
        caller: Address,
        new_owner: Address,
    ) -> Result<(), OwnableError> {
        self.only_owner(caller)?;
        self.pending_owner.set(new_owner);
        self.vm().log(OwnershipTransferStarted {
            previousOwner: caller,
            newOwner: new_owner,
        });
        Ok(())
    }

    /// Completes a transfer when the caller is the pending owner.
    pub fn accept(&mut self, caller: Address) -> Result<(), OwnableError> {
        if caller != self.pending_owner.get() || caller.is_zero() {
            return Err(OwnableError::UnauthorizedAccount(
                OwnableUnauthorizedAccount { account: caller },
            ));
        }
        self.transfer(caller);
        Ok(())
    }

    /// Leaves the registry without an owner: verifiers and pausing are frozen.
    pub fn renounce(&mut self, caller: Address) -> Result<(), OwnableError> {
        self.only_owner(caller)?;
        self.transfer(Address::ZERO);
        Ok(())
    }

    fn transfer(&mut self, new_owner: Address) {
        let previous = self.owner.get();
        self.owner.set(new_owner);
        self.pending_owner.set(Address::ZERO);
        self.vm().log(OwnershipTransferred {
            previousOwner: previous,
            newOwner: new_owner,
        });
    }
}
