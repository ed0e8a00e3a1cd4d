//! AccessToken: a patient's grants to doctors, as non-transferable ERC-721 tokens.
//!
//! A patient mints a token to a verified doctor; the token carries a scope (all of
//! the patient's records, a list of record ids, or one opaque category code) and
//! an expiry. The patient burns it to revoke. A token grants nothing once expired,
//! and nothing while its doctor is not verified (suspension works at once, because
//! every check asks PatientRegistry). Tokens never move: transfers and approvals
//! revert, `locked` is always true (EIP-5192).
//!
//! Break-glass ([`emergency`]): a verified doctor may open emergency access, with
//! a reason code, to a registered patient who named at least one emergency
//! custodian, for a fixed window ([`EMERGENCY_WINDOW_SECS`]). It is logged with
//! `EmergencyAccess`; the patient may close it early, which bars that doctor
//! from re-opening on that patient; a doctor opens at most a daily limit of
//! windows; a pause of PatientRegistry stops new windows and new grants.
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

pub mod emergency;
pub mod erc165;
pub mod erc721;
mod grant;

use alloc::{vec, vec::Vec};

use alloy_primitives::{Address, FixedBytes, B256, U256};
use alloy_sol_types::sol;
use careledger_common::{
    emergency_reason, IPatientRegistry, IRecordRegistry, ScopeKind, UnknownScopeKind,
    DEFAULT_EMERGENCY_DAILY_LIMIT, EMERGENCY_WINDOW_SECS, MAX_GRANTS_PER_PAIR, MAX_SCOPE_RECORDS,
};
use emergency::{
    Emergency, EmergencyAccess, EmergencyAccessClosed, EmergencyBarLifted, EmergencyBarred,
    EmergencyLimitReached, EmergencyLimitSet, InvalidEmergencyLimit, InvalidReason,
    NoEmergencyAccess, NoEmergencyCustodian, NotBarred, OpenError,
};
use erc165::IErc165;
use erc721::{
    ApprovalsDisabled, ERC721InvalidOwner, ERC721NonexistentToken, Erc721, IErc5192, IErc721,
    TokenLocked,
};
use grant::Grant;
use stylus_sdk::{
    abi::Bytes,
    prelude::*,
    storage::{StorageAddress, StorageMap, StorageU256, StorageVec},
};

sol! {
    /// A patient granted a doctor access; `recordIds` is empty unless the scope lists records.
    event AccessGranted(
        uint256 indexed tokenId,
        address indexed patient,
        address indexed doctor,
        uint64 expiresAt,
        uint8 scopeKind,
        bytes32 category,
        uint256[] recordIds
    );
    /// A grant ended before its token was burnt: the patient revoked it, or it had
    /// expired and a new grant to the same doctor cleared it away.
    event AccessRevoked(uint256 indexed tokenId, address indexed patient, address indexed doctor);
    /// The RecordRegistry used to resolve category scopes was linked (once).
    event RecordRegistryLinked(address recordRegistry);

    /// An address argument was zero.
    #[derive(Debug)]
    error InvalidAddress();
    /// The account is not a registered patient.
    #[derive(Debug)]
    error NotPatient(address account);
    /// The doctor is not verified now (never registered, pending, or suspended).
    #[derive(Debug)]
    error DoctorNotVerified(address doctor);
    /// A patient cannot grant itself.
    #[derive(Debug)]
    error InvalidGrantee(address doctor);
    /// The expiry is not in the future.
    #[derive(Debug)]
    error InvalidExpiry(uint64 expiresAt);
    /// Unknown scope kind, or arguments that do not fit it (records for `all`, an
    /// empty record list, a zero category).
    #[derive(Debug)]
    error InvalidScope(uint8 scopeKind);
    /// The pair already holds the most live grants allowed; revoke one first.
    #[derive(Debug)]
    error TooManyGrants(address patient, address doctor);
    /// A grant lists more record ids than allowed.
    #[derive(Debug)]
    error TooManyRecords(uint256 count);
    /// Only the patient who granted a token can revoke it.
    #[derive(Debug)]
    error NotGrantor(address account, uint256 tokenId);
    /// Only the PatientRegistry's owner may link the RecordRegistry.
    #[derive(Debug)]
    error NotRegistryOwner(address account);
    /// The RecordRegistry is linked already.
    #[derive(Debug)]
    error AlreadyLinked(address recordRegistry);
    /// PatientRegistry could not be asked (not a registry, or it reverted).
    #[derive(Debug)]
    error RegistryUnavailable(address registry);
    /// PatientRegistry is paused: no new grants and no new emergency windows.
    #[derive(Debug)]
    error EnforcedPause();
}

/// Every error AccessToken reverts with.
#[derive(SolidityError, Debug)]
pub enum Error {
    /// The constructor or `linkRecordRegistry` with the zero address.
    InvalidAddress(InvalidAddress),
    /// `grant` from an account that is not a registered patient, or `openEmergencyAccess`
    /// on one.
    NotPatient(NotPatient),
    /// `grant` to a doctor, or `openEmergencyAccess` from one, that is not verified now.
    DoctorNotVerified(DoctorNotVerified),
    /// `grant` to zero or to the caller itself, or `openEmergencyAccess` on the caller
    /// itself.
    InvalidGrantee(InvalidGrantee),
    /// `grant` with an expiry that is not in the future.
    InvalidExpiry(InvalidExpiry),
    /// `grant` with an unknown scope kind, or a category or record ids that do not fit it.
    InvalidScope(InvalidScope),
    /// `grant` to a doctor that holds 8 unexpired grants of the patient already.
    TooManyGrants(TooManyGrants),
    /// `grant` listing more than 64 record ids.
    TooManyRecords(TooManyRecords),
    /// `revoke` from any account but the patient who granted the token.
    NotGrantor(NotGrantor),
    /// `closeEmergencyAccess` of a doctor that has no open window on the caller.
    NoEmergencyAccess(NoEmergencyAccess),
    /// `openEmergencyAccess` with reason code 0 or an unknown one.
    InvalidReason(InvalidReason),
    /// `openEmergencyAccess` on a patient who named no emergency custodian.
    NoEmergencyCustodian(NoEmergencyCustodian),
    /// `openEmergencyAccess` while the patient's bar on the caller holds.
    EmergencyBarred(EmergencyBarred),
    /// `openEmergencyAccess` from a doctor that opened the daily limit of windows in the
    /// last 24 hours.
    EmergencyLimitReached(EmergencyLimitReached),
    /// `liftEmergencyBar` when the caller's bar on the doctor does not hold.
    NotBarred(NotBarred),
    /// `setEmergencyDailyLimit` above 16.
    InvalidEmergencyLimit(InvalidEmergencyLimit),
    /// `grant` or `openEmergencyAccess` while PatientRegistry is paused.
    EnforcedPause(EnforcedPause),
    /// `linkRecordRegistry` or `setEmergencyDailyLimit` from any account but
    /// PatientRegistry's owner.
    NotRegistryOwner(NotRegistryOwner),
    /// `linkRecordRegistry` once a RecordRegistry is linked.
    AlreadyLinked(AlreadyLinked),
    /// A function that must ask PatientRegistry when it cannot be asked (not a registry, or
    /// it reverted).
    RegistryUnavailable(RegistryUnavailable),
    /// `transferFrom` and both `safeTransferFrom`, always: grant tokens never move.
    TokenLocked(TokenLocked),
    /// `approve` and `setApprovalForAll`, always: grant tokens cannot be approved.
    ApprovalsDisabled(ApprovalsDisabled),
    /// `balanceOf` of the zero address.
    ERC721InvalidOwner(ERC721InvalidOwner),
    /// `revoke`, `grantInfo`, `grantRecords`, `ownerOf`, `getApproved` or `locked` of a
    /// token that was never minted or is burnt.
    ERC721NonexistentToken(ERC721NonexistentToken),
}

/// The token's storage.
#[storage]
#[entrypoint]
pub struct AccessToken {
    patient_registry: StorageAddress,
    record_registry: StorageAddress,
    /// The last id minted; ids start at 1 and are never reused.
    last_token_id: StorageU256,
    erc721: Erc721,
    grants: StorageMap<U256, Grant>,
    /// patient => doctor => live token ids (at most [`MAX_GRANTS_PER_PAIR`]).
    pair_tokens: StorageMap<Address, StorageMap<Address, StorageVec<StorageU256>>>,
    emergency: Emergency,
}

#[public]
impl AccessToken {
    /// Binds the token to its PatientRegistry, with the default emergency
    /// daily limit (3).
    ///
    /// # Errors
    /// `InvalidAddress` if `patient_registry` is zero.
    #[constructor]
    pub fn constructor(&mut self, patient_registry: Address) -> Result<(), Error> {
        if patient_registry.is_zero() {
            return Err(Error::InvalidAddress(InvalidAddress {}));
        }
        self.patient_registry.set(patient_registry);
        // SAFETY of the discarded error: the default is within the bound.
        let _ = self
            .emergency
            .set_daily_limit(DEFAULT_EMERGENCY_DAILY_LIMIT);
        Ok(())
    }

    /// Links the RecordRegistry that `hasAccess` asks whose a record is and, for
    /// category scopes, its category. Once only: deployment wires the three contracts, then the link
    /// is frozen.
    ///
    /// # Errors
    /// `InvalidAddress` for zero; `AlreadyLinked` if linked; `NotRegistryOwner`
    /// unless the caller owns the PatientRegistry; `RegistryUnavailable` if the
    /// registry cannot be asked.
    ///
    /// # Events
    /// `RecordRegistryLinked(record_registry)`.
    pub fn link_record_registry(&mut self, record_registry: Address) -> Result<(), Error> {
        if record_registry.is_zero() {
            return Err(Error::InvalidAddress(InvalidAddress {}));
        }
        let linked = self.record_registry.get();
        if !linked.is_zero() {
            return Err(Error::AlreadyLinked(AlreadyLinked {
                recordRegistry: linked,
            }));
        }
        self.only_registry_owner()?;
        self.record_registry.set(record_registry);
        self.vm().log(RecordRegistryLinked {
            recordRegistry: record_registry,
        });
        Ok(())
    }

    // ------------------------------------------------------------ grants

    /// Mints a grant token from the caller (a patient) to `doctor`.
    ///
    /// `scope_kind` 0 (all records) takes no category and no ids; 1 (records)
    /// takes 1 to 64 `record_ids` and no category; 2 (category) takes a non-zero
    /// `category` and no ids. Returns the new token id.
    ///
    /// # Errors
    /// `NotPatient` unless the caller is a registered patient; `InvalidGrantee` if
    /// `doctor` is the caller or zero; `DoctorNotVerified` unless `doctor` is
    /// verified; `InvalidExpiry` unless `expires_at` is in the future;
    /// `InvalidScope`, `TooManyRecords` for a malformed scope; `TooManyGrants` if
    /// the pair holds 8 unexpired grants; `EnforcedPause` while PatientRegistry is
    /// paused; `RegistryUnavailable` if the registry cannot be asked.
    ///
    /// # Events
    /// `Transfer(0, doctor, id)`, `Locked(id)`, `AccessGranted(...)`. When the pair
    /// already holds 8 grants, its expired ones are burnt first, each with
    /// `Transfer(doctor, 0, id)` and `AccessRevoked(id, patient, doctor)`, so that
    /// an indexer following the events never keeps a burnt token.
    pub fn grant(
        &mut self,
        doctor: Address,
        expires_at: u64,
        scope_kind: u8,
        category: B256,
        record_ids: Vec<U256>,
    ) -> Result<U256, Error> {
        let patient = self.vm().msg_sender();
        if doctor.is_zero() || doctor == patient {
            return Err(Error::InvalidGrantee(InvalidGrantee { doctor }));
        }
        if expires_at <= self.vm().block_timestamp() {
            return Err(Error::InvalidExpiry(InvalidExpiry {
                expiresAt: expires_at,
            }));
        }
        let scope = check_scope(scope_kind, category, &record_ids)?;
        if self.pair_tokens.get(patient).get(doctor).len() >= MAX_GRANTS_PER_PAIR {
            self.prune_expired(patient, doctor)?;
            if self.pair_tokens.get(patient).get(doctor).len() >= MAX_GRANTS_PER_PAIR {
                return Err(Error::TooManyGrants(TooManyGrants { patient, doctor }));
            }
        }
        self.when_not_paused()?;
        if !self.is_registered_patient(patient)? {
            return Err(Error::NotPatient(NotPatient { account: patient }));
        }
        if !self.is_verified_doctor(doctor)? {
            return Err(Error::DoctorNotVerified(DoctorNotVerified { doctor }));
        }

        let token_id = self.last_token_id.get() + U256::from(1);
        self.last_token_id.set(token_id);
        let now = self.vm().block_timestamp();
        let record_ids = self.grants.setter(token_id).init(
            patient,
            now,
            expires_at,
            scope,
            category,
            &record_ids,
        );
        self.pair_tokens
            .setter(patient)
            .setter(doctor)
            .push(token_id);
        self.erc721.mint(doctor, token_id);
        self.vm().log(AccessGranted {
            tokenId: token_id,
            patient,
            doctor,
            expiresAt: expires_at,
            scopeKind: scope_kind,
            category,
            recordIds: record_ids,
        });
        Ok(token_id)
    }

    /// Revokes a grant: the token is burnt and every later check is false.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist (or was revoked);
    /// `NotGrantor` unless the caller is the patient who granted it.
    ///
    /// # Events
    /// `Transfer(doctor, 0, id)`, `AccessRevoked(id, patient, doctor)`.
    pub fn revoke(&mut self, token_id: U256) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        let doctor = self.erc721.owner_of(token_id)?;
        let patient = self.grants.get(token_id).patient();
        if caller != patient {
            return Err(Error::NotGrantor(NotGrantor {
                account: caller,
                tokenId: token_id,
            }));
        }
        self.remove_grant(patient, doctor, token_id)?;
        self.vm().log(AccessRevoked {
            tokenId: token_id,
            patient,
            doctor,
        });
        Ok(())
    }

    // ------------------------------------------------------------ break-glass

    /// Opens emergency access for the caller (a verified doctor) to `patient`'s
    /// records for the fixed window, stating a reason code (1 to 4, see
    /// `careledger_common::emergency_reason`); opening again restarts the window
    /// and counts as another opening. Returns the end of the window. Keys reach
    /// the doctor only through the patient's custodians, whose agents follow the
    /// event.
    ///
    /// # Errors
    /// `InvalidReason` for 0 or an unknown code; `InvalidGrantee` if `patient` is
    /// the caller; `EnforcedPause` while PatientRegistry is paused;
    /// `DoctorNotVerified` unless the caller is verified; `NotPatient` unless
    /// `patient` is registered; `NoEmergencyCustodian` if the patient named none;
    /// `EmergencyBarred` while the patient's bar on the caller holds;
    /// `EmergencyLimitReached` if the caller opened the daily limit of windows in
    /// the last 24 hours; `RegistryUnavailable` if the registry cannot be asked.
    ///
    /// # Events
    /// `EmergencyAccess(patient, caller, expires_at, reason)`.
    pub fn open_emergency_access(&mut self, patient: Address, reason: u8) -> Result<u64, Error> {
        let doctor = self.vm().msg_sender();
        if reason == 0 || reason > emergency_reason::MAX {
            return Err(Error::InvalidReason(InvalidReason { reason }));
        }
        if patient == doctor {
            return Err(Error::InvalidGrantee(InvalidGrantee { doctor }));
        }
        self.when_not_paused()?;
        if !self.is_verified_doctor(doctor)? {
            return Err(Error::DoctorNotVerified(DoctorNotVerified { doctor }));
        }
        if !self.is_registered_patient(patient)? {
            return Err(Error::NotPatient(NotPatient { account: patient }));
        }
        let registry = self.patient_registry.get();
        let custodians = IPatientRegistry::new(registry)
            .emergency_custodians(self.vm(), Call::new(), patient)
            .map_err(|_| Error::RegistryUnavailable(RegistryUnavailable { registry }))?;
        if custodians.is_empty() {
            return Err(Error::NoEmergencyCustodian(NoEmergencyCustodian {
                patient,
            }));
        }
        let now = self.vm().block_timestamp();
        let expires_at = self
            .emergency
            .open(patient, doctor, now, EMERGENCY_WINDOW_SECS)
            .map_err(|e| match e {
                OpenError::Barred(e) => Error::EmergencyBarred(e),
                OpenError::Limit(e) => Error::EmergencyLimitReached(e),
            })?;
        self.vm().log(EmergencyAccess {
            patient,
            doctor,
            expiresAt: expires_at,
            reason,
        });
        Ok(expires_at)
    }

    /// Closes a doctor's open emergency access to the caller's records, and bars
    /// that doctor from re-opening on the caller for 30 days (`liftEmergencyBar`
    /// ends the bar earlier).
    ///
    /// # Errors
    /// `NoEmergencyAccess` unless `doctor` has an open window on the caller.
    ///
    /// # Events
    /// `EmergencyAccessClosed(caller, doctor, barred_until)`.
    pub fn close_emergency_access(&mut self, doctor: Address) -> Result<(), Error> {
        let patient = self.vm().msg_sender();
        let now = self.vm().block_timestamp();
        let barred_until = self
            .emergency
            .close(patient, doctor, now)
            .map_err(Error::NoEmergencyAccess)?;
        self.vm().log(EmergencyAccessClosed {
            patient,
            doctor,
            barredUntil: barred_until,
        });
        Ok(())
    }

    /// Lifts the caller's bar on `doctor` before it ends, so that the doctor may
    /// open emergency access on the caller again.
    ///
    /// # Errors
    /// `NotBarred` unless the caller's bar on `doctor` still holds.
    ///
    /// # Events
    /// `EmergencyBarLifted(caller, doctor)`.
    pub fn lift_emergency_bar(&mut self, doctor: Address) -> Result<(), Error> {
        let patient = self.vm().msg_sender();
        let now = self.vm().block_timestamp();
        self.emergency
            .lift(patient, doctor, now)
            .map_err(Error::NotBarred)?;
        self.vm().log(EmergencyBarLifted { patient, doctor });
        Ok(())
    }

    /// Sets how many emergency windows a doctor may open across all patients per
    /// rolling day (0 turns break-glass off; at most 16).
    ///
    /// # Errors
    /// `NotRegistryOwner` unless the caller owns the PatientRegistry;
    /// `InvalidEmergencyLimit` above 16; `RegistryUnavailable` if the registry
    /// cannot be asked.
    ///
    /// # Events
    /// `EmergencyLimitSet(limit)`.
    pub fn set_emergency_daily_limit(&mut self, limit: u8) -> Result<(), Error> {
        self.only_registry_owner()?;
        self.emergency
            .set_daily_limit(limit)
            .map_err(Error::InvalidEmergencyLimit)?;
        self.vm().log(EmergencyLimitSet { limit });
        Ok(())
    }

    // ------------------------------------------------------------ access checks

    /// Whether `doctor` may read `record_id` of `patient` now: the linked
    /// RecordRegistry says the record is `patient`'s, and `doctor` is the patient,
    /// or is verified and holds an open emergency window or a live grant whose
    /// scope covers the record. A category scope is resolved through the same
    /// registry. False while no RecordRegistry is linked or it cannot be asked.
    /// Never reverts.
    pub fn has_access(&self, patient: Address, doctor: Address, record_id: U256) -> bool {
        self.access(patient, doctor, record_id, None)
    }

    /// `hasAccess` for a caller that already knows the record's patient and
    /// category (the RecordRegistry itself, which cannot be re-entered): the
    /// answer holds only if `record_id` is `patient`'s and has `category`, which
    /// this call takes on the caller's word. Other callers ask `hasAccess`.
    /// Never reverts.
    pub fn check_access(
        &self,
        patient: Address,
        doctor: Address,
        record_id: U256,
        category: B256,
    ) -> bool {
        self.access(patient, doctor, record_id, Some(category))
    }

    /// End of `doctor`'s emergency window on `patient` (exclusive), 0 if never opened.
    pub fn emergency_expiry(&self, patient: Address, doctor: Address) -> u64 {
        self.emergency.window(patient, doctor)
    }

    /// Whether `doctor` holds an open emergency window on `patient` now and is
    /// verified now: what a custodian's release of keys needs. Never reverts.
    pub fn has_emergency_access(&self, patient: Address, doctor: Address) -> bool {
        !patient.is_zero()
            && patient != doctor
            && self.emergency.window(patient, doctor) > self.vm().block_timestamp()
            && self.is_verified_doctor(doctor).unwrap_or(false)
    }

    /// End of the bar `patient` put on `doctor` (exclusive), 0 if none.
    pub fn emergency_barred_until(&self, patient: Address, doctor: Address) -> u64 {
        self.emergency.bar(patient, doctor)
    }

    /// How many emergency windows a doctor may open per rolling day.
    pub fn emergency_daily_limit(&self) -> u8 {
        self.emergency.daily_limit()
    }

    /// How many emergency windows `doctor` opened in the last 24 hours.
    pub fn emergency_opens_last_day(&self, doctor: Address) -> u8 {
        // At most MAX_EMERGENCY_DAILY_LIMIT (16) openings are ever kept.
        self.emergency
            .recent_opens(doctor, self.vm().block_timestamp())
            .len() as u8
    }

    /// Length of every emergency window, in seconds.
    pub fn emergency_window(&self) -> u64 {
        EMERGENCY_WINDOW_SECS
    }

    /// A grant's terms: patient, doctor, issue time, expiry, scope kind, category.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    #[allow(clippy::type_complexity)]
    pub fn grant_info(
        &self,
        token_id: U256,
    ) -> Result<(Address, Address, u64, u64, u8, B256), Error> {
        let doctor = self.erc721.owner_of(token_id)?;
        let g = self.grants.get(token_id);
        Ok((
            g.patient(),
            doctor,
            g.issued_at(),
            g.expires_at(),
            g.scope_kind(),
            g.category(),
        ))
    }

    /// The record ids a grant lists (empty unless its scope kind is 1).
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    pub fn grant_records(&self, token_id: U256) -> Result<Vec<U256>, Error> {
        self.erc721.owner_of(token_id)?;
        Ok(self.grants.get(token_id).records())
    }

    /// The token ids `patient` granted `doctor`; expired ones stay listed until
    /// revoked, or burnt by a `grant` that needs their place.
    pub fn tokens_of(&self, patient: Address, doctor: Address) -> Vec<U256> {
        let outer = self.pair_tokens.get(patient);
        let ids = outer.get(doctor);
        (0..ids.len()).filter_map(|i| ids.get(i)).collect()
    }

    /// The PatientRegistry this token asks.
    pub fn patient_registry(&self) -> Address {
        self.patient_registry.get()
    }

    /// The linked RecordRegistry, or zero.
    pub fn record_registry(&self) -> Address {
        self.record_registry.get()
    }

    /// How many grant tokens were ever minted.
    pub fn total_minted(&self) -> U256 {
        self.last_token_id.get()
    }

    // ------------------------------------------------------------ ERC-721 / EIP-5192 / ERC-165
    //
    // The standard surface, in its ABI order and with its ABI argument names;
    // each function forwards to its trait (`erc721`, `erc165`), where the
    // behaviour lives (see `erc721` for why the traits are not `#[implements]`).

    /// Token name.
    pub fn name(&self) -> alloc::string::String {
        "CareLedger Access".into()
    }

    /// Token symbol.
    pub fn symbol(&self) -> alloc::string::String {
        "CLA".into()
    }

    /// ERC-721: how many grant tokens `owner` holds.
    ///
    /// # Errors
    /// `ERC721InvalidOwner` for the zero address.
    pub fn balance_of(&self, owner: Address) -> Result<U256, Error> {
        IErc721::balance_of(self, owner)
    }

    /// ERC-721: the doctor holding `token_id`.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    pub fn owner_of(&self, token_id: U256) -> Result<Address, Error> {
        IErc721::owner_of(self, token_id)
    }

    /// EIP-5192: always true for an existing token.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    pub fn locked(&self, token_id: U256) -> Result<bool, Error> {
        IErc5192::locked(self, token_id)
    }

    /// ERC-721: nobody is ever approved, so zero for an existing token.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    pub fn get_approved(&self, token_id: U256) -> Result<Address, Error> {
        IErc721::get_approved(self, token_id)
    }

    /// ERC-721: nobody is ever an operator, so always false.
    pub fn is_approved_for_all(&self, _owner: Address, _operator: Address) -> bool {
        IErc721::is_approved_for_all(self, _owner, _operator)
    }

    /// ERC-165: true for ERC-165, ERC-721 and EIP-5192, false for anything
    /// else (ERC-721 metadata too: there is no `tokenURI`).
    pub fn supports_interface(&self, interface_id: FixedBytes<4>) -> bool {
        IErc165::supports_interface(self, interface_id)
    }

    /// ERC-721: grant tokens never move.
    ///
    /// # Errors
    /// Always `TokenLocked(token_id)`.
    pub fn transfer_from(
        &mut self,
        _from: Address,
        _to: Address,
        token_id: U256,
    ) -> Result<(), Error> {
        IErc721::transfer_from(self, _from, _to, token_id)
    }

    /// ERC-721: grant tokens never move.
    ///
    /// # Errors
    /// Always `TokenLocked(token_id)`.
    pub fn safe_transfer_from(
        &mut self,
        _from: Address,
        _to: Address,
        token_id: U256,
    ) -> Result<(), Error> {
        IErc721::safe_transfer_from(self, _from, _to, token_id)
    }

    /// ERC-721: grant tokens never move.
    ///
    /// # Errors
    /// Always `TokenLocked(token_id)`.
    #[selector(name = "safeTransferFrom")]
    pub fn safe_transfer_from_with_data(
        &mut self,
        _from: Address,
        _to: Address,
        token_id: U256,
        _data: Bytes,
    ) -> Result<(), Error> {
        IErc721::safe_transfer_from_with_data(self, _from, _to, token_id, _data)
    }

    /// ERC-721: grant tokens cannot be approved.
    ///
    /// # Errors
    /// Always `ApprovalsDisabled`.
    pub fn approve(&mut self, _to: Address, _token_id: U256) -> Result<(), Error> {
        IErc721::approve(self, _to, _token_id)
    }

    /// ERC-721: grant tokens cannot be approved.
    ///
    /// # Errors
    /// Always `ApprovalsDisabled`.
    pub fn set_approval_for_all(
        &mut self,
        _operator: Address,
        _approved: bool,
    ) -> Result<(), Error> {
        IErc721::set_approval_for_all(self, _operator, _approved)
    }
}

/// ERC-721 for grant tokens: the reads answer from [`Erc721`]; transfers and
/// approvals always revert, for a grant never moves.
impl IErc721 for AccessToken {
    type Error = Error;

    /// # Errors
    /// `ERC721InvalidOwner` for the zero address.
    fn balance_of(&self, owner: Address) -> Result<U256, Error> {
        self.erc721
            .balance_of(owner)
            .map_err(Error::ERC721InvalidOwner)
    }

    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    fn owner_of(&self, token_id: U256) -> Result<Address, Error> {
        Ok(self.erc721.owner_of(token_id)?)
    }

    /// # Errors
    /// Always `TokenLocked(token_id)`.
    fn safe_transfer_from(&mut self, _: Address, _: Address, token_id: U256) -> Result<(), Error> {
        Err(Error::TokenLocked(TokenLocked { tokenId: token_id }))
    }

    /// # Errors
    /// Always `TokenLocked(token_id)`.
    fn safe_transfer_from_with_data(
        &mut self,
        _: Address,
        _: Address,
        token_id: U256,
        _: Bytes,
    ) -> Result<(), Error> {
        Err(Error::TokenLocked(TokenLocked { tokenId: token_id }))
    }

    /// # Errors
    /// Always `TokenLocked(token_id)`.
    fn transfer_from(&mut self, _: Address, _: Address, token_id: U256) -> Result<(), Error> {
        Err(Error::TokenLocked(TokenLocked { tokenId: token_id }))
    }

    /// # Errors
    /// Always `ApprovalsDisabled`.
    fn approve(&mut self, _: Address, _: U256) -> Result<(), Error> {
        Err(Error::ApprovalsDisabled(ApprovalsDisabled {}))
    }

    /// # Errors
    /// Always `ApprovalsDisabled`.
    fn set_approval_for_all(&mut self, _: Address, _: bool) -> Result<(), Error> {
        Err(Error::ApprovalsDisabled(ApprovalsDisabled {}))
    }

    /// Zero for an existing token: nobody is ever approved.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    fn get_approved(&self, token_id: U256) -> Result<Address, Error> {
        self.erc721.owner_of(token_id)?;
        Ok(Address::ZERO)
    }

    /// Always false: nobody is ever an operator.
    fn is_approved_for_all(&self, _: Address, _: Address) -> bool {
        false
    }
}

/// EIP-5192: every grant token is locked from its mint.
impl IErc5192 for AccessToken {
    type Error = Error;

    /// Always true for an existing token.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    fn locked(&self, token_id: U256) -> Result<bool, Error> {
        self.erc721.owner_of(token_id)?;
        Ok(true)
    }
}

impl IErc165 for AccessToken {
    /// ERC-165, ERC-721 and EIP-5192: the ids computed by their traits.
    fn supports_interface(&self, interface_id: FixedBytes<4>) -> bool {
        interface_id == <Self as IErc165>::INTERFACE_ID
            || interface_id == <Self as IErc721>::INTERFACE_ID
            || interface_id == <Self as IErc5192>::INTERFACE_ID
    }
}

impl AccessToken {
    /// Burns a grant and drops it from its pair's list (swap-remove).
    fn remove_grant(
        &mut self,
        patient: Address,
        doctor: Address,
        token_id: U256,
    ) -> Result<(), Error> {
        let mut outer = self.pair_tokens.setter(patient);
        let mut ids = outer.setter(doctor);
        let len = ids.len();
        if let Some(pos) = (0..len).find(|&i| ids.get(i) == Some(token_id)) {
            if pos + 1 != len {
                let last = ids.get(len - 1).unwrap_or_default();
                if let Some(mut slot) = ids.setter(pos) {
                    slot.set(last);
                }
            }
            ids.pop();
        }
        self.grants.setter(token_id).clear();
        self.erc721.burn(token_id)?;
        Ok(())
    }

    /// Burns the pair's expired grants, so that old grants never block new ones.
    fn prune_expired(&mut self, patient: Address, doctor: Address) -> Result<(), Error> {
        let now = self.vm().block_timestamp();
        let expired: Vec<U256> = self
            .tokens_of(patient, doctor)
            .into_iter()
            .filter(|id| self.grants.get(*id).expires_at() <= now)
            .collect();
        for id in expired {
            self.remove_grant(patient, doctor, id)?;
            self.vm().log(AccessRevoked {
                tokenId: id,
                patient,
                doctor,
            });
        }
        Ok(())
    }

    /// Reverts unless the caller owns the PatientRegistry.
    fn only_registry_owner(&self) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        let registry = self.patient_registry.get();
        let owner = IPatientRegistry::new(registry)
            .owner(self.vm(), Call::new())
            .map_err(|_| Error::RegistryUnavailable(RegistryUnavailable { registry }))?;
        if owner != caller {
            return Err(Error::NotRegistryOwner(NotRegistryOwner {
                account: caller,
            }));
        }
        Ok(())
    }

    /// Reverts while PatientRegistry is paused.
    fn when_not_paused(&self) -> Result<(), Error> {
        let registry = self.patient_registry.get();
        let paused = IPatientRegistry::new(registry)
            .paused(self.vm(), Call::new())
            .map_err(|_| Error::RegistryUnavailable(RegistryUnavailable { registry }))?;
        if paused {
            return Err(Error::EnforcedPause(EnforcedPause {}));
        }
        Ok(())
    }

    /// Asks PatientRegistry whether `account` is a registered patient.
    ///
    /// # Errors
    /// `RegistryUnavailable` if the registry cannot be asked.
    fn is_registered_patient(&self, account: Address) -> Result<bool, Error> {
        let registry = self.patient_registry.get();
        IPatientRegistry::new(registry)
            .is_patient(self.vm(), Call::new(), account)
            .map_err(|_| Error::RegistryUnavailable(RegistryUnavailable { registry }))
    }

    /// Asks PatientRegistry whether `account` is a verified doctor now (not
    /// pending, not suspended).
    ///
    /// # Errors
    /// `RegistryUnavailable` if the registry cannot be asked.
    fn is_verified_doctor(&self, account: Address) -> Result<bool, Error> {
        let registry = self.patient_registry.get();
        IPatientRegistry::new(registry)
            .is_verified_doctor(self.vm(), Call::new(), account)
            .map_err(|_| Error::RegistryUnavailable(RegistryUnavailable { registry }))
    }

    /// The access rule. `category` is `None` when the caller does not know it; it
    /// is then fetched from the RecordRegistry only if a category grant needs it.
    fn access(
        &self,
        patient: Address,
        doctor: Address,
        record_id: U256,
        known_category: Option<B256>,
    ) -> bool {
        if patient.is_zero() || doctor.is_zero() {
            return false;
        }
        let now = self.vm().block_timestamp();
        let mut category = known_category;
        let mut covered = patient == doctor || self.emergency.window(patient, doctor) > now;
        if !covered {
            let outer = self.pair_tokens.get(patient);
            let ids = outer.get(doctor);
            for i in 0..ids.len() {
                let Some(id) = ids.get(i) else { continue };
                let g = self.grants.get(id);
                if g.expires_at() <= now {
                    continue;
                }
                covered = match ScopeKind::try_from(g.scope_kind()) {
                    Ok(ScopeKind::All) => true,
                    Ok(ScopeKind::Records) => g.lists(record_id),
                    // Category; no other code is ever stored (`check_scope`).
                    _ => {
                        if category.is_none() {
                            category = Some(self.category_of(record_id));
                        }
                        category.is_some_and(|c| !c.is_zero() && c == g.category())
                    }
                };
                if covered {
                    break;
                }
            }
        }
        // A grant from one patient must not open another patient's record, so
        // `hasAccess` asks whose it is; `checkAccess`'s caller has vouched.
        // The external calls come last, only for a covered record.
        covered
            && (known_category.is_some() || self.owner_of_record(record_id) == patient)
            && (patient == doctor || self.is_verified_doctor(doctor).unwrap_or(false))
    }

    /// The patient a record belongs to, zero when unknown, unlinked or unanswerable.
    fn owner_of_record(&self, record_id: U256) -> Address {
        let records = self.record_registry.get();
        if records.is_zero() {
            return Address::ZERO;
        }
        IRecordRegistry::new(records)
            .record_owner(self.vm(), Call::new(), record_id)
            .unwrap_or_default()
    }

    /// The category of a record, zero when unknown or unlinked.
    fn category_of(&self, record_id: U256) -> B256 {
        let records = self.record_registry.get();
        if records.is_zero() {
            return B256::ZERO;
        }
        IRecordRegistry::new(records)
            .record_category(self.vm(), Call::new(), record_id)
            .unwrap_or_default()
    }
}

/// The scope kind whose on-chain code is `kind`, once its arguments are checked
/// to fit it.
///
/// # Errors
/// `InvalidScope(kind)` for an unknown code or arguments that do not fit the
/// kind; `TooManyRecords` for a record list over [`MAX_SCOPE_RECORDS`].
fn check_scope(kind: u8, category: B256, record_ids: &[U256]) -> Result<ScopeKind, Error> {
    let scope = ScopeKind::try_from(kind)?;
    let fits = match scope {
        ScopeKind::All => category.is_zero() && record_ids.is_empty(),
        ScopeKind::Records => {
            if record_ids.len() > MAX_SCOPE_RECORDS {
                return Err(Error::TooManyRecords(TooManyRecords {
                    count: U256::from(record_ids.len()),
                }));
            }
            category.is_zero() && !record_ids.is_empty()
        }
        ScopeKind::Category => !category.is_zero() && record_ids.is_empty(),
    };
    if !fits {
        return Err(Error::InvalidScope(InvalidScope { scopeKind: kind }));
    }
    Ok(scope)
}

impl From<UnknownScopeKind> for Error {
    /// An unknown scope code reverts with `InvalidScope(code)`.
    fn from(UnknownScopeKind(code): UnknownScopeKind) -> Self {
        Error::InvalidScope(InvalidScope { scopeKind: code })
    }
}

#[cfg(test)]
mod tests;
