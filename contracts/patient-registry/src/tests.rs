//! Host tests of PatientRegistry on the in-memory chain: every public function,
//! every documented revert, the events and the state each call leaves behind, and
//! the router's handling of raw (and malformed) calldata.

use super::*;
use crate::custodians::{EmergencyCustodiansSet, MAX_CUSTODIANS};
use crate::ownable::{OwnershipTransferStarted, OwnershipTransferred};
use crate::quorum::{DoctorApproved, VerificationThresholdSet, MAX_THRESHOLD};
use alloy_sol_types::{SolCall, SolEvent, SolInterface};
use careledger_testkit::{
    careledger::{self, addr, DOCTOR, OWNER, PATIENT, REGISTRY, STRANGER, VERIFIER},
    events, only_event, Chain, Contract, Log,
};
use proptest::prelude::*;

const NEW_OWNER: Address = addr(0xef);
const OTHER_VERIFIER: Address = addr(0xdc);
const THIRD_VERIFIER: Address = addr(0xdb);
/// Accounts that each hold a key (registered as patients), so any may be named
/// an emergency custodian: one more than a patient may name.
const CANDIDATES: [Address; MAX_CUSTODIANS + 1] =
    [addr(0x31), addr(0x32), addr(0x33), addr(0x34), addr(0x35)];

/// A non-zero X25519 public key (or licence hash) made of one repeated byte.
fn key(n: u8) -> B256 {
    B256::repeat_byte(n)
}

struct Fixture {
    chain: Chain,
    registry: Contract<PatientRegistry>,
}

/// A registry deployed as a real deployment does (the constructor runs through
/// the router, so it cannot run twice), without verifiers, logs kept.
fn deployed() -> Fixture {
    let chain = Chain::new();
    let registry = careledger::deploy_patient_registry(&chain);
    Fixture { chain, registry }
}

/// A deployed registry with one verifier, logs cleared.
fn fixture() -> Fixture {
    let mut f = deployed();
    f.registry
        .send(OWNER, |r| r.add_verifier(VERIFIER))
        .unwrap();
    f.chain.take_logs();
    f
}

/// A registry with three verifiers (VERIFIER, OTHER_VERIFIER, THIRD_VERIFIER),
/// a verification threshold of `k` and DOCTOR registered and pending, logs cleared.
fn quorum_fixture(k: u8) -> Fixture {
    let mut f = fixture();
    for v in [OTHER_VERIFIER, THIRD_VERIFIER] {
        f.registry.send(OWNER, |r| r.add_verifier(v)).unwrap();
    }
    f.registry
        .send(OWNER, |r| r.set_verification_threshold(k))
        .unwrap();
    f.register_doctor(DOCTOR, 0x11);
    f.logs();
    f
}

/// A registry where PATIENT and every one of CANDIDATES are registered patients
/// (each with its own key), logs cleared.
fn custodian_fixture() -> Fixture {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    for (i, c) in CANDIDATES.into_iter().enumerate() {
        f.registry
            .send(c, |r| r.register_patient(key(0x31 + i as u8)))
            .unwrap();
    }
    f.logs();
    f
}

impl Fixture {
    /// `account` registers as a doctor with key `n` and licence `n + 1`.
    fn register_doctor(&mut self, account: Address, n: u8) {
        self.registry
            .send(account, |r| r.register_doctor(key(n), key(n + 1)))
            .unwrap();
    }

    fn verified_doctor(&mut self, account: Address, n: u8) {
        self.register_doctor(account, n);
        self.registry
            .send(VERIFIER, |r| r.verify_doctor(account))
            .unwrap();
    }

    fn logs(&self) -> Vec<Log> {
        self.chain.take_logs()
    }
}

/// `log`, which must be an event of type `E` from the registry, decoded.
fn decode<E: SolEvent>(log: &Log) -> E {
    let found = events::<E>(std::slice::from_ref(log), REGISTRY);
    assert_eq!(found.len(), 1, "{log:?} is not a {}", E::SIGNATURE);
    found.into_iter().next().unwrap()
}

/// `logs` are exactly `DoctorApproved(doctor, verifier, approvals, threshold)`.
fn assert_approved_only(
    logs: &[Log],
    doctor: Address,
    verifier: Address,
    approvals: u8,
    threshold: u8,
) {
    let e = only_event::<DoctorApproved>(logs, REGISTRY);
    assert_eq!(
        (e.doctor, e.verifier, e.approvals, e.threshold),
        (doctor, verifier, approvals, threshold)
    );
}

/// `logs` are exactly the approval that completes a quorum:
/// `DoctorApproved(doctor, verifier, approvals, threshold)`, then
/// `DoctorVerified(doctor, verifier)`.
fn assert_approved_then_verified(
    logs: &[Log],
    doctor: Address,
    verifier: Address,
    approvals: u8,
    threshold: u8,
) {
    assert_eq!(logs.len(), 2, "expected two logs, got {logs:?}");
    let approved = decode::<DoctorApproved>(&logs[0]);
    assert_eq!(
        (
            approved.doctor,
            approved.verifier,
            approved.approvals,
            approved.threshold
        ),
        (doctor, verifier, approvals, threshold)
    );
    let verified = decode::<DoctorVerified>(&logs[1]);
    assert_eq!((verified.doctor, verified.verifier), (doctor, verifier));
}

fn assert_unauthorized<T: std::fmt::Debug>(result: Result<T, Error>, account: Address) {
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::OwnableUnauthorizedAccount(ref e) if e.account == account),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- constructor

#[test]
fn constructor_sets_the_owner_and_logs_the_transfer() {
    let f = deployed();
    assert_eq!(f.registry.owner(), OWNER);
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
    assert!(!f.registry.paused());
    let e = only_event::<OwnershipTransferred>(&f.logs(), REGISTRY);
    assert_eq!((e.previousOwner, e.newOwner), (Address::ZERO, OWNER));
}

#[test]
fn constructor_rejects_the_zero_owner() {
    let chain = Chain::new();
    let mut registry = Contract::<PatientRegistry>::deploy(&chain, REGISTRY);
    let err = registry
        .send(OWNER, |r| r.constructor(Address::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::OwnableInvalidOwner(ref e) if e.owner.is_zero()));
    assert_eq!(registry.owner(), Address::ZERO);
    assert!(chain.take_logs().is_empty());
}

#[test]
fn constructor_through_the_router_rejects_the_zero_owner() {
    let chain = Chain::new();
    let registry = Contract::<PatientRegistry>::deploy(&chain, REGISTRY);
    let revert = registry.construct(OWNER, (Address::ZERO,)).unwrap_err();
    let decoded = abi::IPatientRegistry::IPatientRegistryErrors::abi_decode(&revert).unwrap();
    assert!(matches!(
        decoded,
        abi::IPatientRegistry::IPatientRegistryErrors::OwnableInvalidOwner(_)
    ));
    assert!(chain.storage_of(REGISTRY).is_empty());
    assert_eq!(registry.owner(), Address::ZERO);
}

#[test]
fn constructor_cannot_run_a_second_time() {
    let f = deployed();
    f.logs();
    assert!(f.registry.construct(STRANGER, (STRANGER,)).is_err());
    assert_eq!(f.registry.owner(), OWNER);
    assert!(f.logs().is_empty());
}

// ---------------------------------------------------------------- ownership

#[test]
fn transfer_ownership_proposes_without_handing_over() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    assert_eq!(f.registry.owner(), OWNER);
    assert_eq!(f.registry.pending_owner(), NEW_OWNER);
    let e = only_event::<OwnershipTransferStarted>(&f.logs(), REGISTRY);
    assert_eq!((e.previousOwner, e.newOwner), (OWNER, NEW_OWNER));
}

#[test]
fn transfer_ownership_is_the_owners_alone() {
    let mut f = fixture();
    assert_unauthorized(
        f.registry
            .send(STRANGER, |r| r.transfer_ownership(STRANGER)),
        STRANGER,
    );
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
    assert!(f.logs().is_empty());
}

#[test]
fn accept_ownership_hands_over_to_the_pending_owner() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.logs();
    f.registry
        .send(NEW_OWNER, |r| r.accept_ownership())
        .unwrap();
    assert_eq!(f.registry.owner(), NEW_OWNER);
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
    let e = only_event::<OwnershipTransferred>(&f.logs(), REGISTRY);
    assert_eq!((e.previousOwner, e.newOwner), (OWNER, NEW_OWNER));
}

#[test]
fn the_previous_owner_loses_its_rights_after_the_handover() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.registry
        .send(NEW_OWNER, |r| r.accept_ownership())
        .unwrap();
    assert_unauthorized(f.registry.send(OWNER, |r| r.pause()), OWNER);
    f.registry.send(NEW_OWNER, |r| r.pause()).unwrap();
    assert!(f.registry.paused());
}

#[test]
fn accept_ownership_by_another_account_reverts() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.logs();
    assert_unauthorized(
        f.registry.send(STRANGER, |r| r.accept_ownership()),
        STRANGER,
    );
    assert_unauthorized(f.registry.send(OWNER, |r| r.accept_ownership()), OWNER);
    assert_eq!(f.registry.owner(), OWNER);
    assert_eq!(f.registry.pending_owner(), NEW_OWNER);
    assert!(f.logs().is_empty());
}

#[test]
fn accept_ownership_without_a_proposal_reverts() {
    let mut f = fixture();
    assert_unauthorized(
        f.registry.send(NEW_OWNER, |r| r.accept_ownership()),
        NEW_OWNER,
    );
    assert_eq!(f.registry.owner(), OWNER);
}

#[test]
fn transfer_ownership_to_zero_cancels_the_proposal() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.logs();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(Address::ZERO))
        .unwrap();
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
    let e = only_event::<OwnershipTransferStarted>(&f.logs(), REGISTRY);
    assert_eq!((e.previousOwner, e.newOwner), (OWNER, Address::ZERO));
    assert_unauthorized(
        f.registry.send(NEW_OWNER, |r| r.accept_ownership()),
        NEW_OWNER,
    );
    assert_eq!(f.registry.owner(), OWNER);
}

#[test]
fn a_second_proposal_replaces_the_first() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(STRANGER))
        .unwrap();
    assert_unauthorized(
        f.registry.send(NEW_OWNER, |r| r.accept_ownership()),
        NEW_OWNER,
    );
    f.registry.send(STRANGER, |r| r.accept_ownership()).unwrap();
    assert_eq!(f.registry.owner(), STRANGER);
}

#[test]
fn renounce_ownership_leaves_the_registry_without_an_owner() {
    let mut f = fixture();
    f.registry.send(OWNER, |r| r.renounce_ownership()).unwrap();
    assert_eq!(f.registry.owner(), Address::ZERO);
    let e = only_event::<OwnershipTransferred>(&f.logs(), REGISTRY);
    assert_eq!((e.previousOwner, e.newOwner), (OWNER, Address::ZERO));
    // Administration is frozen as it was.
    assert_unauthorized(f.registry.send(OWNER, |r| r.add_verifier(STRANGER)), OWNER);
    assert_unauthorized(
        f.registry.send(OWNER, |r| r.remove_verifier(VERIFIER)),
        OWNER,
    );
    assert_unauthorized(f.registry.send(OWNER, |r| r.pause()), OWNER);
    assert_unauthorized(
        f.registry.send(OWNER, |r| r.transfer_ownership(OWNER)),
        OWNER,
    );
    assert!(f.registry.is_verifier(VERIFIER));
}

#[test]
fn renounce_ownership_drops_a_pending_proposal() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.registry.send(OWNER, |r| r.renounce_ownership()).unwrap();
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
    assert_unauthorized(
        f.registry.send(NEW_OWNER, |r| r.accept_ownership()),
        NEW_OWNER,
    );
    assert_eq!(f.registry.owner(), Address::ZERO);
}

#[test]
fn renounce_ownership_is_the_owners_alone() {
    let mut f = fixture();
    assert_unauthorized(
        f.registry.send(STRANGER, |r| r.renounce_ownership()),
        STRANGER,
    );
    assert_eq!(f.registry.owner(), OWNER);
    assert!(f.logs().is_empty());
}

// ---------------------------------------------------------------- verifiers

#[test]
fn add_verifier_appoints_and_logs() {
    let mut f = fixture();
    assert!(!f.registry.is_verifier(OTHER_VERIFIER));
    f.registry
        .send(OWNER, |r| r.add_verifier(OTHER_VERIFIER))
        .unwrap();
    assert!(f.registry.is_verifier(OTHER_VERIFIER));
    assert_eq!(
        only_event::<VerifierAdded>(&f.logs(), REGISTRY).verifier,
        OTHER_VERIFIER
    );
}

#[test]
fn add_verifier_is_the_owners_alone() {
    let mut f = fixture();
    assert_unauthorized(
        f.registry.send(VERIFIER, |r| r.add_verifier(STRANGER)),
        VERIFIER,
    );
    assert!(!f.registry.is_verifier(STRANGER));
}

#[test]
fn add_verifier_rejects_the_zero_address() {
    let mut f = fixture();
    let err = f
        .registry
        .send(OWNER, |r| r.add_verifier(Address::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidVerifier(ref e) if e.verifier.is_zero()));
    assert!(!f.registry.is_verifier(Address::ZERO));
}

#[test]
fn add_verifier_twice_reverts() {
    let mut f = fixture();
    let err = f
        .registry
        .send(OWNER, |r| r.add_verifier(VERIFIER))
        .unwrap_err();
    assert!(matches!(err, Error::VerifierAlreadyAdded(ref e) if e.verifier == VERIFIER));
    assert!(f.logs().is_empty());
}

#[test]
fn remove_verifier_removes_and_logs() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.remove_verifier(VERIFIER))
        .unwrap();
    assert!(!f.registry.is_verifier(VERIFIER));
    assert_eq!(
        only_event::<VerifierRemoved>(&f.logs(), REGISTRY).verifier,
        VERIFIER
    );
}

#[test]
fn a_removed_verifier_cannot_verify_but_its_doctors_stay_verified() {
    let mut f = fixture();
    f.verified_doctor(DOCTOR, 0x11);
    f.register_doctor(STRANGER, 0x21);
    f.registry
        .send(OWNER, |r| r.remove_verifier(VERIFIER))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    let err = f
        .registry
        .send(VERIFIER, |r| r.verify_doctor(STRANGER))
        .unwrap_err();
    assert!(matches!(err, Error::NotVerifier(ref e) if e.account == VERIFIER));
}

#[test]
fn remove_verifier_is_the_owners_alone() {
    let mut f = fixture();
    assert_unauthorized(
        f.registry.send(VERIFIER, |r| r.remove_verifier(VERIFIER)),
        VERIFIER,
    );
    assert!(f.registry.is_verifier(VERIFIER));
}

#[test]
fn remove_unknown_verifier_reverts() {
    let mut f = fixture();
    let err = f
        .registry
        .send(OWNER, |r| r.remove_verifier(STRANGER))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownVerifier(ref e) if e.verifier == STRANGER));
    f.registry
        .send(OWNER, |r| r.remove_verifier(VERIFIER))
        .unwrap();
    let err = f
        .registry
        .send(OWNER, |r| r.remove_verifier(VERIFIER))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownVerifier(ref e) if e.verifier == VERIFIER));
}

#[test]
fn the_owner_cannot_appoint_itself_and_so_cannot_verify() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    f.logs();
    let err = f
        .registry
        .send(OWNER, |r| r.add_verifier(OWNER))
        .unwrap_err();
    assert!(matches!(err, Error::OwnerCannotVerify(ref e) if e.account == OWNER));
    assert!(!f.registry.is_verifier(OWNER));
    let err = f
        .registry
        .send(OWNER, |r| r.verify_doctor(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::NotVerifier(ref e) if e.account == OWNER));
    let err = f
        .registry
        .send(OWNER, |r| r.suspend_doctor(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::NotVerifier(ref e) if e.account == OWNER));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
    assert!(f.logs().is_empty());
}

#[test]
fn the_pending_owner_cannot_be_appointed() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.logs();
    let err = f
        .registry
        .send(OWNER, |r| r.add_verifier(NEW_OWNER))
        .unwrap_err();
    assert!(matches!(err, Error::OwnerCannotVerify(ref e) if e.account == NEW_OWNER));
    assert!(!f.registry.is_verifier(NEW_OWNER));
    assert!(f.logs().is_empty());
    // Once the proposal is withdrawn the account is an ordinary candidate.
    f.registry
        .send(OWNER, |r| r.transfer_ownership(Address::ZERO))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.add_verifier(NEW_OWNER))
        .unwrap();
    assert!(f.registry.is_verifier(NEW_OWNER));
}

#[test]
fn a_verifier_cannot_be_proposed_as_owner() {
    let mut f = fixture();
    let err = f
        .registry
        .send(OWNER, |r| r.transfer_ownership(VERIFIER))
        .unwrap_err();
    assert!(matches!(err, Error::OwnerCannotVerify(ref e) if e.account == VERIFIER));
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
    assert!(f.logs().is_empty());
    // A stranger learns nothing: the owner check comes first.
    assert_unauthorized(
        f.registry
            .send(STRANGER, |r| r.transfer_ownership(VERIFIER)),
        STRANGER,
    );
    // Removed, it may be proposed, and accepting leaves it owner but no verifier.
    f.registry
        .send(OWNER, |r| r.remove_verifier(VERIFIER))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(VERIFIER))
        .unwrap();
    f.registry.send(VERIFIER, |r| r.accept_ownership()).unwrap();
    assert_eq!(f.registry.owner(), VERIFIER);
    assert!(!f.registry.is_verifier(VERIFIER));
}

#[test]
fn after_a_handover_the_old_owner_may_verify_but_the_new_owner_may_not() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    f.registry
        .send(OWNER, |r| r.transfer_ownership(NEW_OWNER))
        .unwrap();
    f.registry
        .send(NEW_OWNER, |r| r.accept_ownership())
        .unwrap();
    f.logs();

    let err = f
        .registry
        .send(NEW_OWNER, |r| r.add_verifier(NEW_OWNER))
        .unwrap_err();
    assert!(matches!(err, Error::OwnerCannotVerify(ref e) if e.account == NEW_OWNER));
    assert!(!f.registry.is_verifier(NEW_OWNER));
    assert!(f.logs().is_empty());

    f.registry
        .send(NEW_OWNER, |r| r.add_verifier(OWNER))
        .unwrap();
    assert!(f.registry.is_verifier(OWNER));
    f.registry.send(OWNER, |r| r.verify_doctor(DOCTOR)).unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));

    // The old owner, now a verifier, cannot be handed the registry back.
    let err = f
        .registry
        .send(NEW_OWNER, |r| r.transfer_ownership(OWNER))
        .unwrap_err();
    assert!(matches!(err, Error::OwnerCannotVerify(ref e) if e.account == OWNER));
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
}

// ---------------------------------------------------------------- pause

#[test]
fn pause_logs_and_blocks_both_registrations() {
    let mut f = fixture();
    f.registry.send(OWNER, |r| r.pause()).unwrap();
    assert!(f.registry.paused());
    assert_eq!(only_event::<Paused>(&f.logs(), REGISTRY).account, OWNER);

    let err = f
        .registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap_err();
    assert!(matches!(err, Error::EnforcedPause(_)));
    let err = f
        .registry
        .send(DOCTOR, |r| r.register_doctor(key(0x11), key(0x12)))
        .unwrap_err();
    assert!(matches!(err, Error::EnforcedPause(_)));
    assert!(!f.registry.is_patient(PATIENT));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::NONE);
    assert!(f.logs().is_empty());
}

#[test]
fn pause_does_not_block_key_rotation_or_verification() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    f.register_doctor(DOCTOR, 0x11);
    f.registry.send(OWNER, |r| r.pause()).unwrap();
    f.registry
        .send(PATIENT, |r| r.update_encryption_key(key(2)))
        .unwrap();
    assert_eq!(f.registry.encryption_key(PATIENT), key(2));
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
}

#[test]
fn pause_twice_reverts() {
    let mut f = fixture();
    f.registry.send(OWNER, |r| r.pause()).unwrap();
    f.logs();
    let err = f.registry.send(OWNER, |r| r.pause()).unwrap_err();
    assert!(matches!(err, Error::EnforcedPause(_)));
    assert!(f.registry.paused());
    assert!(f.logs().is_empty());
}

#[test]
fn unpause_reopens_registration_and_logs() {
    let mut f = fixture();
    f.registry.send(OWNER, |r| r.pause()).unwrap();
    f.logs();
    f.registry.send(OWNER, |r| r.unpause()).unwrap();
    assert!(!f.registry.paused());
    assert_eq!(only_event::<Unpaused>(&f.logs(), REGISTRY).account, OWNER);
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    assert!(f.registry.is_patient(PATIENT));
}

#[test]
fn unpause_when_not_paused_reverts() {
    let mut f = fixture();
    let err = f.registry.send(OWNER, |r| r.unpause()).unwrap_err();
    assert!(matches!(err, Error::ExpectedPause(_)));
    assert!(f.logs().is_empty());
}

#[test]
fn pause_and_unpause_are_the_owners_alone() {
    let mut f = fixture();
    assert_unauthorized(f.registry.send(VERIFIER, |r| r.pause()), VERIFIER);
    assert!(!f.registry.paused());
    f.registry.send(OWNER, |r| r.pause()).unwrap();
    assert_unauthorized(f.registry.send(VERIFIER, |r| r.unpause()), VERIFIER);
    assert!(f.registry.paused());
}

// ---------------------------------------------------------------- patients

#[test]
fn unregistered_accounts_have_no_role_and_no_key() {
    let f = fixture();
    assert!(!f.registry.is_patient(STRANGER));
    assert!(!f.registry.is_verified_doctor(STRANGER));
    assert_eq!(f.registry.doctor_status(STRANGER), doctor_status::NONE);
    assert_eq!(f.registry.encryption_key(STRANGER), B256::ZERO);
    assert_eq!(f.registry.licence_hash(STRANGER), B256::ZERO);
}

#[test]
fn register_patient_stores_the_key_and_logs() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    assert!(f.registry.is_patient(PATIENT));
    assert_eq!(f.registry.encryption_key(PATIENT), key(1));
    assert_eq!(f.registry.doctor_status(PATIENT), doctor_status::NONE);
    assert_eq!(f.registry.licence_hash(PATIENT), B256::ZERO);
    let e = only_event::<PatientRegistered>(&f.logs(), REGISTRY);
    assert_eq!((e.patient, e.encryptionKey), (PATIENT, key(1)));
}

#[test]
fn register_patient_rejects_the_zero_key() {
    let mut f = fixture();
    let err = f
        .registry
        .send(PATIENT, |r| r.register_patient(B256::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidEncryptionKey(_)));
    assert!(!f.registry.is_patient(PATIENT));
    assert!(f.logs().is_empty());
}

#[test]
fn register_patient_twice_reverts() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    f.logs();
    for k in [key(1), key(2)] {
        let err = f
            .registry
            .send(PATIENT, |r| r.register_patient(k))
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyRegistered(ref e) if e.account == PATIENT));
    }
    assert_eq!(f.registry.encryption_key(PATIENT), key(1));
    assert!(f.logs().is_empty());
}

// ---------------------------------------------------------------- doctors

#[test]
fn register_doctor_is_pending_and_logs() {
    let mut f = fixture();
    f.registry
        .send(DOCTOR, |r| r.register_doctor(key(0x11), key(0x77)))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
    assert!(!f.registry.is_verified_doctor(DOCTOR));
    assert!(!f.registry.is_patient(DOCTOR));
    assert_eq!(f.registry.encryption_key(DOCTOR), key(0x11));
    assert_eq!(f.registry.licence_hash(DOCTOR), key(0x77));
    let e = only_event::<DoctorRegistered>(&f.logs(), REGISTRY);
    assert_eq!(
        (e.doctor, e.encryptionKey, e.licenceHash),
        (DOCTOR, key(0x11), key(0x77))
    );
}

#[test]
fn register_doctor_rejects_the_zero_key() {
    let mut f = fixture();
    let err = f
        .registry
        .send(DOCTOR, |r| r.register_doctor(B256::ZERO, key(0x77)))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidEncryptionKey(_)));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::NONE);
    assert!(f.logs().is_empty());
}

#[test]
fn register_doctor_rejects_the_zero_licence() {
    let mut f = fixture();
    let err = f
        .registry
        .send(DOCTOR, |r| r.register_doctor(key(0x11), B256::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidLicenceHash(_)));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::NONE);
    assert_eq!(f.registry.encryption_key(DOCTOR), B256::ZERO);
    assert!(f.logs().is_empty());
}

#[test]
fn register_doctor_again_reverts_in_every_status() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    let again = |f: &mut Fixture| {
        let err = f
            .registry
            .send(DOCTOR, |r| r.register_doctor(key(0x11), key(0x99)))
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyRegistered(ref e) if e.account == DOCTOR));
    };
    again(&mut f); // pending
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    again(&mut f); // verified
    f.registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    again(&mut f); // suspended: re-registering must not escape the suspension
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
    assert_eq!(f.registry.licence_hash(DOCTOR), key(0x12));
}

#[test]
fn a_patient_may_register_as_doctor_with_the_same_key() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    f.registry
        .send(PATIENT, |r| r.register_doctor(key(1), key(0x77)))
        .unwrap();
    assert!(f.registry.is_patient(PATIENT));
    assert_eq!(f.registry.doctor_status(PATIENT), doctor_status::PENDING);
    assert_eq!(f.registry.encryption_key(PATIENT), key(1));
}

#[test]
fn a_doctor_may_register_as_patient_with_the_same_key() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    f.registry
        .send(DOCTOR, |r| r.register_patient(key(0x11)))
        .unwrap();
    assert!(f.registry.is_patient(DOCTOR));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
}

#[test]
fn a_patient_registering_as_doctor_with_another_key_reverts() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    f.logs();
    let err = f
        .registry
        .send(PATIENT, |r| r.register_doctor(key(2), key(0x77)))
        .unwrap_err();
    assert!(matches!(err, Error::EncryptionKeyMismatch(ref e) if e.registered == key(1)));
    assert_eq!(f.registry.doctor_status(PATIENT), doctor_status::NONE);
    assert_eq!(f.registry.licence_hash(PATIENT), B256::ZERO);
    assert_eq!(f.registry.encryption_key(PATIENT), key(1));
    assert!(f.logs().is_empty());
}

#[test]
fn a_doctor_registering_as_patient_with_another_key_reverts() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    let err = f
        .registry
        .send(DOCTOR, |r| r.register_patient(key(0x22)))
        .unwrap_err();
    assert!(matches!(err, Error::EncryptionKeyMismatch(ref e) if e.registered == key(0x11)));
    assert!(!f.registry.is_patient(DOCTOR));
    assert_eq!(f.registry.encryption_key(DOCTOR), key(0x11));
}

// ---------------------------------------------------------------- key rotation

#[test]
fn update_encryption_key_rotates_and_logs() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    f.logs();
    f.registry
        .send(PATIENT, |r| r.update_encryption_key(key(2)))
        .unwrap();
    assert_eq!(f.registry.encryption_key(PATIENT), key(2));
    assert!(f.registry.is_patient(PATIENT));
    let e = only_event::<EncryptionKeyUpdated>(&f.logs(), REGISTRY);
    assert_eq!((e.account, e.encryptionKey), (PATIENT, key(2)));
}

#[test]
fn update_encryption_key_works_for_a_doctor() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    f.registry
        .send(DOCTOR, |r| r.update_encryption_key(key(0x33)))
        .unwrap();
    assert_eq!(f.registry.encryption_key(DOCTOR), key(0x33));
    assert_eq!(f.registry.licence_hash(DOCTOR), key(0x12));
}

#[test]
fn update_encryption_key_requires_a_role() {
    let mut f = fixture();
    let err = f
        .registry
        .send(STRANGER, |r| r.update_encryption_key(key(2)))
        .unwrap_err();
    assert!(matches!(err, Error::NotRegistered(ref e) if e.account == STRANGER));
    assert_eq!(f.registry.encryption_key(STRANGER), B256::ZERO);
    assert!(f.logs().is_empty());
}

#[test]
fn update_encryption_key_rejects_the_zero_key() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    f.logs();
    let err = f
        .registry
        .send(PATIENT, |r| r.update_encryption_key(B256::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidEncryptionKey(_)));
    assert_eq!(f.registry.encryption_key(PATIENT), key(1));
    assert!(f.logs().is_empty());
}

#[test]
fn a_second_role_after_rotation_must_bring_the_new_key() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    f.registry
        .send(PATIENT, |r| r.update_encryption_key(key(2)))
        .unwrap();
    let err = f
        .registry
        .send(PATIENT, |r| r.register_doctor(key(1), key(0x77)))
        .unwrap_err();
    assert!(matches!(err, Error::EncryptionKeyMismatch(ref e) if e.registered == key(2)));
    f.registry
        .send(PATIENT, |r| r.register_doctor(key(2), key(0x77)))
        .unwrap();
}

// ---------------------------------------------------------------- verification

#[test]
fn verify_doctor_verifies_a_pending_doctor_and_logs() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    f.logs();
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::VERIFIED);
    assert!(f.registry.doctor_approvals(DOCTOR).is_empty());
    assert_approved_then_verified(&f.logs(), DOCTOR, VERIFIER, 1, 1);
}

#[test]
fn verify_doctor_requires_a_verifier() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    for caller in [STRANGER, OWNER, DOCTOR] {
        let err = f
            .registry
            .send(caller, |r| r.verify_doctor(DOCTOR))
            .unwrap_err();
        assert!(matches!(err, Error::NotVerifier(ref e) if e.account == caller));
    }
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
}

#[test]
fn verify_doctor_rejects_self_verification() {
    let mut f = fixture();
    f.register_doctor(VERIFIER, 0x44);
    f.logs();
    let err = f
        .registry
        .send(VERIFIER, |r| r.verify_doctor(VERIFIER))
        .unwrap_err();
    assert!(matches!(err, Error::SelfVerification(_)));
    assert_eq!(f.registry.doctor_status(VERIFIER), doctor_status::PENDING);
    assert!(f.logs().is_empty());
}

#[test]
fn verify_doctor_rejects_unregistered_accounts_and_patients() {
    let mut f = fixture();
    f.registry
        .send(PATIENT, |r| r.register_patient(key(1)))
        .unwrap();
    for who in [STRANGER, PATIENT] {
        let err = f
            .registry
            .send(VERIFIER, |r| r.verify_doctor(who))
            .unwrap_err();
        assert!(matches!(err, Error::UnknownDoctor(ref e) if e.doctor == who));
        assert_eq!(f.registry.doctor_status(who), doctor_status::NONE);
    }
}

#[test]
fn verify_doctor_twice_reverts() {
    let mut f = fixture();
    f.verified_doctor(DOCTOR, 0x11);
    f.logs();
    let err = f
        .registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::DoctorAlreadyVerified(ref e) if e.doctor == DOCTOR));
    assert!(f.logs().is_empty());
}

#[test]
fn suspend_doctor_suspends_a_verified_doctor_and_logs() {
    let mut f = fixture();
    f.verified_doctor(DOCTOR, 0x11);
    f.logs();
    f.registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    assert!(!f.registry.is_verified_doctor(DOCTOR));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
    let e = only_event::<DoctorSuspended>(&f.logs(), REGISTRY);
    assert_eq!((e.doctor, e.verifier), (DOCTOR, VERIFIER));
}

#[test]
fn suspend_doctor_suspends_a_pending_doctor() {
    let mut f = fixture();
    f.register_doctor(DOCTOR, 0x11);
    f.registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
}

#[test]
fn suspend_doctor_requires_a_verifier() {
    let mut f = fixture();
    f.verified_doctor(DOCTOR, 0x11);
    let err = f
        .registry
        .send(STRANGER, |r| r.suspend_doctor(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::NotVerifier(ref e) if e.account == STRANGER));
    assert!(f.registry.is_verified_doctor(DOCTOR));
}

#[test]
fn suspend_doctor_rejects_self_suspension() {
    let mut f = fixture();
    f.register_doctor(VERIFIER, 0x44);
    let err = f
        .registry
        .send(VERIFIER, |r| r.suspend_doctor(VERIFIER))
        .unwrap_err();
    assert!(matches!(err, Error::SelfVerification(_)));
    assert_eq!(f.registry.doctor_status(VERIFIER), doctor_status::PENDING);
}

#[test]
fn suspend_doctor_rejects_unregistered_accounts() {
    let mut f = fixture();
    let err = f
        .registry
        .send(VERIFIER, |r| r.suspend_doctor(STRANGER))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownDoctor(ref e) if e.doctor == STRANGER));
}

#[test]
fn suspend_doctor_twice_reverts() {
    let mut f = fixture();
    f.verified_doctor(DOCTOR, 0x11);
    f.registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    f.logs();
    let err = f
        .registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::DoctorAlreadySuspended(ref e) if e.doctor == DOCTOR));
    assert!(f.logs().is_empty());
}

#[test]
fn verify_doctor_reinstates_a_suspended_doctor() {
    let mut f = fixture();
    f.verified_doctor(DOCTOR, 0x11);
    f.registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.add_verifier(OTHER_VERIFIER))
        .unwrap();
    f.logs();
    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert_approved_then_verified(&f.logs(), DOCTOR, OTHER_VERIFIER, 1, 1);
}

#[test]
fn a_verifier_that_is_also_a_doctor_is_verified_by_another() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.add_verifier(OTHER_VERIFIER))
        .unwrap();
    f.register_doctor(VERIFIER, 0x44);
    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(VERIFIER))
        .unwrap();
    assert!(f.registry.is_verified_doctor(VERIFIER));
    assert!(f.registry.is_verifier(VERIFIER));
}

// ---------------------------------------------------------------- quorum

#[test]
fn the_verification_threshold_is_one_by_default() {
    let mut f = fixture();
    assert_eq!(f.registry.verification_threshold(), 1);
    f.register_doctor(DOCTOR, 0x11);
    assert!(f.registry.doctor_approvals(DOCTOR).is_empty());
}

#[test]
fn set_verification_threshold_sets_and_logs() {
    let mut f = fixture();
    for k in [2, MAX_THRESHOLD, 1] {
        f.registry
            .send(OWNER, |r| r.set_verification_threshold(k))
            .unwrap();
        assert_eq!(f.registry.verification_threshold(), k);
        assert_eq!(
            only_event::<VerificationThresholdSet>(&f.logs(), REGISTRY).threshold,
            k
        );
    }
}

#[test]
fn set_verification_threshold_rejects_zero_and_more_than_eight() {
    let mut f = fixture();
    f.registry
        .send(OWNER, |r| r.set_verification_threshold(2))
        .unwrap();
    f.logs();
    for k in [0, MAX_THRESHOLD + 1, u8::MAX] {
        let err = f
            .registry
            .send(OWNER, |r| r.set_verification_threshold(k))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidThreshold(ref e) if e.threshold == k),
            "{k}"
        );
    }
    assert_eq!(f.registry.verification_threshold(), 2);
    assert!(f.logs().is_empty());
}

#[test]
fn set_verification_threshold_is_the_owners_alone() {
    let mut f = fixture();
    for caller in [VERIFIER, STRANGER] {
        assert_unauthorized(
            f.registry.send(caller, |r| r.set_verification_threshold(2)),
            caller,
        );
    }
    assert_eq!(f.registry.verification_threshold(), 1);
    assert!(f.logs().is_empty());
}

#[test]
fn one_approval_of_two_leaves_the_doctor_pending() {
    let mut f = quorum_fixture(2);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
    assert!(!f.registry.is_verified_doctor(DOCTOR));
    assert_eq!(f.registry.doctor_approvals(DOCTOR), vec![VERIFIER]);
    assert_approved_only(&f.logs(), DOCTOR, VERIFIER, 1, 2);
}

#[test]
fn a_second_distinct_verifier_completes_the_quorum() {
    let mut f = quorum_fixture(2);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.logs();
    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert!(f.registry.doctor_approvals(DOCTOR).is_empty());
    assert_approved_then_verified(&f.logs(), DOCTOR, OTHER_VERIFIER, 2, 2);
    // A third approval comes too late.
    let err = f
        .registry
        .send(THIRD_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::DoctorAlreadyVerified(ref e) if e.doctor == DOCTOR));
}

#[test]
fn the_same_verifier_cannot_approve_twice() {
    let mut f = quorum_fixture(2);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.logs();
    let storage = f.chain.storage_of(REGISTRY);
    let err = f
        .registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::AlreadyApproved(ref e) if e.doctor == DOCTOR && e.verifier == VERIFIER
    ));
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
    assert_eq!(f.registry.doctor_approvals(DOCTOR), vec![VERIFIER]);
    assert_eq!(f.chain.storage_of(REGISTRY), storage);
    assert!(f.logs().is_empty());
}

#[test]
fn a_removed_verifiers_approval_no_longer_counts() {
    let mut f = quorum_fixture(2);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.remove_verifier(VERIFIER))
        .unwrap();
    assert!(f.registry.doctor_approvals(DOCTOR).is_empty());
    f.logs();
    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
    assert!(!f.registry.is_verified_doctor(DOCTOR));
    assert_eq!(f.registry.doctor_approvals(DOCTOR), vec![OTHER_VERIFIER]);
    assert_approved_only(&f.logs(), DOCTOR, OTHER_VERIFIER, 1, 2);
    // A second current verifier completes it.
    f.registry
        .send(THIRD_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert_approved_then_verified(&f.logs(), DOCTOR, THIRD_VERIFIER, 2, 2);
}

#[test]
fn a_reappointed_verifier_does_not_bring_back_its_old_approval() {
    let mut f = quorum_fixture(2);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.remove_verifier(VERIFIER))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.add_verifier(VERIFIER))
        .unwrap();
    // The approval of its earlier appointment is gone, so it may approve again...
    assert!(f.registry.doctor_approvals(DOCTOR).is_empty());
    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    // ...and one fresh approval of another verifier is not a quorum of two.
    assert!(!f.registry.is_verified_doctor(DOCTOR));
    f.logs();
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert_approved_then_verified(&f.logs(), DOCTOR, VERIFIER, 2, 2);
}

#[test]
fn a_lowered_threshold_lets_an_earlier_approver_complete_the_quorum() {
    let mut f = quorum_fixture(3);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.set_verification_threshold(2))
        .unwrap();
    assert!(!f.registry.is_verified_doctor(DOCTOR));
    f.logs();
    // Not stuck: an earlier approver completes the quorum the approvals now meet.
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert_approved_then_verified(&f.logs(), DOCTOR, VERIFIER, 2, 2);
}

#[test]
fn one_verifier_suspends_but_cannot_reinstate_alone() {
    let mut f = quorum_fixture(2);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    f.logs();

    f.registry
        .send(THIRD_VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
    let e = only_event::<DoctorSuspended>(&f.logs(), REGISTRY);
    assert_eq!((e.doctor, e.verifier), (DOCTOR, THIRD_VERIFIER));

    // One of the verifiers that vouched before cannot undo the suspension alone.
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
    assert!(!f.registry.is_verified_doctor(DOCTOR));
    assert_approved_only(&f.logs(), DOCTOR, VERIFIER, 1, 2);

    f.registry
        .send(OTHER_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::VERIFIED);
    assert_approved_then_verified(&f.logs(), DOCTOR, OTHER_VERIFIER, 2, 2);
}

#[test]
fn a_suspension_drops_pending_approvals() {
    let mut f = quorum_fixture(2);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OTHER_VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.doctor_approvals(DOCTOR).is_empty());
    f.logs();
    // The earlier approval is gone: approving again is allowed and counts as one.
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
    assert_approved_only(&f.logs(), DOCTOR, VERIFIER, 1, 2);
    f.registry
        .send(THIRD_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
}

#[test]
fn a_reinstated_doctor_needs_a_fresh_quorum_after_the_next_suspension() {
    let mut f = quorum_fixture(2);
    for v in [VERIFIER, OTHER_VERIFIER] {
        f.registry.send(v, |r| r.verify_doctor(DOCTOR)).unwrap();
    }
    f.registry
        .send(THIRD_VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    for v in [VERIFIER, OTHER_VERIFIER] {
        f.registry.send(v, |r| r.verify_doctor(DOCTOR)).unwrap();
    }
    assert!(f.registry.is_verified_doctor(DOCTOR));
    // The approvals that reinstated it were spent: none carries over.
    f.registry
        .send(THIRD_VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::SUSPENDED);
    assert_eq!(f.registry.doctor_approvals(DOCTOR), vec![VERIFIER]);
}

#[test]
fn approvals_given_count_towards_a_lowered_threshold_at_the_next_approval() {
    let mut f = quorum_fixture(3);
    for v in [VERIFIER, OTHER_VERIFIER] {
        f.registry.send(v, |r| r.verify_doctor(DOCTOR)).unwrap();
    }
    f.registry
        .send(OWNER, |r| r.set_verification_threshold(2))
        .unwrap();
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
    f.logs();
    f.registry
        .send(THIRD_VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert_approved_then_verified(&f.logs(), DOCTOR, THIRD_VERIFIER, 3, 2);
}

#[test]
fn raising_the_threshold_keeps_verified_doctors_verified() {
    let mut f = quorum_fixture(1);
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(OWNER, |r| r.set_verification_threshold(2))
        .unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    // ...until suspended: then the new threshold applies.
    f.registry
        .send(VERIFIER, |r| r.suspend_doctor(DOCTOR))
        .unwrap();
    f.registry
        .send(VERIFIER, |r| r.verify_doctor(DOCTOR))
        .unwrap();
    assert!(!f.registry.is_verified_doctor(DOCTOR));
}

#[test]
fn a_quorum_of_eight_needs_eight_distinct_verifiers() {
    let mut f = fixture();
    let verifiers: Vec<Address> = (0..MAX_THRESHOLD).map(|i| addr(0xc0 + i)).collect();
    for v in &verifiers {
        f.registry.send(OWNER, |r| r.add_verifier(*v)).unwrap();
    }
    f.registry
        .send(OWNER, |r| r.set_verification_threshold(MAX_THRESHOLD))
        .unwrap();
    f.register_doctor(DOCTOR, 0x11);
    let (last, first) = verifiers.split_last().unwrap();
    for v in first {
        f.registry.send(*v, |r| r.verify_doctor(DOCTOR)).unwrap();
    }
    assert_eq!(f.registry.doctor_status(DOCTOR), doctor_status::PENDING);
    assert_eq!(f.registry.doctor_approvals(DOCTOR), first);
    f.logs();
    f.registry.send(*last, |r| r.verify_doctor(DOCTOR)).unwrap();
    assert!(f.registry.is_verified_doctor(DOCTOR));
    assert_approved_then_verified(&f.logs(), DOCTOR, *last, MAX_THRESHOLD, MAX_THRESHOLD);
}

// ---------------------------------------------------------------- emergency custodians

#[test]
fn a_patient_has_no_custodians_until_it_names_them() {
    let f = custodian_fixture();
    assert!(f.registry.emergency_custodians(PATIENT).is_empty());
    assert!(!f.registry.is_emergency_custodian(PATIENT, CANDIDATES[0]));
    assert!(!f.registry.is_emergency_custodian(PATIENT, Address::ZERO));
}

#[test]
fn set_emergency_custodians_stores_the_list_and_logs() {
    let mut f = custodian_fixture();
    let list = vec![CANDIDATES[2], CANDIDATES[0]];
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(list.clone()))
        .unwrap();
    assert_eq!(f.registry.emergency_custodians(PATIENT), list);
    for c in &list {
        assert!(f.registry.is_emergency_custodian(PATIENT, *c));
    }
    for other in [CANDIDATES[1], PATIENT, STRANGER, Address::ZERO] {
        assert!(
            !f.registry.is_emergency_custodian(PATIENT, other),
            "{other}"
        );
    }
    let e = only_event::<EmergencyCustodiansSet>(&f.logs(), REGISTRY);
    assert_eq!((e.patient, e.custodians), (PATIENT, list));
}

#[test]
fn a_patients_custodians_are_its_own() {
    let mut f = custodian_fixture();
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![CANDIDATES[0]]))
        .unwrap();
    assert!(f.registry.emergency_custodians(CANDIDATES[1]).is_empty());
    assert!(!f
        .registry
        .is_emergency_custodian(CANDIDATES[1], CANDIDATES[0]));
    // The custodian's own list is untouched, and naming it gives it no list.
    assert!(f.registry.emergency_custodians(CANDIDATES[0]).is_empty());
}

#[test]
fn set_emergency_custodians_requires_a_patient() {
    let mut f = custodian_fixture();
    f.register_doctor(DOCTOR, 0x11); // a key, but no patient
    f.logs();
    for caller in [STRANGER, DOCTOR, VERIFIER, OWNER] {
        let err = f
            .registry
            .send(caller, |r| r.set_emergency_custodians(vec![CANDIDATES[0]]))
            .unwrap_err();
        assert!(
            matches!(err, Error::NotPatient(ref e) if e.account == caller),
            "{caller}"
        );
        assert!(f.registry.emergency_custodians(caller).is_empty());
    }
    // Not even to clear.
    let err = f
        .registry
        .send(STRANGER, |r| r.set_emergency_custodians(vec![]))
        .unwrap_err();
    assert!(matches!(err, Error::NotPatient(_)));
    assert!(f.logs().is_empty());
}

#[test]
fn set_emergency_custodians_accepts_four_but_not_five() {
    let mut f = custodian_fixture();
    let four = CANDIDATES[..MAX_CUSTODIANS].to_vec();
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(four.clone()))
        .unwrap();
    f.logs();
    let err = f
        .registry
        .send(PATIENT, |r| r.set_emergency_custodians(CANDIDATES.to_vec()))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::TooManyCustodians(ref e) if e.count == alloy_primitives::U256::from(MAX_CUSTODIANS + 1)
    ));
    assert_eq!(f.registry.emergency_custodians(PATIENT), four);
    assert!(!f
        .registry
        .is_emergency_custodian(PATIENT, CANDIDATES[MAX_CUSTODIANS]));
    assert!(f.logs().is_empty());
}

/// `list` is refused with `InvalidCustodian(bad)` and changes nothing: PATIENT
/// keeps its one custodian, CANDIDATES[0].
fn assert_invalid_custodian(list: Vec<Address>, bad: Address) {
    let mut f = custodian_fixture();
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![CANDIDATES[0]]))
        .unwrap();
    f.logs();
    let storage = f.chain.storage_of(REGISTRY);
    let err = f
        .registry
        .send(PATIENT, |r| r.set_emergency_custodians(list))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidCustodian(ref e) if e.custodian == bad),
        "{err:?}"
    );
    assert_eq!(
        f.registry.emergency_custodians(PATIENT),
        vec![CANDIDATES[0]]
    );
    assert_eq!(f.chain.storage_of(REGISTRY), storage);
    assert!(f.logs().is_empty());
}

#[test]
fn set_emergency_custodians_rejects_the_zero_address() {
    assert_invalid_custodian(vec![Address::ZERO], Address::ZERO);
    assert_invalid_custodian(vec![CANDIDATES[1], Address::ZERO], Address::ZERO);
}

#[test]
fn set_emergency_custodians_rejects_the_patient_itself() {
    assert_invalid_custodian(vec![PATIENT], PATIENT);
    assert_invalid_custodian(vec![CANDIDATES[1], PATIENT], PATIENT);
}

#[test]
fn set_emergency_custodians_rejects_a_duplicate() {
    let [a, b, ..] = CANDIDATES;
    assert_invalid_custodian(vec![a, a], a);
    assert_invalid_custodian(vec![a, b, a], a);
}

#[test]
fn set_emergency_custodians_rejects_an_account_without_a_key() {
    // Neither the owner nor a verifier holds a key in the fixture.
    for keyless in [STRANGER, VERIFIER, OWNER] {
        assert_invalid_custodian(vec![CANDIDATES[1], keyless], keyless);
    }
}

#[test]
fn a_doctor_with_a_key_may_be_a_custodian() {
    let mut f = custodian_fixture();
    f.register_doctor(DOCTOR, 0x11);
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![DOCTOR]))
        .unwrap();
    assert!(f.registry.is_emergency_custodian(PATIENT, DOCTOR));
}

#[test]
fn an_empty_list_clears_the_custodians() {
    let mut f = custodian_fixture();
    let storage = f.chain.storage_of(REGISTRY);
    f.registry
        .send(PATIENT, |r| {
            r.set_emergency_custodians(CANDIDATES[..3].to_vec())
        })
        .unwrap();
    f.logs();
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![]))
        .unwrap();
    assert!(f.registry.emergency_custodians(PATIENT).is_empty());
    for c in CANDIDATES {
        assert!(!f.registry.is_emergency_custodian(PATIENT, c));
    }
    let e = only_event::<EmergencyCustodiansSet>(&f.logs(), REGISTRY);
    assert_eq!(e.patient, PATIENT);
    assert!(e.custodians.is_empty());
    // Nothing of the old list lingers in storage.
    assert_eq!(f.chain.storage_of(REGISTRY), storage);
}

#[test]
fn replacing_the_list_drops_the_old_custodians() {
    let mut f = custodian_fixture();
    let [a, b, c, d, _] = CANDIDATES;
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![a, b, c]))
        .unwrap();
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![d, b]))
        .unwrap();
    assert_eq!(f.registry.emergency_custodians(PATIENT), vec![d, b]);
    assert!(!f.registry.is_emergency_custodian(PATIENT, a));
    assert!(!f.registry.is_emergency_custodian(PATIENT, c));
    assert!(f.registry.is_emergency_custodian(PATIENT, b));
    assert!(f.registry.is_emergency_custodian(PATIENT, d));
}

#[test]
fn custodians_may_be_changed_while_paused() {
    let mut f = custodian_fixture();
    f.registry.send(OWNER, |r| r.pause()).unwrap();
    f.logs();
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![CANDIDATES[0]]))
        .unwrap();
    assert!(f.registry.is_emergency_custodian(PATIENT, CANDIDATES[0]));
    assert_eq!(
        only_event::<EmergencyCustodiansSet>(&f.logs(), REGISTRY).custodians,
        vec![CANDIDATES[0]]
    );
    f.registry
        .send(PATIENT, |r| r.set_emergency_custodians(vec![]))
        .unwrap();
    assert!(f.registry.emergency_custodians(PATIENT).is_empty());
}

// ---------------------------------------------------------------- calldata

mod abi {
    alloy_sol_types::sol! {
        #[sol(all_derives)]
        interface IPatientRegistry {
            function registerPatient(bytes32 encryptionKey) external;
            function registerDoctor(bytes32 encryptionKey, bytes32 licenceHash) external;
            function updateEncryptionKey(bytes32 encryptionKey) external;
            function verifyDoctor(address doctor) external;
            function suspendDoctor(address doctor) external;
            function addVerifier(address verifier) external;
            function removeVerifier(address verifier) external;
            function pause() external;
            function unpause() external;
            function transferOwnership(address newOwner) external;
            function acceptOwnership() external;
            function renounceOwnership() external;
            function owner() external view returns (address);
            function pendingOwner() external view returns (address);
            function paused() external view returns (bool);
            function isVerifier(address account) external view returns (bool);
            function isPatient(address account) external view returns (bool);
            function isVerifiedDoctor(address account) external view returns (bool);
            function doctorStatus(address account) external view returns (uint8);
            function encryptionKey(address account) external view returns (bytes32);
            function licenceHash(address account) external view returns (bytes32);
            function setVerificationThreshold(uint8 threshold) external;
            function setEmergencyCustodians(address[] custodians) external;
            function verificationThreshold() external view returns (uint8);
            function doctorApprovals(address doctor) external view returns (address[]);
            function emergencyCustodians(address patient) external view returns (address[]);
            function isEmergencyCustodian(address patient, address account) external view returns (bool);

            error AlreadyRegistered(address account);
            error NotVerifier(address account);
            error OwnableInvalidOwner(address owner);
            error OwnerCannotVerify(address account);
            error NotPatient(address account);
            error InvalidThreshold(uint8 threshold);
            error AlreadyApproved(address doctor, address verifier);
            error InvalidCustodian(address custodian);
            error TooManyCustodians(uint256 count);
        }
    }
}

use abi::IPatientRegistry as I;

#[test]
fn calldata_routes_to_every_function() {
    let f = fixture();
    let calls: Vec<(Address, Vec<u8>)> = vec![
        (
            PATIENT,
            I::registerPatientCall {
                encryptionKey: key(1),
            }
            .abi_encode(),
        ),
        (
            DOCTOR,
            I::registerDoctorCall {
                encryptionKey: key(0x11),
                licenceHash: key(0x12),
            }
            .abi_encode(),
        ),
        (
            PATIENT,
            I::updateEncryptionKeyCall {
                encryptionKey: key(2),
            }
            .abi_encode(),
        ),
        (
            VERIFIER,
            I::verifyDoctorCall { doctor: DOCTOR }.abi_encode(),
        ),
        (
            VERIFIER,
            I::suspendDoctorCall { doctor: DOCTOR }.abi_encode(),
        ),
        (
            OWNER,
            I::addVerifierCall {
                verifier: OTHER_VERIFIER,
            }
            .abi_encode(),
        ),
        (
            OWNER,
            I::removeVerifierCall {
                verifier: OTHER_VERIFIER,
            }
            .abi_encode(),
        ),
        (OWNER, I::pauseCall {}.abi_encode()),
        (OWNER, I::unpauseCall {}.abi_encode()),
        (
            OWNER,
            I::transferOwnershipCall {
                newOwner: NEW_OWNER,
            }
            .abi_encode(),
        ),
        (NEW_OWNER, I::acceptOwnershipCall {}.abi_encode()),
        (NEW_OWNER, I::renounceOwnershipCall {}.abi_encode()),
    ];
    for (from, data) in calls {
        let out = f.chain.call(from, REGISTRY, &data);
        assert_eq!(out, Ok(vec![]), "{:02x?}", &data[..4]);
    }
    assert_eq!(
        f.registry.call(STRANGER, I::ownerCall {}),
        Ok(Address::ZERO)
    );
    assert_eq!(
        f.registry.call(STRANGER, I::pendingOwnerCall {}),
        Ok(Address::ZERO)
    );
    assert_eq!(f.registry.call(STRANGER, I::pausedCall {}), Ok(false));
    let account = PATIENT;
    assert_eq!(
        f.registry.call(STRANGER, I::isPatientCall { account }),
        Ok(true)
    );
    assert_eq!(
        f.registry.call(STRANGER, I::encryptionKeyCall { account }),
        Ok(key(2))
    );
    let account = DOCTOR;
    assert_eq!(
        f.registry
            .call(STRANGER, I::isVerifiedDoctorCall { account }),
        Ok(false)
    );
    assert_eq!(
        f.registry.call(STRANGER, I::doctorStatusCall { account }),
        Ok(doctor_status::SUSPENDED)
    );
    assert_eq!(
        f.registry.call(STRANGER, I::licenceHashCall { account }),
        Ok(key(0x12))
    );
    let account = VERIFIER;
    assert_eq!(
        f.registry.call(STRANGER, I::isVerifierCall { account }),
        Ok(true)
    );
    let account = OTHER_VERIFIER;
    assert_eq!(
        f.registry.call(STRANGER, I::isVerifierCall { account }),
        Ok(false)
    );
}

#[test]
fn calldata_reverts_carry_the_encoded_error() {
    let f = fixture();
    let verify = I::verifyDoctorCall { doctor: DOCTOR };
    let revert = f.registry.call(STRANGER, verify).err().expect("reverts");
    match I::IPatientRegistryErrors::abi_decode(&revert).unwrap() {
        I::IPatientRegistryErrors::NotVerifier(e) => assert_eq!(e.account, STRANGER),
        other => panic!("unexpected {other:?}"),
    }
    let register = I::registerPatientCall {
        encryptionKey: key(1),
    };
    f.registry.call(PATIENT, register.clone()).unwrap();
    let revert = f.registry.call(PATIENT, register).err().expect("reverts");
    assert!(matches!(
        I::IPatientRegistryErrors::abi_decode(&revert).unwrap(),
        I::IPatientRegistryErrors::AlreadyRegistered(e) if e.account == PATIENT
    ));
}

#[test]
fn calldata_routes_to_the_quorum_and_custodian_functions() {
    let f = custodian_fixture();
    let routed = |from: Address, data: Vec<u8>| {
        assert_eq!(
            f.chain.call(from, REGISTRY, &data),
            Ok(vec![]),
            "{:02x?}",
            &data[..4]
        );
    };
    routed(
        OWNER,
        I::addVerifierCall {
            verifier: OTHER_VERIFIER,
        }
        .abi_encode(),
    );
    routed(
        OWNER,
        I::setVerificationThresholdCall { threshold: 2 }.abi_encode(),
    );
    routed(
        DOCTOR,
        I::registerDoctorCall {
            encryptionKey: key(0x11),
            licenceHash: key(0x12),
        }
        .abi_encode(),
    );
    routed(
        VERIFIER,
        I::verifyDoctorCall { doctor: DOCTOR }.abi_encode(),
    );
    let custodians = vec![CANDIDATES[1], CANDIDATES[0]];
    routed(
        PATIENT,
        I::setEmergencyCustodiansCall {
            custodians: custodians.clone(),
        }
        .abi_encode(),
    );
    assert_eq!(
        f.registry.call(STRANGER, I::verificationThresholdCall {}),
        Ok(2)
    );
    assert_eq!(
        f.registry
            .call(STRANGER, I::doctorApprovalsCall { doctor: DOCTOR }),
        Ok(vec![VERIFIER])
    );
    assert_eq!(
        f.registry
            .call(STRANGER, I::emergencyCustodiansCall { patient: PATIENT }),
        Ok(custodians)
    );
    let (patient, account) = (PATIENT, CANDIDATES[0]);
    assert_eq!(
        f.registry
            .call(STRANGER, I::isEmergencyCustodianCall { patient, account }),
        Ok(true)
    );
    let account = CANDIDATES[2];
    assert_eq!(
        f.registry
            .call(STRANGER, I::isEmergencyCustodianCall { patient, account }),
        Ok(false)
    );
}

#[test]
fn calldata_reverts_carry_the_new_errors() {
    use I::IPatientRegistryErrors as E;
    let f = custodian_fixture();
    let decoded = |from: Address, data: Vec<u8>| {
        let revert = f.registry.call_raw(from, &data).expect_err("reverts");
        E::abi_decode(&revert).unwrap()
    };
    let owner_as_verifier = I::addVerifierCall { verifier: OWNER }.abi_encode();
    assert!(
        matches!(decoded(OWNER, owner_as_verifier), E::OwnerCannotVerify(e) if e.account == OWNER)
    );
    let threshold = I::setVerificationThresholdCall { threshold: 9 }.abi_encode();
    assert!(matches!(decoded(OWNER, threshold), E::InvalidThreshold(e) if e.threshold == 9));
    f.registry
        .call(OWNER, I::setVerificationThresholdCall { threshold: 2 })
        .unwrap();
    f.registry
        .call(
            DOCTOR,
            I::registerDoctorCall {
                encryptionKey: key(0x11),
                licenceHash: key(0x12),
            },
        )
        .unwrap();
    let verify = I::verifyDoctorCall { doctor: DOCTOR };
    f.registry.call(VERIFIER, verify.clone()).unwrap();
    assert!(matches!(
        decoded(VERIFIER, verify.abi_encode()),
        E::AlreadyApproved(e) if e.doctor == DOCTOR && e.verifier == VERIFIER
    ));
    let set = |custodians: Vec<Address>| I::setEmergencyCustodiansCall { custodians }.abi_encode();
    assert!(matches!(decoded(STRANGER, set(vec![])), E::NotPatient(e) if e.account == STRANGER));
    assert!(matches!(
        decoded(PATIENT, set(vec![STRANGER])),
        E::InvalidCustodian(e) if e.custodian == STRANGER
    ));
    assert!(matches!(
        decoded(PATIENT, set(CANDIDATES.to_vec())),
        E::TooManyCustodians(e) if e.count == alloy_primitives::U256::from(CANDIDATES.len())
    ));
}

#[test]
fn empty_calldata_reverts() {
    let f = fixture();
    assert!(f.registry.call_raw(STRANGER, &[]).is_err());
}

#[test]
fn an_unknown_selector_reverts() {
    let f = fixture();
    for data in [
        vec![0xde, 0xad, 0xbe, 0xef],
        vec![0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0],
        vec![0x01],
        vec![0x01, 0x02, 0x03],
    ] {
        assert!(f.registry.call_raw(OWNER, &data).is_err(), "{data:02x?}");
    }
}

#[test]
fn a_known_selector_with_short_arguments_reverts() {
    let f = fixture();
    let register = I::registerPatientCall {
        encryptionKey: key(1),
    }
    .abi_encode();
    for cut in [4, 5, 35] {
        assert!(
            f.registry.call_raw(PATIENT, &register[..cut]).is_err(),
            "{cut}"
        );
    }
    let doctor = I::registerDoctorCall {
        encryptionKey: key(0x11),
        licenceHash: key(0x12),
    }
    .abi_encode();
    assert!(f.registry.call_raw(DOCTOR, &doctor[..4 + 32]).is_err());
    let verifier = I::addVerifierCall { verifier: STRANGER }.abi_encode();
    assert!(f.registry.call_raw(OWNER, &verifier[..4 + 31]).is_err());
    assert!(!f.registry.is_patient(PATIENT));
    assert!(!f.registry.is_verifier(STRANGER));
}

#[test]
fn garbage_after_a_valid_selector_reverts() {
    let f = fixture();
    // An address argument whose upper 12 bytes are not zero is not an address.
    for selector in [
        I::addVerifierCall::SELECTOR,
        I::verifyDoctorCall::SELECTOR,
        I::transferOwnershipCall::SELECTOR,
    ] {
        let data = [&selector[..], &[0xff; 32]].concat();
        assert!(
            f.registry.call_raw(OWNER, &data).is_err(),
            "{selector:02x?}"
        );
    }
    assert_eq!(f.registry.pending_owner(), Address::ZERO);
}

proptest! {
    #[test]
    fn random_calldata_never_panics_and_reverts_cleanly(
        data in careledger_testkit::any_calldata!(I::IPatientRegistryCalls::SELECTORS, 160),
        from in proptest::sample::select(vec![OWNER, VERIFIER, PATIENT, STRANGER]),
    ) {
        let mut f = fixture();
        f.registry.send(PATIENT, |r| r.register_patient(key(1))).unwrap();
        f.register_doctor(DOCTOR, 0x11);
        // call_raw asserts that a revert changed nothing.
        let _ = f.registry.call_raw(from, &data);
        // Whatever happened, the registry still answers through the router.
        let answers = f.registry.call(STRANGER, I::ownerCall {}).is_ok();
        prop_assert!(answers);
        prop_assert!(f.registry.is_patient(PATIENT));
    }
}
