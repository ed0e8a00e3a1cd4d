//! RecordRegistry: pointers to encrypted records on IPFS, the per-reader wrapped
//! keys that open them, and the on-chain log of every read.
//!
//! A record is the patient's: an opaque category code and append-only versions,
//! each with the CID bytes of its ciphertext, the sha-256 of that ciphertext, a
//! timestamp, and its content key wrapped (HPKE) once per reader. Reads are gated
//! by AccessToken; the encryption, not this gate, is what keeps the data private,
//! since chain state is public.
//!
//! Wrapped keys are stored on chain rather than in an IPFS envelope: an envelope
//! would need a new CID (and a transaction anyway) for every new grantee, could
//! disagree with the chain, and would cost a second round trip to IPFS before
//! every read. An 80-byte envelope costs three storage slots per reader.
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

mod record;

use alloc::{vec, vec::Vec};

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::sol;
use careledger_common::{IAccessToken, IPatientRegistry, MAX_CID_LEN, MAX_WRAPPED_KEY_LEN};
use record::{Record, RecordView};
use stylus_sdk::{
    abi::Bytes,
    prelude::*,
    storage::{StorageAddress, StorageMap, StorageU256, StorageVec},
};

sol! {
    /// A record or a new version of it was added (`version` 1 for a new record).
    event RecordAdded(
        uint256 indexed recordId,
        address indexed patient,
        uint32 version,
        bytes32 category,
        bytes32 contentHash
    );
    /// A version's content key was wrapped for `reader`.
    event KeyWrapped(uint256 indexed recordId, address indexed reader, uint32 version);
    /// An emergency custodian of the patient released a version's key to a doctor
    /// with an open emergency window (the `KeyWrapped` of the same wrap follows).
    event EmergencyKeyReleased(
        uint256 indexed recordId,
        address indexed patient,
        address indexed doctor,
        address custodian,
        uint32 version
    );
    /// `accessor` read the record (logged by `accessRecord` before every fetch).
    event RecordAccessed(
        uint256 indexed recordId,
        address indexed patient,
        address indexed accessor,
        uint32 version
    );

    /// An address argument was zero.
    #[derive(Debug)]
    error InvalidAddress();
    /// The account is not a registered patient.
    #[derive(Debug)]
    error NotPatient(address account);
    /// The CID bytes are empty or longer than 128 bytes.
    #[derive(Debug)]
    error InvalidCid();
    /// The content hash is zero.
    #[derive(Debug)]
    error InvalidContentHash();
    /// `readers` and `wrappedKeys` differ in length.
    #[derive(Debug)]
    error LengthMismatch(uint256 readers, uint256 wrappedKeys);
    /// A wrapped key is empty or longer than 128 bytes, or its reader is zero.
    #[derive(Debug)]
    error InvalidWrappedKey(address reader);
    /// No record has this id.
    #[derive(Debug)]
    error UnknownRecord(uint256 recordId);
    /// The record has no such version.
    #[derive(Debug)]
    error UnknownVersion(uint256 recordId, uint32 version);
    /// Only the record's patient may change it.
    #[derive(Debug)]
    error NotRecordOwner(address account, uint256 recordId);
    /// The caller holds no access to the record now.
    #[derive(Debug)]
    error AccessDenied(address account, uint256 recordId);
    /// No key was wrapped for this reader on this version.
    #[derive(Debug)]
    error NoWrappedKey(uint256 recordId, uint32 version, address reader);
    /// PatientRegistry could not be asked.
    #[derive(Debug)]
    error RegistryUnavailable(address registry);
    /// A custodian may wrap keys only for a doctor with an open emergency window
    /// on the record's patient who is verified now.
    #[derive(Debug)]
    error NoEmergencyAccess(address patient, address doctor);
}

/// Every error RecordRegistry reverts with.
#[derive(SolidityError, Debug)]
pub enum Error {
    /// The constructor with a zero PatientRegistry or AccessToken address.
    InvalidAddress(InvalidAddress),
    /// `addRecord` from an account that is not a registered patient.
    NotPatient(NotPatient),
    /// `addRecord` or `addVersion` with CID bytes that are empty or longer than 128 bytes.
    InvalidCid(InvalidCid),
    /// `addRecord` or `addVersion` with a zero content hash.
    InvalidContentHash(InvalidContentHash),
    /// `addRecord`, `addVersion` or `wrapKeys` with more readers than wrapped keys, or
    /// fewer.
    LengthMismatch(LengthMismatch),
    /// `addRecord`, `addVersion` or `wrapKeys` with a wrapped key that is empty or longer
    /// than 128 bytes, or for the zero reader.
    InvalidWrappedKey(InvalidWrappedKey),
    /// `addVersion`, `wrapKeys`, `accessRecord`, `getRecord`, `getRecordVersion`,
    /// `wrappedKey` or `recordCategory` of a record id that no record has.
    UnknownRecord(UnknownRecord),
    /// `wrapKeys` or `getRecordVersion` of a version the record does not have.
    UnknownVersion(UnknownVersion),
    /// `addVersion` from any account but the record's patient, or `wrapKeys` from any but
    /// the patient and its emergency custodians.
    NotRecordOwner(NotRecordOwner),
    /// `accessRecord`, `getRecord`, `getRecordVersion` or `wrappedKey` from a caller
    /// without access to the record now, or `wrappedKey` of another reader's key.
    AccessDenied(AccessDenied),
    /// `wrappedKey` when no key of that version was published for that reader.
    NoWrappedKey(NoWrappedKey),
    /// `addRecord`, or a custodian's `wrapKeys`, when PatientRegistry cannot be asked.
    RegistryUnavailable(RegistryUnavailable),
    /// A custodian's `wrapKeys` for a reader that holds no open emergency window on the
    /// patient or is not verified now.
    NoEmergencyAccess(NoEmergencyAccess),
}

/// The registry's storage.
#[storage]
#[entrypoint]
pub struct RecordRegistry {
    patient_registry: StorageAddress,
    access_token: StorageAddress,
    /// The last id used; ids start at 1.
    record_count: StorageU256,
    records: StorageMap<U256, Record>,
    patient_records: StorageMap<Address, StorageVec<StorageU256>>,
}

#[public]
impl RecordRegistry {
    /// Binds the registry to its PatientRegistry and AccessToken.
    ///
    /// # Errors
    /// `InvalidAddress` if either is zero.
    #[constructor]
    pub fn constructor(
        &mut self,
        patient_registry: Address,
        access_token: Address,
    ) -> Result<(), Error> {
        if patient_registry.is_zero() || access_token.is_zero() {
            return Err(Error::InvalidAddress(InvalidAddress {}));
        }
        self.patient_registry.set(patient_registry);
        self.access_token.set(access_token);
        Ok(())
    }

    /// Adds a record for the caller (a patient) with its first version, and
    /// publishes that version's key wrapped for each reader (the patient itself
    /// and its current grantees, chosen by the client). Returns the record id.
    ///
    /// # Errors
    /// `NotPatient` unless the caller is registered; `InvalidCid`,
    /// `InvalidContentHash`, `LengthMismatch`, `InvalidWrappedKey` for malformed
    /// arguments; `RegistryUnavailable` if the registry cannot be asked.
    ///
    /// # Events
    /// `RecordAdded(id, caller, 1, category, content_hash)`, then `KeyWrapped` per reader.
    pub fn add_record(
        &mut self,
        cid: Bytes,
        content_hash: B256,
        category: B256,
        readers: Vec<Address>,
        wrapped_keys: Vec<Bytes>,
    ) -> Result<U256, Error> {
        let patient = self.vm().msg_sender();
        check_version(&cid, content_hash)?;
        check_keys(&readers, &wrapped_keys)?;
        let registry = self.patient_registry.get();
        let registered = IPatientRegistry::new(registry)
            .is_patient(self.vm(), Call::new(), patient)
            .map_err(|_| Error::RegistryUnavailable(RegistryUnavailable { registry }))?;
        if !registered {
            return Err(Error::NotPatient(NotPatient { account: patient }));
        }
        let record_id = self.record_count.get() + U256::from(1);
        self.record_count.set(record_id);
        self.patient_records.setter(patient).push(record_id);
        self.records.setter(record_id).create(patient, category);
        self.append(
            record_id,
            patient,
            &cid,
            content_hash,
            &readers,
            &wrapped_keys,
        );
        Ok(record_id)
    }

    /// Appends a new version to one of the caller's records (a correction, or a
    /// re-encryption after a revocation: `rekey`). Versions are never changed or
    /// removed. Returns the new version number.
    ///
    /// # Errors
    /// `UnknownRecord` if no such record; `NotRecordOwner` unless the caller is
    /// its patient; `InvalidCid`, `InvalidContentHash`, `LengthMismatch`,
    /// `InvalidWrappedKey` for malformed arguments.
    ///
    /// # Events
    /// `RecordAdded(id, caller, version, category, content_hash)`, then `KeyWrapped` per reader.
    pub fn add_version(
        &mut self,
        record_id: U256,
        cid: Bytes,
        content_hash: B256,
        readers: Vec<Address>,
        wrapped_keys: Vec<Bytes>,
    ) -> Result<u32, Error> {
        let patient = self.owned_by_caller(record_id)?;
        check_version(&cid, content_hash)?;
        check_keys(&readers, &wrapped_keys)?;
        Ok(self.append(
            record_id,
            patient,
            &cid,
            content_hash,
            &readers,
            &wrapped_keys,
        ))
    }

    /// Publishes (or replaces) wrapped keys of an existing version, for readers
    /// granted after it was added. The patient may wrap for anyone. One of the
    /// patient's emergency custodians may wrap only for doctors that hold an open
    /// emergency window on the patient and are verified now: that is how keys reach
    /// a doctor when the patient cannot act.
    ///
    /// # Errors
    /// `UnknownRecord`; `NotRecordOwner` unless the caller is its patient or one
    /// of its custodians; `NoEmergencyAccess` when a custodian wraps for a reader
    /// without an open window; `UnknownVersion`; `LengthMismatch`,
    /// `InvalidWrappedKey` for malformed keys; `RegistryUnavailable` if the
    /// registry cannot be asked.
    ///
    /// # Events
    /// `KeyWrapped(id, reader, version)` per reader; from a custodian, each is
    /// preceded by `EmergencyKeyReleased(id, patient, reader, caller, version)`.
    pub fn wrap_keys(
        &mut self,
        record_id: U256,
        version: u32,
        readers: Vec<Address>,
        wrapped_keys: Vec<Bytes>,
    ) -> Result<(), Error> {
        let caller = self.vm().msg_sender();
        let patient = self.existing(record_id)?;
        let custodian = caller != patient;
        if custodian {
            self.check_custodian_release(patient, caller, record_id, &readers)?;
        }
        check_keys(&readers, &wrapped_keys)?;
        if version == 0 || version > self.records.get(record_id).version_count() {
            return Err(Error::UnknownVersion(UnknownVersion {
                recordId: record_id,
                version,
            }));
        }
        if custodian {
            for doctor in &readers {
                self.vm().log(EmergencyKeyReleased {
                    recordId: record_id,
                    patient,
                    doctor: *doctor,
                    custodian: caller,
                    version,
                });
            }
        }
        self.publish_keys(record_id, version, &readers, &wrapped_keys);
        Ok(())
    }

    /// Logs a read by the caller and returns the latest version number. Honest
    /// clients call this before every fetch, so the patient's audit trail shows
    /// every read.
    ///
    /// # Errors
    /// `UnknownRecord`; `AccessDenied` unless the caller is the patient or
    /// `AccessToken.checkAccess` holds.
    ///
    /// # Events
    /// `RecordAccessed(id, patient, caller, version)`.
    pub fn access_record(&mut self, record_id: U256) -> Result<u32, Error> {
        let caller = self.vm().msg_sender();
        let (patient, version) = self.readable(caller, record_id)?;
        self.vm().log(RecordAccessed {
            recordId: record_id,
            patient,
            accessor: caller,
            version,
        });
        Ok(version)
    }

    /// The latest version of a record: patient, version, CID bytes, content hash,
    /// category, timestamp.
    ///
    /// # Errors
    /// `UnknownRecord`; `AccessDenied` unless the caller is the patient or
    /// `AccessToken.checkAccess` holds.
    #[allow(clippy::type_complexity)]
    pub fn get_record(
        &self,
        record_id: U256,
    ) -> Result<(Address, u32, Bytes, B256, B256, u64), Error> {
        let caller = self.vm().msg_sender();
        let (_, version) = self.readable(caller, record_id)?;
        self.version_view(record_id, version)
    }

    /// One version of a record, as `getRecord`.
    ///
    /// # Errors
    /// `UnknownRecord`; `AccessDenied` as `getRecord`; `UnknownVersion`.
    #[allow(clippy::type_complexity)]
    pub fn get_record_version(
        &self,
        record_id: U256,
        version: u32,
    ) -> Result<(Address, u32, Bytes, B256, B256, u64), Error> {
        let caller = self.vm().msg_sender();
        self.readable(caller, record_id)?;
        self.version_view(record_id, version)
    }

    /// The key of `version` wrapped for `reader`. The patient may read any
    /// reader's; a reader only its own, and only while it has access; an
    /// emergency custodian of the patient its own at any time (it must be able to
    /// release keys when the patient cannot act).
    ///
    /// # Errors
    /// `UnknownRecord`; `AccessDenied` as above; `NoWrappedKey` if none was published.
    pub fn wrapped_key(
        &self,
        record_id: U256,
        version: u32,
        reader: Address,
    ) -> Result<Bytes, Error> {
        let caller = self.vm().msg_sender();
        let patient = self.existing(record_id)?;
        let own_as_custodian = caller == reader
            && caller != patient
            && IPatientRegistry::new(self.patient_registry.get())
                .is_emergency_custodian(self.vm(), Call::new(), patient, caller)
                .unwrap_or(false);
        if !own_as_custodian {
            self.readable(caller, record_id)?;
        }
        if caller != patient && caller != reader {
            return Err(Error::AccessDenied(AccessDenied {
                account: caller,
                recordId: record_id,
            }));
        }
        let key = self.records.get(record_id).wrapped_key(version, reader);
        if key.is_empty() {
            return Err(Error::NoWrappedKey(NoWrappedKey {
                recordId: record_id,
                version,
                reader,
            }));
        }
        Ok(Bytes::from(key))
    }

    /// Whether `reader` may read `record_id` now (the patient, or `checkAccess`).
    /// False for unknown records. Never reverts.
    pub fn can_read(&self, reader: Address, record_id: U256) -> bool {
        self.readable(reader, record_id).is_ok()
    }

    /// The opaque category code of a record (AccessToken resolves category scopes with it).
    ///
    /// # Errors
    /// `UnknownRecord`.
    pub fn record_category(&self, record_id: U256) -> Result<B256, Error> {
        self.existing(record_id)?;
        Ok(self.records.get(record_id).category())
    }

    /// The patient a record belongs to, zero if none.
    pub fn record_owner(&self, record_id: U256) -> Address {
        self.records.get(record_id).patient()
    }

    /// The number of versions of a record (its latest version), 0 if none.
    pub fn version_count(&self, record_id: U256) -> u32 {
        self.records.get(record_id).version_count()
    }

    /// How many records exist (ids run from 1 to this).
    pub fn record_count(&self) -> U256 {
        self.record_count.get()
    }

    /// The ids of a patient's records, oldest first.
    pub fn records_of(&self, patient: Address) -> Vec<U256> {
        let ids = self.patient_records.get(patient);
        (0..ids.len()).filter_map(|i| ids.get(i)).collect()
    }

    /// The PatientRegistry this registry asks.
    pub fn patient_registry(&self) -> Address {
        self.patient_registry.get()
    }

    /// The AccessToken this registry asks.
    pub fn access_token(&self) -> Address {
        self.access_token.get()
    }
}

impl RecordRegistry {
    /// The record's patient; `UnknownRecord` if it does not exist.
    fn existing(&self, record_id: U256) -> Result<Address, Error> {
        let patient = self.records.get(record_id).patient();
        if patient.is_zero() {
            return Err(Error::UnknownRecord(UnknownRecord {
                recordId: record_id,
            }));
        }
        Ok(patient)
    }

    /// The rule of a custodian's release: `custodian` is one of `patient`'s
    /// custodians, and every reader holds an open emergency window on `patient`
    /// and is verified now (AccessToken's `hasEmergencyAccess`).
    fn check_custodian_release(
        &self,
        patient: Address,
        custodian: Address,
        record_id: U256,
        readers: &[Address],
    ) -> Result<(), Error> {
        let registry = self.patient_registry.get();
        let is_custodian = IPatientRegistry::new(registry)
            .is_emergency_custodian(self.vm(), Call::new(), patient, custodian)
            .map_err(|_| Error::RegistryUnavailable(RegistryUnavailable { registry }))?;
        if !is_custodian {
            return Err(Error::NotRecordOwner(NotRecordOwner {
                account: custodian,
                recordId: record_id,
            }));
        }
        let token = IAccessToken::new(self.access_token.get());
        for doctor in readers {
            let open = token
                .has_emergency_access(self.vm(), Call::new(), patient, *doctor)
                .unwrap_or(false);
            if !open {
                return Err(Error::NoEmergencyAccess(NoEmergencyAccess {
                    patient,
                    doctor: *doctor,
                }));
            }
        }
        Ok(())
    }

    fn owned_by_caller(&self, record_id: U256) -> Result<Address, Error> {
        let caller = self.vm().msg_sender();
        let patient = self.existing(record_id)?;
        if caller != patient {
            return Err(Error::NotRecordOwner(NotRecordOwner {
                account: caller,
                recordId: record_id,
            }));
        }
        Ok(patient)
    }

    /// The access rule of every read: the patient, or whoever AccessToken says.
    /// Returns the patient and the latest version.
    fn readable(&self, reader: Address, record_id: U256) -> Result<(Address, u32), Error> {
        let patient = self.existing(record_id)?;
        let record = self.records.get(record_id);
        let allowed = reader == patient
            || IAccessToken::new(self.access_token.get())
                .check_access(
                    self.vm(),
                    Call::new(),
                    patient,
                    reader,
                    record_id,
                    record.category(),
                )
                .unwrap_or(false);
        if !allowed {
            return Err(Error::AccessDenied(AccessDenied {
                account: reader,
                recordId: record_id,
            }));
        }
        Ok((patient, record.version_count()))
    }

    fn version_view(&self, record_id: U256, version: u32) -> Result<RecordView, Error> {
        self.records
            .get(record_id)
            .view(version)
            .ok_or(Error::UnknownVersion(UnknownVersion {
                recordId: record_id,
                version,
            }))
    }

    fn append(
        &mut self,
        record_id: U256,
        patient: Address,
        cid: &[u8],
        content_hash: B256,
        readers: &[Address],
        wrapped_keys: &[Bytes],
    ) -> u32 {
        let now = self.vm().block_timestamp();
        let mut record = self.records.setter(record_id);
        let version = record.append(cid, content_hash, now);
        let category = record.category();
        self.vm().log(RecordAdded {
            recordId: record_id,
            patient,
            version,
            category,
            contentHash: content_hash,
        });
        self.publish_keys(record_id, version, readers, wrapped_keys);
        version
    }

    fn publish_keys(
        &mut self,
        record_id: U256,
        version: u32,
        readers: &[Address],
        wrapped_keys: &[Bytes],
    ) {
        for (reader, key) in readers.iter().zip(wrapped_keys) {
            self.records.setter(record_id).wrap(version, *reader, key);
            self.vm().log(KeyWrapped {
                recordId: record_id,
                reader: *reader,
                version,
            });
        }
    }
}

fn check_version(cid: &[u8], content_hash: B256) -> Result<(), Error> {
    if cid.is_empty() || cid.len() > MAX_CID_LEN {
        return Err(Error::InvalidCid(InvalidCid {}));
    }
    if content_hash.is_zero() {
        return Err(Error::InvalidContentHash(InvalidContentHash {}));
    }
    Ok(())
}

fn check_keys(readers: &[Address], wrapped_keys: &[Bytes]) -> Result<(), Error> {
    if readers.len() != wrapped_keys.len() {
        return Err(Error::LengthMismatch(LengthMismatch {
            readers: U256::from(readers.len()),
            wrappedKeys: U256::from(wrapped_keys.len()),
        }));
    }
    for (reader, key) in readers.iter().zip(wrapped_keys) {
        if reader.is_zero() || key.is_empty() || key.len() > MAX_WRAPPED_KEY_LEN {
            return Err(Error::InvalidWrappedKey(InvalidWrappedKey {
                reader: *reader,
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
