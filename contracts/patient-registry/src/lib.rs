//! PatientRegistry: who is a patient, who is a doctor, and which doctors an
//! accredited verifier has vouched for.
//!
//! Each account has one X25519 public key (`encryptionKey`) to which record keys
//! are wrapped off chain; an account may be a patient and a doctor at once, with
//! the same key. A doctor is verified when a quorum of distinct accredited
//! verifiers approved it ([`quorum`]). The owner appoints verifiers, sets the
//! quorum and can pause (registrations here; new grants and emergency windows in
//! AccessToken, which asks `paused`). The owner can never be a verifier, and it
//! can never read or grant records: those rights live in AccessToken and
//! RecordRegistry. A patient names its emergency custodians here ([`custodians`]).
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]
// stylus-sdk generates an undocumented `pub extern "C" fn user_entrypoint` (and, for
// export-abi, a `pub fn` of its own) in the WASM and ABI builds; host builds check every
// item of ours.
#![cfg_attr(
    any(target_arch = "wasm32", feature = "export-abi"),
    allow(missing_docs)
)]
extern crate alloc;

pub mod custodians;
pub mod ownable;
pub mod quorum;

use alloc::{vec, vec::Vec};

use alloy_primitives::{
    aliases::{U32, U8},
    Address, B256,
};
use alloy_sol_types::sol;
use custodians::{Custodians, EmergencyCustodiansSet, InvalidCustodian, TooManyCustodians};
use ownable::{Ownable2Step, OwnableError, OwnableInvalidOwner, OwnableUnauthorizedAccount};
use quorum::{AlreadyApproved, DoctorApproved, InvalidThreshold, Quorum, VerificationThresholdSet};
use stylus_sdk::{
    prelude::*,
    storage::{StorageBool, StorageFixedBytes, StorageMap, StorageU32, StorageU8},
};

/// Where a doctor stands. Stored as a `uint8` and returned by `doctorStatus`.
pub mod doctor_status {
    /// Never registered.
    pub const NONE: u8 = 0;
    /// Registered, waiting for a verifier.
    pub const PENDING: u8 = 1;
    /// Approved by a quorum of verifiers: may receive grants and open emergency access.
    pub const VERIFIED: u8 = 2;
    /// Suspended by a verifier: every grant it holds grants nothing until a quorum
    /// approves it again.
    pub const SUSPENDED: u8 = 3;
}

sol! {
    /// A patient registered with its X25519 public key.
    event PatientRegistered(address indexed patient, bytes32 encryptionKey);
    /// A doctor registered with its X25519 public key and the hash of its licence.
    event DoctorRegistered(address indexed doctor, bytes32 encryptionKey, bytes32 licenceHash);
    /// An account replaced its X25519 public key.
    event EncryptionKeyUpdated(address indexed account, bytes32 encryptionKey);
    /// A doctor became verified (or was reinstated): `verifier` gave the approval
    /// that completed the quorum.
    event DoctorVerified(address indexed doctor, address indexed verifier);
    /// A verifier suspended a doctor.
    event DoctorSuspended(address indexed doctor, address indexed verifier);
    /// The owner appointed a verifier.
    event VerifierAdded(address indexed verifier);
    /// The owner removed a verifier.
    event VerifierRemoved(address indexed verifier);
    /// Registrations are paused.
    event Paused(address account);
    /// Registrations are open again.
    event Unpaused(address account);

    /// Registration is paused.
    #[derive(Debug)]
    error EnforcedPause();
    /// `unpause` was called while not paused.
    #[derive(Debug)]
    error ExpectedPause();
    /// The account already holds this role.
    #[derive(Debug)]
    error AlreadyRegistered(address account);
    /// The account holds no role, so it has no key to update.
    #[derive(Debug)]
    error NotRegistered(address account);
    /// The zero key is not an X25519 public key anyone could wrap to.
    #[derive(Debug)]
    error InvalidEncryptionKey();
    /// A second role must use the key already registered for the account.
    #[derive(Debug)]
    error EncryptionKeyMismatch(bytes32 registered);
    /// The licence hash may not be zero.
    #[derive(Debug)]
    error InvalidLicenceHash();
    /// The caller is not an accredited verifier.
    #[derive(Debug)]
    error NotVerifier(address account);
    /// The address is not a registered doctor.
    #[derive(Debug)]
    error UnknownDoctor(address doctor);
    /// The doctor is already verified.
    #[derive(Debug)]
    error DoctorAlreadyVerified(address doctor);
    /// The doctor is already suspended.
    #[derive(Debug)]
    error DoctorAlreadySuspended(address doctor);
    /// A verifier cannot vouch for or suspend itself.
    #[derive(Debug)]
    error SelfVerification();
    /// The zero address cannot be a verifier.
    #[derive(Debug)]
    error InvalidVerifier(address verifier);
    /// The address is already a verifier.
    #[derive(Debug)]
    error VerifierAlreadyAdded(address verifier);
    /// The address is not a verifier.
    #[derive(Debug)]
    error UnknownVerifier(address verifier);
    /// The owner (or the proposed owner) cannot be a verifier, and a verifier
    /// cannot be proposed as owner: one account must not both appoint verifiers
    /// and verify.
    #[derive(Debug)]
    error OwnerCannotVerify(address account);
    /// The caller is not a registered patient.
    #[derive(Debug)]
    error NotPatient(address account);
}

/// Every error PatientRegistry reverts with.
#[derive(SolidityError, Debug)]
pub enum Error {
    /// `registerPatient` or `registerDoctor` while the registry is paused, or `pause` when
    /// it is paused already.
    EnforcedPause(EnforcedPause),
    /// `unpause` while the registry is not paused.
    ExpectedPause(ExpectedPause),
    /// `registerPatient` from a patient, or `registerDoctor` from a doctor in any status.
    AlreadyRegistered(AlreadyRegistered),
    /// `updateEncryptionKey` from an account that holds no role.
    NotRegistered(NotRegistered),
    /// A registration or `updateEncryptionKey` with the zero key.
    InvalidEncryptionKey(InvalidEncryptionKey),
    /// A registration in a second role with another key than the account's.
    EncryptionKeyMismatch(EncryptionKeyMismatch),
    /// `registerDoctor` with a zero licence hash.
    InvalidLicenceHash(InvalidLicenceHash),
    /// `verifyDoctor` or `suspendDoctor` from an account that is not a verifier.
    NotVerifier(NotVerifier),
    /// `verifyDoctor` or `suspendDoctor` of an account that never registered as a doctor.
    UnknownDoctor(UnknownDoctor),
    /// `verifyDoctor` of a doctor that is verified.
    DoctorAlreadyVerified(DoctorAlreadyVerified),
    /// `suspendDoctor` of a doctor that is suspended.
    DoctorAlreadySuspended(DoctorAlreadySuspended),
    /// `verifyDoctor` or `suspendDoctor` from a verifier of itself.
    SelfVerification(SelfVerification),
    /// `addVerifier` of the zero address.
    InvalidVerifier(InvalidVerifier),
    /// `addVerifier` of an account that is a verifier already.
    VerifierAlreadyAdded(VerifierAlreadyAdded),
    /// `removeVerifier` of an account that is not a verifier.
    UnknownVerifier(UnknownVerifier),
    /// `addVerifier` of the owner or the proposed owner, or `transferOwnership` to a
    /// verifier.
    OwnerCannotVerify(OwnerCannotVerify),
    /// `setEmergencyCustodians` from an account that is not a registered patient.
    NotPatient(NotPatient),
    /// `setVerificationThreshold` of 0 or more than 8.
    InvalidThreshold(InvalidThreshold),
    /// `verifyDoctor` from a verifier that approved the doctor already, while the quorum is
    /// still short.
    AlreadyApproved(AlreadyApproved),
    /// `setEmergencyCustodians` naming zero, the caller, an account twice, or an account
    /// without a key.
    InvalidCustodian(InvalidCustodian),
    /// `setEmergencyCustodians` naming more than 4 custodians.
    TooManyCustodians(TooManyCustodians),
    /// An owner function from any account but the owner, or `acceptOwnership` from any but
    /// the proposed owner.
    OwnableUnauthorizedAccount(OwnableUnauthorizedAccount),
    /// The constructor with the zero address as the first owner.
    OwnableInvalidOwner(OwnableInvalidOwner),
}

impl From<OwnableError> for Error {
    fn from(e: OwnableError) -> Self {
        match e {
            OwnableError::UnauthorizedAccount(e) => Error::OwnableUnauthorizedAccount(e),
            OwnableError::InvalidOwner(e) => Error::OwnableInvalidOwner(e),
        }
    }
}

impl From<custodians::Error> for Error {
    fn from(e: custodians::Error) -> Self {
        match e {
            custodians::Error::Invalid(e) => Error::InvalidCustodian(e),
            custodians::Error::TooMany(e) => Error::TooManyCustodians(e),
        }
    }
}

/// One account's roles. The flags share a slot with nothing else on purpose:
/// a role check then costs one storage read.
#[storage]
pub struct Account {
    is_patient: StorageBool,
    doctor_status: StorageU8,
    encryption_key: StorageFixedBytes<32>,
    licence_hash: StorageFixedBytes<32>,
}

impl Account {
    fn status(&self) -> u8 {
        self.doctor_status.get().to()
    }

    fn set_status(&mut self, status: u8) {
        self.doctor_status.set(U8::from(status));
    }
}

/// The registry's storage.
#[storage]
#[entrypoint]
pub struct PatientRegistry {
    ownable: Ownable2Step,
    paused: StorageBool,
    verifiers: StorageMap<Address, StorageBool>,
    accounts: StorageMap<Address, Account>,
    quorum: Quorum,
    /// verifier => how many times it was appointed (its current appointment).
    appointments: StorageMap<Address, StorageU32>,
    custodians: Custodians,
}

#[public]
impl PatientRegistry {
    /// Sets the first owner.
    ///
    /// # Errors
    /// `OwnableInvalidOwner` if `initial_owner` is zero.
    ///
    /// # Events
    /// `OwnershipTransferred(0, initial_owner)`.
    #[constructor]
    pub fn constructor(&mut self, initial_owner: Address) -> Result<(), Error> {
        Ok(self.ownable.init(initial_owner)?)
    }

    // ------------------------------------------------------------ registration

    /// Registers the caller as a patient with its X25519 public key.
    ///
    /// # Errors
    /// `EnforcedPause` while paused; `InvalidEncryptionKey` for a zero key;
    /// `AlreadyRegistered` if the caller is a patient; `EncryptionKeyMismatch` if the
    /// caller is a doctor with another key.
    ///
    /// # Events
    /// `PatientRegistered(caller, encryption_key)`.
    pub fn register_patient(&mut self, encryption_key: B256) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        self.when_not_paused()?;
        if self.accounts.get(caller).is_patient.get() {
            return Err(Error::AlreadyRegistered(AlreadyRegistered {
                account: caller,
            }));
        }
        self.claim_key(caller, encryption_key)?;
        self.accounts.setter(caller).is_patient.set(true);
        self.vm().log(PatientRegistered {
            patient: caller,
            encryptionKey: encryption_key,
        });
        Ok(())
    }

    /// Registers the caller as a doctor, pending verification.
    ///
    /// # Errors
    /// `EnforcedPause` while paused; `InvalidEncryptionKey` for a zero key;
    /// `InvalidLicenceHash` for a zero licence hash; `AlreadyRegistered` if the caller
    /// is a doctor in any status; `EncryptionKeyMismatch` if the caller is a patient
    /// with another key.
    ///
    /// # Events
    /// `DoctorRegistered(caller, encryption_key, licence_hash)`.
    pub fn register_doctor(
        &mut self,
        encryption_key: B256,
        licence_hash: B256,
    ) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        self.when_not_paused()?;
        if self.accounts.get(caller).status() != doctor_status::NONE {
            return Err(Error::AlreadyRegistered(AlreadyRegistered {
                account: caller,
            }));
        }
        if licence_hash.is_zero() {
            return Err(Error::InvalidLicenceHash(InvalidLicenceHash {}));
        }
        self.claim_key(caller, encryption_key)?;
        let mut account = self.accounts.setter(caller);
        account.set_status(doctor_status::PENDING);
        account.licence_hash.set(licence_hash);
        self.vm().log(DoctorRegistered {
            doctor: caller,
            encryptionKey: encryption_key,
            licenceHash: licence_hash,
        });
        Ok(())
    }

    /// Replaces the caller's X25519 public key (key rotation). Records wrapped to
    /// the old key stay readable with the old secret; new wraps use the new key.
    /// Allowed while paused: rotating a compromised key must never be blocked.
    ///
    /// # Errors
    /// `NotRegistered` if the caller holds no role; `InvalidEncryptionKey` for zero.
    ///
    /// # Events
    /// `EncryptionKeyUpdated(caller, encryption_key)`.
    pub fn update_encryption_key(&mut self, encryption_key: B256) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        if self.accounts.get(caller).encryption_key.get().is_zero() {
            return Err(Error::NotRegistered(NotRegistered { account: caller }));
        }
        if encryption_key.is_zero() {
            return Err(Error::InvalidEncryptionKey(InvalidEncryptionKey {}));
        }
        self.accounts
            .setter(caller)
            .encryption_key
            .set(encryption_key);
        self.vm().log(EncryptionKeyUpdated {
            account: caller,
            encryptionKey: encryption_key,
        });
        Ok(())
    }

    // ------------------------------------------------------------ verification

    /// Approves a pending or suspended doctor. The doctor becomes verified when
    /// the approvals of distinct current verifiers since its last change of status
    /// reach the threshold (`verificationThreshold`); approvals of verifiers removed
    /// since then no longer count.
    ///
    /// # Errors
    /// `NotVerifier` unless the caller is a verifier; `SelfVerification` if
    /// `doctor` is the caller; `UnknownDoctor` if `doctor` never registered;
    /// `DoctorAlreadyVerified` if it is verified; `AlreadyApproved` if the caller
    /// approved it already.
    ///
    /// # Events
    /// `DoctorApproved(doctor, caller, approvals, threshold)`, then
    /// `DoctorVerified(doctor, caller)` when the quorum is complete.
    pub fn verify_doctor(&mut self, doctor: Address) -> Result<(), Error> {
        let verifier = self.vm().msg_sender();
        let status = self.doctor_status_checked(verifier, doctor)?;
        if status == doctor_status::VERIFIED {
            return Err(Error::DoctorAlreadyVerified(DoctorAlreadyVerified {
                doctor,
            }));
        }
        let mut approvals = self.current_approvals(doctor);
        let threshold = self.quorum.threshold();
        let mut count = approvals.len();
        if approvals.iter().any(|(a, _)| *a == verifier) {
            // Approved already: an error, unless the owner lowered the threshold
            // below the approvals given, which would otherwise leave the doctor
            // pending with no verifier able to finish.
            if count < threshold as usize {
                return Err(Error::AlreadyApproved(AlreadyApproved { doctor, verifier }));
            }
        } else {
            approvals.push((verifier, self.appointment(verifier)));
            count += 1;
        }
        // At most MAX_THRESHOLD current approvals are ever kept, so this fits.
        let approvals_u8 = count.min(u8::MAX as usize) as u8;
        self.vm().log(DoctorApproved {
            doctor,
            verifier,
            approvals: approvals_u8,
            threshold,
        });
        if count >= threshold as usize {
            self.quorum.set_approvals(doctor, &[]);
            self.accounts
                .setter(doctor)
                .set_status(doctor_status::VERIFIED);
            self.vm().log(DoctorVerified { doctor, verifier });
        } else {
            self.quorum.set_approvals(doctor, &approvals);
        }
        Ok(())
    }

    /// Suspends a doctor, pending or verified. Every grant it holds stops granting
    /// at once, because AccessToken asks `isVerifiedDoctor` on every check. One
    /// verifier suffices; the doctor's pending approvals are dropped, so only a
    /// full quorum can reinstate it.
    ///
    /// # Errors
    /// `NotVerifier` unless the caller is a verifier; `SelfVerification` if
    /// `doctor` is the caller; `UnknownDoctor` if `doctor` never registered;
    /// `DoctorAlreadySuspended` if it is suspended.
    ///
    /// # Events
    /// `DoctorSuspended(doctor, caller)`.
    pub fn suspend_doctor(&mut self, doctor: Address) -> Result<(), Error> {
        let verifier = self.vm().msg_sender();
        let status = self.doctor_status_checked(verifier, doctor)?;
        if status == doctor_status::SUSPENDED {
            return Err(Error::DoctorAlreadySuspended(DoctorAlreadySuspended {
                doctor,
            }));
        }
        self.quorum.set_approvals(doctor, &[]);
        self.accounts
            .setter(doctor)
            .set_status(doctor_status::SUSPENDED);
        self.vm().log(DoctorSuspended { doctor, verifier });
        Ok(())
    }

    // ------------------------------------------------------------ administration

    /// Appoints an accredited verifier.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the owner;
    /// `InvalidVerifier` for the zero address; `OwnerCannotVerify` for the owner or
    /// the proposed owner; `VerifierAlreadyAdded` if it is one.
    ///
    /// # Events
    /// `VerifierAdded(verifier)`.
    pub fn add_verifier(&mut self, verifier: Address) -> Result<(), Error> {
        self.ownable.only_owner(self.vm().msg_sender())?;
        if verifier.is_zero() {
            return Err(Error::InvalidVerifier(InvalidVerifier { verifier }));
        }
        if verifier == self.ownable.owner() || verifier == self.ownable.pending_owner() {
            return Err(Error::OwnerCannotVerify(OwnerCannotVerify {
                account: verifier,
            }));
        }
        if self.verifiers.get(verifier) {
            return Err(Error::VerifierAlreadyAdded(VerifierAlreadyAdded {
                verifier,
            }));
        }
        self.verifiers.insert(verifier, true);
        let appointment = self.appointment(verifier).wrapping_add(1);
        self.appointments.insert(verifier, U32::from(appointment));
        self.vm().log(VerifierAdded { verifier });
        Ok(())
    }

    /// Removes a verifier. Doctors it verified stay verified.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the owner;
    /// `UnknownVerifier` if it is not a verifier.
    ///
    /// # Events
    /// `VerifierRemoved(verifier)`.
    pub fn remove_verifier(&mut self, verifier: Address) -> Result<(), Error> {
        self.ownable.only_owner(self.vm().msg_sender())?;
        if !self.verifiers.get(verifier) {
            return Err(Error::UnknownVerifier(UnknownVerifier { verifier }));
        }
        self.verifiers.delete(verifier);
        self.vm().log(VerifierRemoved { verifier });
        Ok(())
    }

    /// Pauses new registrations here, and new grants and emergency windows in
    /// AccessToken. Verification, suspension, revocation, key rotation, custodian
    /// changes and every read go on.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the owner; `EnforcedPause`
    /// if already paused.
    ///
    /// # Events
    /// `Paused(caller)`.
    pub fn pause(&mut self) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        self.ownable.only_owner(caller)?;
        self.when_not_paused()?;
        self.paused.set(true);
        self.vm().log(Paused { account: caller });
        Ok(())
    }

    /// Ends a pause.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the owner; `ExpectedPause`
    /// if not paused.
    ///
    /// # Events
    /// `Unpaused(caller)`.
    pub fn unpause(&mut self) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        self.ownable.only_owner(caller)?;
        if !self.paused.get() {
            return Err(Error::ExpectedPause(ExpectedPause {}));
        }
        self.paused.set(false);
        self.vm().log(Unpaused { account: caller });
        Ok(())
    }

    /// Proposes a new owner; zero cancels a pending proposal. In production the
    /// owner should be a multisig or another contract account: every owner
    /// function works when called from a contract.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the owner;
    /// `OwnerCannotVerify` if `new_owner` is a verifier.
    ///
    /// # Events
    /// `OwnershipTransferStarted(owner, new_owner)`.
    pub fn transfer_ownership(&mut self, new_owner: Address) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        self.ownable.only_owner(caller)?;
        if self.verifiers.get(new_owner) {
            return Err(Error::OwnerCannotVerify(OwnerCannotVerify {
                account: new_owner,
            }));
        }
        Ok(self.ownable.start_transfer(caller, new_owner)?)
    }

    /// Sets how many distinct verifiers must approve a doctor (1 to 8). Approvals
    /// already given count towards the new threshold at the next approval.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the owner;
    /// `InvalidThreshold` for 0 or more than 8.
    ///
    /// # Events
    /// `VerificationThresholdSet(threshold)`.
    pub fn set_verification_threshold(&mut self, threshold: u8) -> Result<(), Error> {
        self.ownable.only_owner(self.vm().msg_sender())?;
        self.quorum
            .set_threshold(threshold)
            .map_err(Error::InvalidThreshold)?;
        self.vm().log(VerificationThresholdSet { threshold });
        Ok(())
    }

    // ------------------------------------------------------------ emergency custodians

    /// Replaces the caller's emergency custodians (at most 4; empty turns
    /// break-glass off). Each must hold a registered X25519 key. Allowed while
    /// paused: a patient must always be able to change who can release its keys.
    ///
    /// # Errors
    /// `NotPatient` unless the caller is a registered patient; `TooManyCustodians`
    /// for more than 4; `InvalidCustodian` for zero, the caller, a duplicate or an
    /// account without a key.
    ///
    /// # Events
    /// `EmergencyCustodiansSet(caller, custodians)`.
    pub fn set_emergency_custodians(&mut self, custodians: Vec<Address>) -> Result<(), Error> {
        let patient = self.vm().msg_sender();
        if !self.accounts.get(patient).is_patient.get() {
            return Err(Error::NotPatient(NotPatient { account: patient }));
        }
        custodians::check_list(patient, &custodians)?;
        if let Some(c) = custodians
            .iter()
            .find(|c| self.accounts.get(**c).encryption_key.get().is_zero())
        {
            return Err(Error::InvalidCustodian(InvalidCustodian { custodian: *c }));
        }
        self.custodians.replace(patient, &custodians);
        self.vm().log(EmergencyCustodiansSet {
            patient,
            custodians,
        });
        Ok(())
    }

    /// Accepts a proposed transfer.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the pending owner.
    ///
    /// # Events
    /// `OwnershipTransferred(previous, caller)`.
    pub fn accept_ownership(&mut self) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        Ok(self.ownable.accept(caller)?)
    }

    /// Gives up ownership for good: verifiers and pausing are frozen as they are.
    ///
    /// # Errors
    /// `OwnableUnauthorizedAccount` unless the caller is the owner.
    ///
    /// # Events
    /// `OwnershipTransferred(owner, 0)`.
    pub fn renounce_ownership(&mut self) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        Ok(self.ownable.renounce(caller)?)
    }

    // ------------------------------------------------------------ views (no errors, no events)

    /// The owner.
    pub fn owner(&self) -> Address {
        self.ownable.owner()
    }

    /// The proposed owner, or zero.
    pub fn pending_owner(&self) -> Address {
        self.ownable.pending_owner()
    }

    /// Whether the registry is paused (registrations, new grants, new emergency windows).
    pub fn paused(&self) -> bool {
        self.paused.get()
    }

    /// Whether `account` is an accredited verifier.
    pub fn is_verifier(&self, account: Address) -> bool {
        self.verifiers.get(account)
    }

    /// Whether `account` is a registered patient.
    pub fn is_patient(&self, account: Address) -> bool {
        self.accounts.get(account).is_patient.get()
    }

    /// Whether `account` is a doctor that is verified now (not pending, not suspended).
    pub fn is_verified_doctor(&self, account: Address) -> bool {
        self.accounts.get(account).status() == doctor_status::VERIFIED
    }

    /// The doctor status of `account`: 0 none, 1 pending, 2 verified, 3 suspended.
    pub fn doctor_status(&self, account: Address) -> u8 {
        self.accounts.get(account).status()
    }

    /// The X25519 public key of `account`, or zero if it never registered.
    pub fn encryption_key(&self, account: Address) -> B256 {
        self.accounts.get(account).encryption_key.get()
    }

    /// The licence commitment `account` registered as a doctor, or zero.
    pub fn licence_hash(&self, account: Address) -> B256 {
        self.accounts.get(account).licence_hash.get()
    }

    /// How many distinct verifiers must approve a doctor.
    pub fn verification_threshold(&self) -> u8 {
        self.quorum.threshold()
    }

    /// The current verifiers who approved `doctor` since its last change of
    /// status (in their current appointment).
    pub fn doctor_approvals(&self, doctor: Address) -> Vec<Address> {
        self.current_approvals(doctor)
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }

    /// The emergency custodians `patient` named, in its order.
    pub fn emergency_custodians(&self, patient: Address) -> Vec<Address> {
        self.custodians.of(patient)
    }

    /// Whether `account` is one of `patient`'s emergency custodians.
    pub fn is_emergency_custodian(&self, patient: Address, account: Address) -> bool {
        self.custodians.contains(patient, account)
    }
}

impl PatientRegistry {
    fn when_not_paused(&self) -> Result<(), Error> {
        if self.paused.get() {
            return Err(Error::EnforcedPause(EnforcedPause {}));
        }
        Ok(())
    }

    /// Sets the account's key on its first role; a second role must bring the same key.
    fn claim_key(&mut self, account: Address, key: B256) -> Result<(), Error> {
        if key.is_zero() {
            return Err(Error::InvalidEncryptionKey(InvalidEncryptionKey {}));
        }
        let registered = self.accounts.get(account).encryption_key.get();
        if registered.is_zero() {
            self.accounts.setter(account).encryption_key.set(key);
        } else if registered != key {
            return Err(Error::EncryptionKeyMismatch(EncryptionKeyMismatch {
                registered,
            }));
        }
        Ok(())
    }

    fn appointment(&self, verifier: Address) -> u32 {
        self.appointments.get(verifier).to()
    }

    /// The approvals of `doctor` that still count: their verifier holds the same
    /// appointment it approved in.
    fn current_approvals(&self, doctor: Address) -> Vec<quorum::Approval> {
        self.quorum
            .approvals(doctor)
            .into_iter()
            .filter(|(a, n)| self.verifiers.get(*a) && self.appointment(*a) == *n)
            .collect()
    }

    /// Common checks of verify and suspend; returns the doctor's current status.
    /// The owner is never a verifier (`addVerifier` and `transferOwnership` see to
    /// it), so no owner check is needed here.
    fn doctor_status_checked(&self, verifier: Address, doctor: Address) -> Result<u8, Error> {
        if !self.verifiers.get(verifier) {
            return Err(Error::NotVerifier(NotVerifier { account: verifier }));
        }
        if verifier == doctor {
            return Err(Error::SelfVerification(SelfVerification {}));
        }
        let status = self.accounts.get(doctor).status();
        if status == doctor_status::NONE {
            return Err(Error::UnknownDoctor(UnknownDoctor { doctor }));
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests;
