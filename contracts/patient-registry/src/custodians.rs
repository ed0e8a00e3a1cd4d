//! Emergency custodians: the accounts a patient trusts to release its record keys
//! to a doctor in an emergency, when the patient cannot act.
//!
//! The patient's clients wrap every record key to each custodian as to the patient
//! itself; a custodian's agent re-wraps them for a doctor only while that doctor
//! holds an open emergency window (RecordRegistry checks it). AccessToken allows
//! break-glass only for a patient with at least one custodian: without one, no key
//! could reach the doctor, and the window would only leak who was looking.
//!
//! The public functions live on the contract (`lib.rs`); this module holds the
//! storage and the rules.

use alloc::{vec, vec::Vec};

use alloy_primitives::Address;
use alloy_sol_types::sol;
use stylus_sdk::prelude::*;
use stylus_sdk::storage::{StorageAddress, StorageMap, StorageVec};

/// Upper bound on a patient's custodians: every record key is wrapped once per
/// custodian, so the bound keeps a record's cost bounded too.
pub const MAX_CUSTODIANS: usize = 4;

sol! {
    /// A patient replaced its list of emergency custodians (empty: break-glass is off).
    event EmergencyCustodiansSet(address indexed patient, address[] custodians);

    /// A custodian is zero, the patient itself, listed twice, or holds no
    /// registered X25519 key.
    #[derive(Debug)]
    error InvalidCustodian(address custodian);
    /// More custodians than allowed.
    #[derive(Debug)]
    error TooManyCustodians(uint256 count);
}

/// patient => its custodians, in the order the patient gave them.
#[storage]
pub struct Custodians {
    lists: StorageMap<Address, StorageVec<StorageAddress>>,
}

impl Custodians {
    /// The custodians of `patient`.
    pub fn of(&self, patient: Address) -> Vec<Address> {
        let list = self.lists.get(patient);
        (0..list.len()).filter_map(|i| list.get(i)).collect()
    }

    /// Whether `account` is one of `patient`'s custodians.
    pub fn contains(&self, patient: Address, account: Address) -> bool {
        let list = self.lists.get(patient);
        !account.is_zero() && (0..list.len()).any(|i| list.get(i) == Some(account))
    }

    /// Replaces `patient`'s list. The caller has checked every entry.
    pub fn replace(&mut self, patient: Address, custodians: &[Address]) {
        let mut list = self.lists.setter(patient);
        while list.pop().is_some() {}
        for custodian in custodians {
            list.push(*custodian);
        }
    }
}

/// Checks a list against the rules that need no storage: its length, zero, the
/// patient itself and duplicates. Whether each holds a key is the caller's check.
pub fn check_list(patient: Address, custodians: &[Address]) -> Result<(), Error> {
    if custodians.len() > MAX_CUSTODIANS {
        return Err(Error::TooMany(TooManyCustodians {
            count: alloy_primitives::U256::from(custodians.len()),
        }));
    }
    for (i, custodian) in custodians.iter().enumerate() {
        if custodian.is_zero() || *custodian == patient || custodians[..i].contains(custodian) {
            return Err(Error::Invalid(InvalidCustodian {
                custodian: *custodian,
            }));
        }
    }
    Ok(())
}

/// Errors of the custodian rules.
#[derive(SolidityError, Debug)]
pub enum Error {
    /// See [`InvalidCustodian`].
    Invalid(InvalidCustodian),
    /// See [`TooManyCustodians`].
    TooMany(TooManyCustodians),
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Address = Address::with_last_byte(1);

    #[test]
    fn check_list_accepts_up_to_the_bound_of_distinct_accounts() {
        let list: Vec<Address> = (2..2 + MAX_CUSTODIANS as u8)
            .map(Address::with_last_byte)
            .collect();
        assert!(check_list(P, &list).is_ok());
        assert!(check_list(P, &[]).is_ok());
    }

    #[test]
    fn check_list_refuses_too_many_zero_self_and_duplicates() {
        let five: Vec<Address> = (2..7).map(Address::with_last_byte).collect();
        assert!(
            matches!(check_list(P, &five), Err(Error::TooMany(e)) if e.count == alloy_primitives::U256::from(5))
        );
        let two = Address::with_last_byte(2);
        for bad in [vec![Address::ZERO], vec![P], vec![two, two]] {
            assert!(
                matches!(check_list(P, &bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}
