//! Host tests of RecordRegistry with the real PatientRegistry and AccessToken on
//! one in-memory chain.

use super::*;
use access_token::AccessToken;
use alloy_sol_types::{SolCall, SolEvent};
use careledger_common::{emergency_reason::UNCONSCIOUS, ScopeKind, EMERGENCY_WINDOW_SECS};
use careledger_testkit::{
    careledger::{
        self, addr, CAT_LAB, CAT_XRAY, CUSTODIAN, DOCTOR, OTHER_DOCTOR, OTHER_PATIENT, OWNER,
        PATIENT, RECORDS, REGISTRY, STRANGER, TOKEN, VERIFIER,
    },
    events, Chain, Contract, Log,
};
use patient_registry::PatientRegistry;

/// Holds a key but is nobody's custodian until a test says so.
const OTHER_CUSTODIAN: Address = addr(0x22);

struct Fixture {
    chain: Chain,
    registry: Contract<PatientRegistry>,
    token: Contract<AccessToken>,
    records: Contract<RecordRegistry>,
}

/// Three contracts wired as deployment wires them, two registered patients
/// (`PATIENT` names `CUSTODIAN`, also a patient, as its emergency custodian;
/// `OTHER_CUSTODIAN` is a patient too) and two verified doctors. Logs cleared.
fn fixture() -> Fixture {
    let chain = Chain::new();
    let registry = careledger::deploy_patient_registry(&chain);
    let token = careledger::deploy_access_token(&chain);
    let records = careledger::deploy_record_registry(&chain);
    careledger::add_verifier(&chain, VERIFIER);
    careledger::register_patients(
        &chain,
        &[PATIENT, OTHER_PATIENT, CUSTODIAN, OTHER_CUSTODIAN],
    );
    careledger::set_custodians(&chain, PATIENT, &[CUSTODIAN]);
    careledger::register_doctors(&chain, &[DOCTOR, OTHER_DOCTOR]);
    careledger::verify_doctors(&chain, &[DOCTOR, OTHER_DOCTOR]);
    chain.take_logs();
    Fixture {
        chain,
        registry,
        token,
        records,
    }
}

fn cid(n: u8) -> Bytes {
    // A CIDv1 raw sha2-256 is 36 bytes: version, codec, hash code, length, digest.
    let mut v = vec![0x01, 0x55, 0x12, 0x20];
    v.extend([n; 32]);
    Bytes::from(v)
}

/// A wrapped record key (an 80-byte HPKE envelope) made of one repeated byte.
fn envelope(n: u8) -> Bytes {
    Bytes::from(vec![n; 80])
}

impl Fixture {
    fn add(&mut self, patient: Address, category: B256) -> U256 {
        self.chain.as_sender(patient);
        self.records
            .add_record(
                cid(1),
                B256::repeat_byte(0xc1),
                category,
                vec![patient],
                vec![envelope(1)],
            )
            .unwrap()
    }

    /// `PATIENT` grants `DOCTOR` a scope for an hour.
    fn grant(&mut self, kind: ScopeKind, category: B256, ids: Vec<U256>) -> U256 {
        careledger::grant_for_an_hour(&self.chain, PATIENT, DOCTOR, kind.into(), category, ids)
    }

    fn read_as(&self, reader: Address, id: U256) -> Result<RecordView, Error> {
        self.chain.as_sender(reader);
        self.records.get_record(id)
    }

    /// A record of `PATIENT` whose first version's key is wrapped for the
    /// patient and for `CUSTODIAN`, as the patient's clients do. Logs cleared.
    fn add_with_custodian(&mut self) -> U256 {
        self.chain.as_sender(PATIENT);
        let id = self
            .records
            .add_record(
                cid(1),
                B256::repeat_byte(0xc1),
                CAT_LAB,
                vec![PATIENT, CUSTODIAN],
                vec![envelope(1), envelope(0x21)],
            )
            .unwrap();
        self.chain.take_logs();
        id
    }

    /// `by` wraps version 1 of `id` for `readers` (one key each), as a transaction.
    fn wrap_as(&mut self, by: Address, id: U256, readers: Vec<Address>) -> Result<(), Error> {
        let keys = readers.iter().map(|r| envelope(r.0[19])).collect();
        self.chain.as_sender(by);
        let records = &mut self.records;
        self.chain.tx(|| records.wrap_keys(id, 1, readers, keys))
    }

    /// `as_` asks for the key of version 1 of `id` wrapped for `reader`.
    fn key_as(&self, as_: Address, id: U256, reader: Address) -> Result<Bytes, Error> {
        self.chain.as_sender(as_);
        self.records.wrapped_key(id, 1, reader)
    }
}

// ---------------------------------------------------------------- constructor

#[test]
fn constructor_rejects_zero_addresses() {
    let chain = Chain::new();
    let mut r = Contract::<RecordRegistry>::deploy(&chain, RECORDS);
    assert!(matches!(
        r.constructor(Address::ZERO, TOKEN),
        Err(Error::InvalidAddress(_))
    ));
    assert!(matches!(
        r.constructor(REGISTRY, Address::ZERO),
        Err(Error::InvalidAddress(_))
    ));
    r.constructor(REGISTRY, TOKEN).unwrap();
    assert_eq!(r.patient_registry(), REGISTRY);
    assert_eq!(r.access_token(), TOKEN);
}

// ---------------------------------------------------------------- addRecord

#[test]
fn add_record_stores_the_first_version_and_logs_it() {
    let mut f = fixture();
    f.chain.as_sender(PATIENT);
    let now = f.chain.timestamp();
    let id = f
        .records
        .add_record(
            cid(7),
            B256::repeat_byte(0xc7),
            CAT_LAB,
            vec![PATIENT, DOCTOR],
            vec![envelope(1), envelope(2)],
        )
        .unwrap();
    assert_eq!(id, U256::from(1));
    assert_eq!(f.records.record_count(), U256::from(1));
    assert_eq!(f.records.records_of(PATIENT), vec![id]);
    assert_eq!(f.records.record_owner(id), PATIENT);
    assert_eq!(f.records.version_count(id), 1);
    assert_eq!(f.records.record_category(id).unwrap(), CAT_LAB);
    let view = f.records.get_record(id).unwrap();
    assert_eq!(
        view,
        (PATIENT, 1, cid(7), B256::repeat_byte(0xc7), CAT_LAB, now)
    );

    let logs = f.chain.take_logs();
    let added = events::<RecordAdded>(&logs, RECORDS);
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].recordId, id);
    assert_eq!(added[0].patient, PATIENT);
    assert_eq!(added[0].version, 1);
    assert_eq!(added[0].category, CAT_LAB);
    let wrapped = events::<KeyWrapped>(&logs, RECORDS);
    assert_eq!(
        wrapped.iter().map(|e| e.reader).collect::<Vec<_>>(),
        vec![PATIENT, DOCTOR]
    );
    assert_eq!(f.records.wrapped_key(id, 1, DOCTOR).unwrap(), envelope(2));
}

#[test]
fn add_record_requires_a_registered_patient() {
    let mut f = fixture();
    f.chain.as_sender(STRANGER);
    let err = f
        .records
        .add_record(cid(1), B256::repeat_byte(1), B256::ZERO, vec![], vec![])
        .unwrap_err();
    assert!(matches!(err, Error::NotPatient(e) if e.account == STRANGER));
    assert_eq!(f.records.record_count(), U256::ZERO);
}

#[test]
fn add_record_rejects_malformed_pointers() {
    let mut f = fixture();
    f.chain.as_sender(PATIENT);
    let empty = f.records.add_record(
        Bytes::new(),
        B256::repeat_byte(1),
        B256::ZERO,
        vec![],
        vec![],
    );
    assert!(matches!(empty, Err(Error::InvalidCid(_))));
    let long = Bytes::from(vec![1u8; MAX_CID_LEN + 1]);
    let long = f
        .records
        .add_record(long, B256::repeat_byte(1), B256::ZERO, vec![], vec![]);
    assert!(matches!(long, Err(Error::InvalidCid(_))));
    let zero_hash = f
        .records
        .add_record(cid(1), B256::ZERO, B256::ZERO, vec![], vec![]);
    assert!(matches!(zero_hash, Err(Error::InvalidContentHash(_))));
}

#[test]
fn add_record_rejects_malformed_wrapped_keys() {
    let mut f = fixture();
    f.chain.as_sender(PATIENT);
    let h = B256::repeat_byte(1);
    let mismatch = f
        .records
        .add_record(cid(1), h, B256::ZERO, vec![PATIENT], vec![]);
    assert!(matches!(mismatch, Err(Error::LengthMismatch(_))));
    let zero_reader = f.records.add_record(
        cid(1),
        h,
        B256::ZERO,
        vec![Address::ZERO],
        vec![envelope(1)],
    );
    assert!(matches!(zero_reader, Err(Error::InvalidWrappedKey(_))));
    let empty_key = f
        .records
        .add_record(cid(1), h, B256::ZERO, vec![PATIENT], vec![Bytes::new()]);
    assert!(matches!(empty_key, Err(Error::InvalidWrappedKey(_))));
    let long_key = Bytes::from(vec![0u8; MAX_WRAPPED_KEY_LEN + 1]);
    let long_key = f
        .records
        .add_record(cid(1), h, B256::ZERO, vec![PATIENT], vec![long_key]);
    assert!(matches!(long_key, Err(Error::InvalidWrappedKey(e)) if e.reader == PATIENT));
}

// ---------------------------------------------------------------- versions and keys

#[test]
fn add_version_appends_and_keeps_old_versions() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    f.chain.advance(10);
    let v = f
        .records
        .add_version(
            id,
            cid(2),
            B256::repeat_byte(0xc2),
            vec![PATIENT],
            vec![envelope(9)],
        )
        .unwrap();
    assert_eq!(v, 2);
    assert_eq!(f.records.version_count(id), 2);
    assert_eq!(f.records.get_record(id).unwrap().2, cid(2));
    assert_eq!(f.records.get_record_version(id, 1).unwrap().2, cid(1));
    assert_eq!(f.records.get_record_version(id, 2).unwrap().1, 2);
    assert!(matches!(
        f.records.get_record_version(id, 3),
        Err(Error::UnknownVersion(_))
    ));
    assert!(matches!(
        f.records.get_record_version(id, 0),
        Err(Error::UnknownVersion(_))
    ));
    assert_eq!(f.records.wrapped_key(id, 1, PATIENT).unwrap(), envelope(1));
    assert_eq!(f.records.wrapped_key(id, 2, PATIENT).unwrap(), envelope(9));
    let added = events::<RecordAdded>(&f.chain.take_logs(), RECORDS);
    assert_eq!(added.last().unwrap().version, 2);
}

#[test]
fn add_version_is_the_patients_alone() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    f.chain.as_sender(OTHER_PATIENT);
    let err = f
        .records
        .add_version(id, cid(2), B256::repeat_byte(2), vec![], vec![]);
    assert!(matches!(err, Err(Error::NotRecordOwner(_))));
    let err = f
        .records
        .add_version(U256::from(42), cid(2), B256::repeat_byte(2), vec![], vec![]);
    assert!(matches!(err, Err(Error::UnknownRecord(_))));
    f.chain.as_sender(PATIENT);
    let err = f
        .records
        .add_version(id, cid(2), B256::ZERO, vec![], vec![]);
    assert!(matches!(err, Err(Error::InvalidContentHash(_))));
    let err = f
        .records
        .add_version(id, cid(2), B256::repeat_byte(2), vec![DOCTOR], vec![]);
    assert!(matches!(err, Err(Error::LengthMismatch(_))));
}

#[test]
fn wrap_keys_publishes_for_later_grantees() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    f.chain.take_logs();
    f.records
        .wrap_keys(id, 1, vec![DOCTOR], vec![envelope(5)])
        .unwrap();
    let wrapped = events::<KeyWrapped>(&f.chain.take_logs(), RECORDS);
    assert_eq!(wrapped.len(), 1);
    assert_eq!(
        (wrapped[0].recordId, wrapped[0].reader, wrapped[0].version),
        (id, DOCTOR, 1)
    );
    f.grant(ScopeKind::All, B256::ZERO, vec![]);
    f.chain.as_sender(DOCTOR);
    assert_eq!(f.records.wrapped_key(id, 1, DOCTOR).unwrap(), envelope(5));
}

#[test]
fn wrap_keys_revert_paths() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    let err = f.records.wrap_keys(id, 2, vec![DOCTOR], vec![envelope(5)]);
    assert!(matches!(err, Err(Error::UnknownVersion(_))));
    let err = f.records.wrap_keys(id, 0, vec![DOCTOR], vec![envelope(5)]);
    assert!(matches!(err, Err(Error::UnknownVersion(_))));
    let err = f.records.wrap_keys(id, 1, vec![DOCTOR], vec![]);
    assert!(matches!(err, Err(Error::LengthMismatch(_))));
    let err = f.records.wrap_keys(U256::from(9), 1, vec![], vec![]);
    assert!(matches!(err, Err(Error::UnknownRecord(_))));
    f.chain.as_sender(DOCTOR);
    let err = f.records.wrap_keys(id, 1, vec![DOCTOR], vec![envelope(5)]);
    assert!(matches!(err, Err(Error::NotRecordOwner(_))));
}

#[test]
fn wrapped_key_is_gated() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    f.chain.as_sender(PATIENT);
    f.records
        .wrap_keys(id, 1, vec![DOCTOR], vec![envelope(5)])
        .unwrap();
    // Patient reads anyone's; a missing wrap is an error, not empty bytes.
    assert_eq!(f.records.wrapped_key(id, 1, DOCTOR).unwrap(), envelope(5));
    assert!(matches!(
        f.records.wrapped_key(id, 1, STRANGER),
        Err(Error::NoWrappedKey(_))
    ));
    // Doctor without a grant: denied; with one: only its own key.
    f.chain.as_sender(DOCTOR);
    assert!(matches!(
        f.records.wrapped_key(id, 1, DOCTOR),
        Err(Error::AccessDenied(_))
    ));
    f.grant(ScopeKind::All, B256::ZERO, vec![]);
    f.chain.as_sender(DOCTOR);
    assert_eq!(f.records.wrapped_key(id, 1, DOCTOR).unwrap(), envelope(5));
    assert!(matches!(
        f.records.wrapped_key(id, 1, PATIENT),
        Err(Error::AccessDenied(_))
    ));
    assert!(matches!(
        f.records.wrapped_key(U256::from(9), 1, DOCTOR),
        Err(Error::UnknownRecord(_))
    ));
}

// ---------------------------------------------------------------- reads

#[test]
fn get_record_reverts_for_unknown_and_unauthorised_readers() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    assert!(matches!(
        f.read_as(PATIENT, U256::from(5)),
        Err(Error::UnknownRecord(_))
    ));
    assert!(matches!(f.read_as(DOCTOR, id), Err(Error::AccessDenied(e)) if e.account == DOCTOR));
    assert!(matches!(
        f.read_as(OTHER_PATIENT, id),
        Err(Error::AccessDenied(_))
    ));
    assert!(!f.records.can_read(DOCTOR, id));
    assert!(f.records.can_read(PATIENT, id));
    assert!(!f.records.can_read(PATIENT, U256::from(5)));
}

#[test]
fn each_scope_kind_opens_exactly_its_records() {
    let mut f = fixture();
    let lab = f.add(PATIENT, CAT_LAB);
    let other = f.add(PATIENT, CAT_XRAY);
    let uncategorised = f.add(PATIENT, B256::ZERO);

    let t = f.grant(ScopeKind::Records, B256::ZERO, vec![other]);
    assert!(f.read_as(DOCTOR, other).is_ok());
    assert!(f.read_as(DOCTOR, lab).is_err());
    f.chain.as_sender(PATIENT);
    f.token.revoke(t).unwrap();

    let t = f.grant(ScopeKind::Category, CAT_LAB, vec![]);
    assert!(f.read_as(DOCTOR, lab).is_ok());
    assert!(f.read_as(DOCTOR, other).is_err());
    assert!(f.read_as(DOCTOR, uncategorised).is_err());
    // AccessToken's own three-argument view resolves the category through us.
    assert!(f.token.has_access(PATIENT, DOCTOR, lab));
    assert!(!f.token.has_access(PATIENT, DOCTOR, other));
    f.chain.as_sender(PATIENT);
    f.token.revoke(t).unwrap();

    f.grant(ScopeKind::All, B256::ZERO, vec![]);
    for id in [lab, other, uncategorised] {
        assert!(f.read_as(DOCTOR, id).is_ok());
    }
}

#[test]
fn a_grant_from_one_patient_opens_nothing_of_another() {
    let mut f = fixture();
    let theirs = f.add(OTHER_PATIENT, CAT_LAB);
    // The grant lists the other patient's record id: still no access.
    f.grant(ScopeKind::Records, B256::ZERO, vec![theirs]);
    assert!(f.read_as(DOCTOR, theirs).is_err());
    f.grant(ScopeKind::All, B256::ZERO, vec![]);
    assert!(f.read_as(DOCTOR, theirs).is_err());
}

#[test]
fn access_ends_at_expiry_revocation_and_suspension() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    let t = f.grant(ScopeKind::All, B256::ZERO, vec![]);
    assert!(f.read_as(DOCTOR, id).is_ok());

    f.chain.as_sender(VERIFIER);
    f.registry.suspend_doctor(DOCTOR).unwrap();
    assert!(f.read_as(DOCTOR, id).is_err());
    f.chain.as_sender(VERIFIER);
    f.registry.verify_doctor(DOCTOR).unwrap();
    assert!(f.read_as(DOCTOR, id).is_ok());

    f.chain.as_sender(PATIENT);
    f.token.revoke(t).unwrap();
    assert!(f.read_as(DOCTOR, id).is_err());

    f.grant(ScopeKind::All, B256::ZERO, vec![]);
    f.chain.advance(3599);
    assert!(f.read_as(DOCTOR, id).is_ok());
    f.chain.advance(1);
    assert!(f.read_as(DOCTOR, id).is_err());
}

#[test]
fn emergency_access_opens_every_record_for_the_window() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    assert!(f.read_as(DOCTOR, id).is_ok());
    f.chain.advance(EMERGENCY_WINDOW_SECS);
    assert!(f.read_as(DOCTOR, id).is_err());
}

#[test]
fn access_record_logs_every_permitted_read() {
    let mut f = fixture();
    let id = f.add(PATIENT, CAT_LAB);
    f.chain.take_logs();
    f.chain.as_sender(DOCTOR);
    assert!(matches!(
        f.chain.tx(|| f.records.access_record(id)),
        Err(Error::AccessDenied(_))
    ));
    assert!(events::<RecordAccessed>(&f.chain.take_logs(), RECORDS).is_empty());

    f.grant(ScopeKind::All, B256::ZERO, vec![]);
    f.chain.take_logs();
    f.chain.as_sender(DOCTOR);
    assert_eq!(f.records.access_record(id).unwrap(), 1);
    f.chain.as_sender(PATIENT);
    assert_eq!(f.records.access_record(id).unwrap(), 1);
    let reads = events::<RecordAccessed>(&f.chain.take_logs(), RECORDS);
    let who: Vec<_> = reads
        .iter()
        .map(|e| (e.recordId, e.patient, e.accessor, e.version))
        .collect();
    assert_eq!(
        who,
        vec![(id, PATIENT, DOCTOR, 1), (id, PATIENT, PATIENT, 1)]
    );
    f.chain.as_sender(DOCTOR);
    assert!(matches!(
        f.records.access_record(U256::from(9)),
        Err(Error::UnknownRecord(_))
    ));
}

#[test]
fn record_category_of_unknown_record_reverts() {
    let f = fixture();
    assert!(matches!(
        f.records.record_category(U256::from(1)),
        Err(Error::UnknownRecord(_))
    ));
    assert_eq!(f.records.record_owner(U256::from(1)), Address::ZERO);
    assert_eq!(f.records.version_count(U256::from(1)), 0);
    assert!(f.records.records_of(STRANGER).is_empty());
}

#[test]
fn reads_fail_closed_when_access_token_is_not_a_contract() {
    let chain = Chain::new();
    let _registry = careledger::deploy_patient_registry::<PatientRegistry>(&chain);
    let mut records = Contract::<RecordRegistry>::deploy(&chain, RECORDS);
    // An EOA as AccessToken answers every call with empty data: that must deny.
    records.construct(OWNER, (REGISTRY, STRANGER)).unwrap();
    careledger::register_patients(&chain, &[PATIENT]);
    chain.as_sender(PATIENT);
    let id = records
        .add_record(cid(1), B256::repeat_byte(1), B256::ZERO, vec![], vec![])
        .unwrap();
    chain.as_sender(DOCTOR);
    assert!(matches!(
        records.get_record(id),
        Err(Error::AccessDenied(_))
    ));
}

// ---------------------------------------------------------------- emergency custodians

/// The record's logs of `EmergencyKeyReleased` and `KeyWrapped`, in order, as
/// (event name, reader).
fn releases_and_wraps(logs: &[Log]) -> Vec<(&'static str, Address)> {
    logs.iter()
        .filter(|l| l.address == RECORDS)
        .filter_map(|l| {
            let raw = (l.topics.iter().copied(), &l.data[..]);
            if l.topics[0] == EmergencyKeyReleased::SIGNATURE_HASH {
                let e = EmergencyKeyReleased::decode_raw_log(raw.0, raw.1).unwrap();
                Some(("released", e.doctor))
            } else if l.topics[0] == KeyWrapped::SIGNATURE_HASH {
                let e = KeyWrapped::decode_raw_log(raw.0, raw.1).unwrap();
                Some(("wrapped", e.reader))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn a_custodian_wraps_keys_for_a_doctor_with_an_open_window() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.take_logs();
    // The custodian's agent reads its own copy of the key, then re-wraps it.
    assert_eq!(f.key_as(CUSTODIAN, id, CUSTODIAN).unwrap(), envelope(0x21));
    f.wrap_as(CUSTODIAN, id, vec![DOCTOR]).unwrap();

    let logs = f.chain.take_logs();
    assert_eq!(
        releases_and_wraps(&logs),
        vec![("released", DOCTOR), ("wrapped", DOCTOR)]
    );
    let released = &events::<EmergencyKeyReleased>(&logs, RECORDS)[0];
    assert_eq!(
        (
            released.recordId,
            released.patient,
            released.doctor,
            released.custodian,
            released.version
        ),
        (id, PATIENT, DOCTOR, CUSTODIAN, 1)
    );
    let wrapped = &events::<KeyWrapped>(&logs, RECORDS)[0];
    assert_eq!(
        (wrapped.recordId, wrapped.reader, wrapped.version),
        (id, DOCTOR, 1)
    );
    assert_eq!(f.key_as(DOCTOR, id, DOCTOR).unwrap(), envelope(0x11));
    assert_eq!(f.key_as(PATIENT, id, DOCTOR).unwrap(), envelope(0x11));
}

#[test]
fn a_custodian_release_to_two_doctors_logs_each_release_before_its_wrap() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    careledger::open_emergency_access(&f.chain, OTHER_DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.take_logs();
    f.wrap_as(CUSTODIAN, id, vec![DOCTOR, OTHER_DOCTOR])
        .unwrap();
    let seen = releases_and_wraps(&f.chain.take_logs());
    assert_eq!(seen.len(), 4);
    for doctor in [DOCTOR, OTHER_DOCTOR] {
        let released = seen.iter().position(|e| *e == ("released", doctor));
        let wrapped = seen.iter().position(|e| *e == ("wrapped", doctor));
        assert!(released.unwrap() < wrapped.unwrap(), "{seen:?}");
    }
    assert_eq!(
        f.key_as(OTHER_DOCTOR, id, OTHER_DOCTOR).unwrap(),
        envelope(0x12)
    );
}

#[test]
fn a_patients_own_wrap_logs_no_emergency_release() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.take_logs();
    f.wrap_as(PATIENT, id, vec![DOCTOR]).unwrap();
    assert_eq!(
        releases_and_wraps(&f.chain.take_logs()),
        vec![("wrapped", DOCTOR)]
    );
}

/// Checks that `by` wrapping for `reader` reverted with `NoEmergencyAccess` and
/// published nothing.
fn assert_no_release(f: &mut Fixture, by: Address, id: U256, reader: Address) {
    f.chain.take_logs();
    let err = f.wrap_as(by, id, vec![reader]).unwrap_err();
    assert!(
        matches!(err, Error::NoEmergencyAccess(ref e) if e.patient == PATIENT && e.doctor == reader),
        "{reader}: {err:?}"
    );
    assert!(f.chain.take_logs().is_empty());
    if reader != PATIENT && reader != CUSTODIAN {
        assert!(matches!(
            f.key_as(PATIENT, id, reader),
            Err(Error::NoWrappedKey(_))
        ));
    }
}

#[test]
fn a_custodian_cannot_wrap_for_a_doctor_without_a_window() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    assert_no_release(&mut f, CUSTODIAN, id, DOCTOR);
    // A grant is not an emergency window: keys for grantees are the patient's to wrap.
    f.grant(ScopeKind::All, B256::ZERO, vec![]);
    assert_no_release(&mut f, CUSTODIAN, id, DOCTOR);
    // Nor is a window on another patient.
    f.chain.as_sender(OTHER_PATIENT);
    f.registry
        .set_emergency_custodians(vec![OTHER_CUSTODIAN])
        .unwrap();
    careledger::open_emergency_access(&f.chain, OTHER_DOCTOR, OTHER_PATIENT, UNCONSCIOUS);
    assert_no_release(&mut f, CUSTODIAN, id, OTHER_DOCTOR);
}

#[test]
fn a_custodian_cannot_wrap_once_the_window_has_ended() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.advance(EMERGENCY_WINDOW_SECS - 1);
    f.wrap_as(CUSTODIAN, id, vec![DOCTOR]).unwrap();
    f.chain.advance(1);
    assert_no_release(&mut f, CUSTODIAN, id, OTHER_DOCTOR);
    let err = f.wrap_as(CUSTODIAN, id, vec![DOCTOR]).unwrap_err();
    assert!(matches!(err, Error::NoEmergencyAccess(ref e) if e.doctor == DOCTOR));
    // What was released stays published, but the doctor can no longer read it.
    assert!(matches!(
        f.key_as(DOCTOR, id, DOCTOR),
        Err(Error::AccessDenied(_))
    ));
}

#[test]
fn a_custodian_cannot_wrap_after_the_patient_closed_the_window() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.as_sender(PATIENT);
    f.token.close_emergency_access(DOCTOR).unwrap();
    assert_no_release(&mut f, CUSTODIAN, id, DOCTOR);
}

#[test]
fn a_custodian_cannot_wrap_for_a_suspended_doctor() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    careledger::suspend_doctor(&f.chain, DOCTOR);
    assert_no_release(&mut f, CUSTODIAN, id, DOCTOR);
    // Reinstated while the window is still open, it may receive keys again.
    f.chain.as_sender(VERIFIER);
    f.registry.verify_doctor(DOCTOR).unwrap();
    f.wrap_as(CUSTODIAN, id, vec![DOCTOR]).unwrap();
}

#[test]
fn a_custodian_cannot_wrap_for_itself_or_for_the_patient() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    assert_no_release(&mut f, CUSTODIAN, id, CUSTODIAN);
    assert_no_release(&mut f, CUSTODIAN, id, PATIENT);
    // Both keys are the patient's originals.
    assert_eq!(f.key_as(PATIENT, id, CUSTODIAN).unwrap(), envelope(0x21));
    assert_eq!(f.key_as(PATIENT, id, PATIENT).unwrap(), envelope(1));
}

#[test]
fn one_reader_without_a_window_reverts_the_whole_release() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.take_logs();
    let err = f
        .wrap_as(CUSTODIAN, id, vec![DOCTOR, STRANGER])
        .unwrap_err();
    assert!(matches!(err, Error::NoEmergencyAccess(ref e) if e.doctor == STRANGER));
    assert!(f.chain.take_logs().is_empty());
    assert!(matches!(
        f.key_as(PATIENT, id, DOCTOR),
        Err(Error::NoWrappedKey(_))
    ));
}

#[test]
fn a_non_custodian_gets_not_record_owner_even_with_an_open_window_around() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    // The emergency opener itself, another doctor, other patients, the owner,
    // the verifier and a stranger: none may wrap the patient's keys.
    for by in [
        DOCTOR,
        OTHER_DOCTOR,
        OTHER_PATIENT,
        OTHER_CUSTODIAN,
        OWNER,
        VERIFIER,
        STRANGER,
    ] {
        let err = f.wrap_as(by, id, vec![DOCTOR]).unwrap_err();
        assert!(
            matches!(err, Error::NotRecordOwner(ref e) if e.account == by && e.recordId == id),
            "{by}: {err:?}"
        );
    }
    assert!(matches!(
        f.key_as(PATIENT, id, DOCTOR),
        Err(Error::NoWrappedKey(_))
    ));
}

#[test]
fn a_custodian_of_one_patient_cannot_wrap_the_keys_of_another() {
    let mut f = fixture();
    let theirs = f.add(OTHER_PATIENT, CAT_LAB);
    f.chain.as_sender(OTHER_PATIENT);
    f.registry
        .set_emergency_custodians(vec![OTHER_CUSTODIAN])
        .unwrap();
    careledger::open_emergency_access(&f.chain, DOCTOR, OTHER_PATIENT, UNCONSCIOUS);
    let err = f.wrap_as(CUSTODIAN, theirs, vec![DOCTOR]).unwrap_err();
    assert!(matches!(err, Error::NotRecordOwner(ref e) if e.account == CUSTODIAN));
    f.wrap_as(OTHER_CUSTODIAN, theirs, vec![DOCTOR]).unwrap();
}

#[test]
fn a_custodian_removed_from_the_list_can_no_longer_wrap_or_read_its_key() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.as_sender(PATIENT);
    f.registry
        .set_emergency_custodians(vec![OTHER_CUSTODIAN])
        .unwrap();
    let err = f.wrap_as(CUSTODIAN, id, vec![DOCTOR]).unwrap_err();
    assert!(matches!(err, Error::NotRecordOwner(ref e) if e.account == CUSTODIAN));
    assert!(matches!(
        f.key_as(CUSTODIAN, id, CUSTODIAN),
        Err(Error::AccessDenied(_))
    ));
    // The new custodian may release (the patient's clients wrap it a key first).
    f.wrap_as(OTHER_CUSTODIAN, id, vec![DOCTOR]).unwrap();

    // An emptied list removes every custodian.
    f.chain.as_sender(PATIENT);
    f.registry.set_emergency_custodians(vec![]).unwrap();
    let err = f.wrap_as(OTHER_CUSTODIAN, id, vec![DOCTOR]).unwrap_err();
    assert!(matches!(err, Error::NotRecordOwner(_)));
}

#[test]
fn a_custodian_release_still_checks_the_record_the_version_and_the_keys() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.as_sender(CUSTODIAN);
    let err = f
        .chain
        .tx(|| f.records.wrap_keys(id, 2, vec![DOCTOR], vec![envelope(5)]));
    assert!(matches!(err, Err(Error::UnknownVersion(_))));
    let err = f
        .chain
        .tx(|| f.records.wrap_keys(id, 1, vec![DOCTOR], vec![]));
    assert!(matches!(err, Err(Error::LengthMismatch(_))));
    let err = f
        .chain
        .tx(|| f.records.wrap_keys(id, 1, vec![DOCTOR], vec![Bytes::new()]));
    assert!(matches!(err, Err(Error::InvalidWrappedKey(_))));
    let err = f.chain.tx(|| {
        f.records
            .wrap_keys(U256::from(9), 1, vec![DOCTOR], vec![envelope(5)])
    });
    assert!(matches!(err, Err(Error::UnknownRecord(_))));
    assert!(events::<EmergencyKeyReleased>(&f.chain.take_logs(), RECORDS).is_empty());
}

#[test]
fn a_custodian_reads_its_own_wrapped_key_without_any_grant_or_window() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    assert!(!f.token.has_access(PATIENT, CUSTODIAN, id));
    assert_eq!(f.key_as(CUSTODIAN, id, CUSTODIAN).unwrap(), envelope(0x21));
    // Its key, not the record: the custodian is no reader of the record itself.
    assert!(matches!(
        f.read_as(CUSTODIAN, id),
        Err(Error::AccessDenied(_))
    ));
    // A version wrapped for the patient alone has no key for it.
    f.chain.as_sender(PATIENT);
    f.records
        .add_version(
            id,
            cid(2),
            B256::repeat_byte(2),
            vec![PATIENT],
            vec![envelope(2)],
        )
        .unwrap();
    f.chain.as_sender(CUSTODIAN);
    assert!(matches!(
        f.records.wrapped_key(id, 2, CUSTODIAN),
        Err(Error::NoWrappedKey(_))
    ));
}

#[test]
fn a_custodian_cannot_read_another_readers_wrapped_key() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.wrap_as(CUSTODIAN, id, vec![DOCTOR]).unwrap();
    for reader in [PATIENT, DOCTOR, OTHER_CUSTODIAN] {
        let err = f.key_as(CUSTODIAN, id, reader).unwrap_err();
        assert!(
            matches!(err, Error::AccessDenied(ref e) if e.account == CUSTODIAN),
            "{reader}: {err:?}"
        );
    }
}

#[test]
fn a_non_custodian_cannot_read_a_custodians_wrapped_key() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    for by in [OTHER_CUSTODIAN, STRANGER, OTHER_PATIENT] {
        assert!(matches!(
            f.key_as(by, id, CUSTODIAN),
            Err(Error::AccessDenied(_))
        ));
        // Nor learn whether a key exists for itself.
        assert!(matches!(f.key_as(by, id, by), Err(Error::AccessDenied(_))));
    }
    // The emergency opener reads its own key only.
    assert!(matches!(
        f.key_as(DOCTOR, id, CUSTODIAN),
        Err(Error::AccessDenied(_))
    ));
    // A custodian of another patient is no custodian here.
    f.chain.as_sender(OTHER_PATIENT);
    f.registry
        .set_emergency_custodians(vec![OTHER_CUSTODIAN])
        .unwrap();
    assert!(matches!(
        f.key_as(OTHER_CUSTODIAN, id, OTHER_CUSTODIAN),
        Err(Error::AccessDenied(_))
    ));
}

#[test]
fn a_custodian_can_release_to_an_open_window_during_a_pause() {
    let mut f = fixture();
    let id = f.add_with_custodian();
    careledger::open_emergency_access(&f.chain, DOCTOR, PATIENT, UNCONSCIOUS);
    f.chain.as_sender(OWNER);
    f.registry.pause().unwrap();
    // The pause stops new windows, not the release to one already open.
    f.chain.as_sender(OTHER_DOCTOR);
    assert!(f
        .chain
        .tx(|| f.token.open_emergency_access(PATIENT, UNCONSCIOUS))
        .is_err());
    f.wrap_as(CUSTODIAN, id, vec![DOCTOR]).unwrap();
    assert_no_release(&mut f, CUSTODIAN, id, OTHER_DOCTOR);
}

// ---------------------------------------------------------------- calldata

mod abi {
    alloy_sol_types::sol! {
        interface IRecordRegistry {
            function addRecord(bytes cid, bytes32 contentHash, bytes32 category, address[] readers, bytes[] wrappedKeys) external returns (uint256);
            function getRecord(uint256 recordId) external view returns (address, uint32, bytes, bytes32, bytes32, uint64);
            function accessRecord(uint256 recordId) external returns (uint32);
            function recordCount() external view returns (uint256);
            error AccessDenied(address account, uint256 recordId);
        }
    }
}

#[test]
fn calldata_round_trips_through_the_router() {
    let f = fixture();
    let call = abi::IRecordRegistry::addRecordCall {
        cid: cid(3).0.into(),
        contentHash: B256::repeat_byte(3),
        category: CAT_LAB,
        readers: vec![PATIENT],
        wrappedKeys: vec![envelope(3).0.into()],
    };
    let id = f.records.call(PATIENT, call).unwrap();
    assert_eq!(id, U256::from(1));

    let get = abi::IRecordRegistry::getRecordCall { recordId: id };
    let view = f.records.call(PATIENT, get.clone()).unwrap();
    assert_eq!((view._0, view._1, view._4), (PATIENT, 1, CAT_LAB));

    let decoded = f
        .records
        .revert::<abi::IRecordRegistry::IRecordRegistryErrors>(DOCTOR, get);
    assert!(matches!(
        decoded,
        abi::IRecordRegistry::IRecordRegistryErrors::AccessDenied(e) if e.account == DOCTOR
    ));
}

#[test]
fn malformed_calldata_reverts_without_touching_state() {
    let mut f = fixture();
    f.add(PATIENT, CAT_LAB);
    let before = f.chain.storage_of(RECORDS);
    let add = abi::IRecordRegistry::addRecordCall::SELECTOR;
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xde, 0xad],
        vec![0xde, 0xad, 0xbe, 0xef],
        add.to_vec(),
        [add.as_slice(), &[0xff; 31]].concat(),
        [add.as_slice(), &[0xff; 200]].concat(),
        // Offsets pointing far outside the calldata.
        [add.as_slice(), &U256::MAX.to_be_bytes::<32>(), &[0u8; 128]].concat(),
    ];
    for data in cases {
        // call_raw also checks that the revert left storage and logs alone.
        assert!(f.records.call_raw(PATIENT, &data).is_err(), "{data:02x?}");
    }
    assert_eq!(f.chain.storage_of(RECORDS), before);
    assert_eq!(f.records.record_count(), U256::from(1));
    let _ = abi::IRecordRegistry::recordCountCall::SELECTOR;
    let _ = &mut f.registry;
}
