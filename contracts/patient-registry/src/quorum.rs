//! Verification by a quorum: a doctor becomes verified only when `threshold`
//! distinct accredited verifiers have approved it since its last change of
//! status, so that one insider cannot vouch for a fake doctor alone. A suspension
//! (which one verifier may do: stopping access must be quick) clears the
//! approvals, so a reinstatement needs the quorum again and one verifier cannot
//! undo another's suspension.
//!
//! The public functions live on the contract (`lib.rs`); this module holds the
//! storage and the counting.

use alloc::{vec, vec::Vec};

use alloy_primitives::{
    aliases::{U32, U8},
    Address,
};
use alloy_sol_types::sol;
use stylus_sdk::prelude::*;
use stylus_sdk::storage::{StorageAddress, StorageMap, StorageU32, StorageU8, StorageVec};

/// Upper bound on the threshold, which bounds the approvals kept per doctor.
pub const MAX_THRESHOLD: u8 = 8;

sol! {
    /// A verifier approved a doctor; `approvals` counts the distinct current
    /// verifiers that did since the doctor's last change of status.
    event DoctorApproved(address indexed doctor, address indexed verifier, uint8 approvals, uint8 threshold);
    /// The owner set how many distinct verifiers a verification needs.
    event VerificationThresholdSet(uint8 threshold);

    /// The threshold is zero or above 8.
    #[derive(Debug)]
    error InvalidThreshold(uint8 threshold);
    /// This verifier already approved this doctor.
    #[derive(Debug)]
    error AlreadyApproved(address doctor, address verifier);
}

/// The threshold and each doctor's pending approvals.
#[storage]
pub struct Quorum {
    /// Zero means 1: a registry deployed before the threshold existed, or never set.
    threshold: StorageU8,
    /// doctor => verifiers who approved since the doctor's last change of status.
    approvers: StorageMap<Address, StorageVec<StorageAddress>>,
    /// doctor => the appointment of each approver (parallel to `approvers`): an
    /// approval counts only while its verifier holds the same appointment, so a
    /// verifier removed and appointed again does not bring old approvals back.
    approver_appointments: StorageMap<Address, StorageVec<StorageU32>>,
}

/// One approval: the verifier and the appointment it held when approving.
pub type Approval = (Address, u32);

impl Quorum {
    /// How many distinct verifiers a verification needs (at least 1).
    pub fn threshold(&self) -> u8 {
        self.threshold.get().to::<u8>().max(1)
    }

    /// Sets the threshold.
    pub fn set_threshold(&mut self, threshold: u8) -> Result<(), InvalidThreshold> {
        if threshold == 0 || threshold > MAX_THRESHOLD {
            return Err(InvalidThreshold { threshold });
        }
        self.threshold.set(U8::from(threshold));
        Ok(())
    }

    /// The pending approvals of `doctor`, as stored (some may have lapsed).
    pub fn approvals(&self, doctor: Address) -> Vec<Approval> {
        let list = self.approvers.get(doctor);
        let appointments = self.approver_appointments.get(doctor);
        (0..list.len())
            .filter_map(|i| Some((list.get(i)?, appointments.get(i)?.to::<u32>())))
            .collect()
    }

    /// Replaces the pending approvals of `doctor`.
    pub fn set_approvals(&mut self, doctor: Address, approvals: &[Approval]) {
        let mut list = self.approvers.setter(doctor);
        while list.pop().is_some() {}
        for (a, _) in approvals {
            list.push(*a);
        }
        let mut appointments = self.approver_appointments.setter(doctor);
        while appointments.pop().is_some() {}
        for (_, n) in approvals {
            appointments.push(U32::from(*n));
        }
    }
}
