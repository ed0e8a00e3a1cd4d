//! Host tests of AccessToken with the real PatientRegistry on one in-memory
//! chain: every public function, every documented revert, the events and the
//! state each call leaves behind, and the router's handling of raw (and
//! malformed) calldata.
//!
//! No RecordRegistry is deployed here (its tests live with it): a record book
//! answers its two views from a fixed table (see [`record_book`]).

use super::*;
use crate::erc165::tests::IERC165;
use crate::erc721::tests::{IERC5192, IERC721};
use crate::erc721::{Locked, Transfer, IERC721_METADATA_ID};
use alloy_sol_types::{SolCall, SolEvent, SolInterface, SolValue};
use careledger_common::{
    emergency_reason::{CANNOT_COMMUNICATE, LIFE_THREATENING, OTHER_URGENT, UNCONSCIOUS},
    DEFAULT_EMERGENCY_DAILY_LIMIT, EMERGENCY_BAR_SECS, EMERGENCY_LIMIT_PERIOD_SECS,
    EMERGENCY_WINDOW_SECS, MAX_EMERGENCY_DAILY_LIMIT, MAX_GRANTS_PER_PAIR, MAX_SCOPE_RECORDS,
};
use careledger_testkit::{
    careledger::{
        self, addr, CAT_LAB, CAT_XRAY, CUSTODIAN, DOCTOR, OTHER_DOCTOR, OTHER_PATIENT, OWNER,
        PATIENT, REGISTRY, STRANGER, TOKEN, VERIFIER,
    },
    events, only_event, Chain, Contract, Log,
};
use patient_registry::PatientRegistry;
use proptest::prelude::*;

const PENDING_DOCTOR: Address = addr(0x13);
/// An address where no contract lives (stands in for a RecordRegistry).
const NO_CODE: Address = addr(0xa3);
/// Where the [`record_book`] stand-in for RecordRegistry lives.
const RECORD_BOOK: Address = addr(0xa5);
/// The first record id of `OTHER_PATIENT` in the record book; ids below it are
/// `PATIENT`'s, ids from twice it nobody's.
const OTHER_PATIENTS_RECORDS: u64 = 100_000;
/// Records 700 to 799 of `PATIENT` are lab results, 800 to 899 X-rays; the rest
/// have no category.
const LAB_RECORDS: std::ops::Range<u64> = 700..800;
const XRAY_RECORDS: std::ops::Range<u64> = 800..900;
const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

fn id(n: u64) -> U256 {
    U256::from(n)
}

fn ids(ns: impl IntoIterator<Item = u64>) -> Vec<U256> {
    ns.into_iter().map(U256::from).collect()
}

struct Fixture {
    chain: Chain,
    registry: Contract<PatientRegistry>,
    token: Contract<AccessToken>,
}

/// A stand-in for RecordRegistry's `recordOwner` and `recordCategory` views,
/// answering from the fixed table the constants above describe.
fn record_book(calldata: Vec<u8>, _vm: stylus_sdk::host::VM) -> stylus_sdk::ArbResult {
    mod r {
        alloy_sol_types::sol! {
            function recordOwner(uint256 record_id) external view returns (address);
            function recordCategory(uint256 record_id) external view returns (bytes32);
        }
    }
    let n = |id: U256| u64::try_from(id).unwrap_or(u64::MAX);
    let owner = |id: u64| match id {
        1..OTHER_PATIENTS_RECORDS => PATIENT,
        OTHER_PATIENTS_RECORDS..200_000 => OTHER_PATIENT,
        _ => Address::ZERO,
    };
    if let Ok(c) = r::recordOwnerCall::abi_decode(&calldata) {
        return Ok(owner(n(c.record_id)).abi_encode());
    }
    if let Ok(c) = r::recordCategoryCall::abi_decode(&calldata) {
        let id = n(c.record_id);
        let category = match id {
            _ if LAB_RECORDS.contains(&id) => CAT_LAB,
            _ if XRAY_RECORDS.contains(&id) => CAT_XRAY,
            _ => B256::ZERO,
        };
        return Ok(category.abi_encode());
    }
    Err(vec![])
}

/// [`unlinked_fixture`] with the [`record_book`] linked as its RecordRegistry.
fn fixture() -> Fixture {
    let mut f = unlinked_fixture();
    f.chain.place(RECORD_BOOK, record_book);
    f.token
        .send(OWNER, |t| t.link_record_registry(RECORD_BOOK))
        .unwrap();
    f.chain.take_logs();
    f
}

/// PatientRegistry and AccessToken deployed as a deployment does it (the
/// constructors run through the router), with two patients who both name
/// `CUSTODIAN` as their emergency custodian, two verified doctors and one
/// pending doctor; no RecordRegistry linked. Logs cleared.
fn unlinked_fixture() -> Fixture {
    let chain = Chain::new();
    let registry = careledger::deploy_patient_registry(&chain);
    let token = careledger::deploy_access_token(&chain);
    careledger::add_verifier(&chain, VERIFIER);
    careledger::register_patients(&chain, &[PATIENT, OTHER_PATIENT, CUSTODIAN]);
    for p in [PATIENT, OTHER_PATIENT] {
        careledger::set_custodians(&chain, p, &[CUSTODIAN]);
    }
    careledger::register_doctors(&chain, &[DOCTOR, OTHER_DOCTOR, PENDING_DOCTOR]);
    careledger::verify_doctors(&chain, &[DOCTOR, OTHER_DOCTOR]);
    chain.take_logs();
    Fixture {
        chain,
        registry,
        token,
    }
}

/// An AccessToken bound to an address where no PatientRegistry lives.
fn token_without_registry() -> (Chain, Contract<AccessToken>) {
    let chain = Chain::new();
    let token = Contract::<AccessToken>::deploy(&chain, TOKEN);
    token
        .construct(OWNER, (NO_CODE,))
        .expect("token constructor");
    chain.take_logs();
    (chain, token)
}

impl Fixture {
    /// One hour from now.
    fn later(&self) -> u64 {
        self.chain.timestamp() + HOUR
    }

    /// `PATIENT` grants `doctor` a scope for an hour.
    fn try_grant(
        &mut self,
        doctor: Address,
        kind: u8,
        category: B256,
        record_ids: Vec<U256>,
    ) -> Result<U256, Error> {
        let expiry = self.later();
        self.token.send(PATIENT, |t| {
            t.grant(doctor, expiry, kind, category, record_ids)
        })
    }

    fn grant_all(&mut self, doctor: Address) -> U256 {
        self.try_grant(doctor, ScopeKind::All as u8, B256::ZERO, vec![])
            .unwrap()
    }

    fn grant_records(&mut self, record_ids: Vec<U256>) -> U256 {
        self.try_grant(DOCTOR, ScopeKind::Records as u8, B256::ZERO, record_ids)
            .unwrap()
    }

    fn grant_category(&mut self, category: B256) -> U256 {
        self.try_grant(DOCTOR, ScopeKind::Category as u8, category, vec![])
            .unwrap()
    }

    /// Whether `DOCTOR` may read `record` of `PATIENT` now (category unknown).
    fn doctor_reads(&self, record: u64) -> bool {
        self.token.has_access(PATIENT, DOCTOR, id(record))
    }

    /// `doctor` opens emergency access to `patient` (reason: unconscious).
    fn open(&mut self, doctor: Address, patient: Address) -> Result<u64, Error> {
        self.token
            .send(doctor, |t| t.open_emergency_access(patient, UNCONSCIOUS))
    }

    /// `patient` closes `doctor`'s emergency window.
    fn close(&mut self, patient: Address, doctor: Address) -> Result<(), Error> {
        self.token
            .send(patient, |t| t.close_emergency_access(doctor))
    }

    /// `patient` lifts its bar on `doctor`.
    fn lift(&mut self, patient: Address, doctor: Address) -> Result<(), Error> {
        self.token.send(patient, |t| t.lift_emergency_bar(doctor))
    }

    fn set_limit(&mut self, from: Address, limit: u8) -> Result<(), Error> {
        self.token
            .send(from, |t| t.set_emergency_daily_limit(limit))
    }

    /// Registers `n` more patients (0x40, 0x41, ...), each naming `CUSTODIAN`.
    fn more_patients(&mut self, n: u8) -> Vec<Address> {
        let patients: Vec<Address> = (0..n).map(|i| addr(0x40 + i)).collect();
        careledger::register_patients(&self.chain, &patients);
        for &p in &patients {
            careledger::set_custodians(&self.chain, p, &[CUSTODIAN]);
        }
        self.chain.take_logs();
        patients
    }

    fn pause(&mut self) {
        self.registry.send(OWNER, |r| r.pause()).unwrap();
    }

    fn unpause(&mut self) {
        self.registry.send(OWNER, |r| r.unpause()).unwrap();
    }

    /// Moves the clock to `at` (which must not be in the past).
    fn advance_to(&self, at: u64) {
        self.chain.advance(at - self.chain.timestamp());
    }

    /// Nothing was minted and nothing logged: for checking reverted grants.
    fn assert_nothing_minted(&self) {
        assert_eq!(self.token.total_minted(), U256::ZERO);
        assert!(self.token.tokens_of(PATIENT, DOCTOR).is_empty());
        assert!(self.chain.take_logs().is_empty());
    }
}

fn topic0s(logs: &[Log]) -> Vec<B256> {
    logs.iter().map(|l| l.topics[0]).collect()
}

// ---------------------------------------------------------------- constructor

#[test]
fn constructor_binds_the_patient_registry() {
    let f = unlinked_fixture();
    assert_eq!(f.token.patient_registry(), REGISTRY);
    assert_eq!(f.token.record_registry(), Address::ZERO);
    assert_eq!(f.token.total_minted(), U256::ZERO);
    assert_eq!(f.token.emergency_window(), EMERGENCY_WINDOW_SECS);
}

#[test]
fn constructor_rejects_the_zero_registry() {
    let chain = Chain::new();
    let mut token = Contract::<AccessToken>::deploy(&chain, TOKEN);
    let err = token
        .send(OWNER, |t| t.constructor(Address::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAddress(_)));
    assert_eq!(token.patient_registry(), Address::ZERO);

    let revert = token.construct(OWNER, (Address::ZERO,)).unwrap_err();
    assert!(matches!(
        Errors::abi_decode(&revert).unwrap(),
        Errors::InvalidAddress(_)
    ));
    assert!(chain.storage_of(TOKEN).is_empty());
}

#[test]
fn constructor_cannot_run_a_second_time() {
    let f = fixture();
    assert!(f.token.construct(STRANGER, (STRANGER,)).is_err());
    assert_eq!(f.token.patient_registry(), REGISTRY);
}

// ---------------------------------------------------------------- linkRecordRegistry

#[test]
fn link_record_registry_links_once_and_logs() {
    let mut f = unlinked_fixture();
    f.token
        .send(OWNER, |t| t.link_record_registry(NO_CODE))
        .unwrap();
    assert_eq!(f.token.record_registry(), NO_CODE);
    assert_eq!(
        only_event::<RecordRegistryLinked>(&f.chain.take_logs(), TOKEN).recordRegistry,
        NO_CODE
    );
}

#[test]
fn link_record_registry_rejects_zero() {
    let mut f = unlinked_fixture();
    let err = f
        .token
        .send(OWNER, |t| t.link_record_registry(Address::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAddress(_)));
    assert_eq!(f.token.record_registry(), Address::ZERO);
}

#[test]
fn link_record_registry_is_the_registry_owners_alone() {
    let mut f = unlinked_fixture();
    for caller in [STRANGER, VERIFIER, PATIENT] {
        let err = f
            .token
            .send(caller, |t| t.link_record_registry(NO_CODE))
            .unwrap_err();
        assert!(matches!(err, Error::NotRegistryOwner(ref e) if e.account == caller));
    }
    assert_eq!(f.token.record_registry(), Address::ZERO);
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn link_record_registry_follows_a_registry_ownership_handover() {
    let mut f = unlinked_fixture();
    f.registry
        .send(OWNER, |r| r.transfer_ownership(STRANGER))
        .unwrap();
    f.registry.send(STRANGER, |r| r.accept_ownership()).unwrap();
    let err = f
        .token
        .send(OWNER, |t| t.link_record_registry(NO_CODE))
        .unwrap_err();
    assert!(matches!(err, Error::NotRegistryOwner(ref e) if e.account == OWNER));
    f.token
        .send(STRANGER, |t| t.link_record_registry(NO_CODE))
        .unwrap();
    assert_eq!(f.token.record_registry(), NO_CODE);
}

#[test]
fn link_record_registry_twice_reverts() {
    let mut f = unlinked_fixture();
    f.token
        .send(OWNER, |t| t.link_record_registry(NO_CODE))
        .unwrap();
    f.chain.take_logs();
    let err = f
        .token
        .send(OWNER, |t| t.link_record_registry(addr(0xa4)))
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyLinked(ref e) if e.recordRegistry == NO_CODE));
    assert_eq!(f.token.record_registry(), NO_CODE);
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn link_record_registry_reverts_when_the_registry_cannot_be_asked() {
    let (chain, mut token) = token_without_registry();
    chain.as_sender(OWNER);
    let err = chain
        .tx(|| token.link_record_registry(addr(0xa4)))
        .unwrap_err();
    assert!(matches!(err, Error::RegistryUnavailable(ref e) if e.registry == NO_CODE));
    assert_eq!(token.record_registry(), Address::ZERO);
}

// ---------------------------------------------------------------- grant

#[test]
fn grant_of_all_records_mints_a_locked_token_and_logs() {
    let mut f = fixture();
    let now = f.chain.timestamp();
    let expiry = f.later();
    let token_id = f.grant_all(DOCTOR);
    assert_eq!(token_id, id(1));
    assert_eq!(f.token.total_minted(), id(1));
    assert_eq!(f.token.owner_of(token_id).unwrap(), DOCTOR);
    assert_eq!(f.token.balance_of(DOCTOR).unwrap(), id(1));
    assert_eq!(f.token.balance_of(PATIENT).unwrap(), U256::ZERO);
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR), vec![token_id]);
    assert_eq!(
        f.token.grant_info(token_id).unwrap(),
        (
            PATIENT,
            DOCTOR,
            now,
            expiry,
            ScopeKind::All as u8,
            B256::ZERO
        )
    );
    assert!(f.token.grant_records(token_id).unwrap().is_empty());

    let logs = f.chain.take_logs();
    assert_eq!(
        topic0s(&logs),
        vec![
            Transfer::SIGNATURE_HASH,
            Locked::SIGNATURE_HASH,
            AccessGranted::SIGNATURE_HASH
        ]
    );
    let t = &events::<Transfer>(&logs, TOKEN)[0];
    assert_eq!((t.from, t.to, t.tokenId), (Address::ZERO, DOCTOR, token_id));
    assert_eq!(events::<Locked>(&logs, TOKEN)[0].tokenId, token_id);
    let g = &events::<AccessGranted>(&logs, TOKEN)[0];
    assert_eq!(
        (g.tokenId, g.patient, g.doctor, g.expiresAt, g.scopeKind),
        (token_id, PATIENT, DOCTOR, expiry, ScopeKind::All as u8)
    );
    assert_eq!(g.category, B256::ZERO);
    assert!(g.recordIds.is_empty());
}

#[test]
fn grant_of_listed_records_stores_and_logs_the_ids() {
    let mut f = fixture();
    let token_id = f.grant_records(ids([7, 3, 9]));
    assert_eq!(f.token.grant_records(token_id).unwrap(), ids([7, 3, 9]));
    assert_eq!(
        f.token.grant_info(token_id).unwrap().4,
        ScopeKind::Records as u8
    );
    let g = &events::<AccessGranted>(&f.chain.take_logs(), TOKEN)[0];
    assert_eq!(g.scopeKind, ScopeKind::Records as u8);
    assert_eq!(g.recordIds, ids([7, 3, 9]));
}

#[test]
fn grant_of_listed_records_stores_and_logs_duplicate_ids_once() {
    let mut f = fixture();
    let token_id = f.grant_records(ids([5, 5, 6]));
    assert_eq!(f.token.grant_records(token_id).unwrap(), ids([5, 6]));
    assert_eq!(
        events::<AccessGranted>(&f.chain.take_logs(), TOKEN)[0].recordIds,
        ids([5, 6])
    );
    assert!(f.doctor_reads(5) && f.doctor_reads(6));
}

#[test]
fn grant_of_a_category_stores_and_logs_the_category() {
    let mut f = fixture();
    let token_id = f.grant_category(CAT_LAB);
    let info = f.token.grant_info(token_id).unwrap();
    assert_eq!((info.4, info.5), (ScopeKind::Category as u8, CAT_LAB));
    assert!(f.token.grant_records(token_id).unwrap().is_empty());
    let g = &events::<AccessGranted>(&f.chain.take_logs(), TOKEN)[0];
    assert_eq!(
        (g.scopeKind, g.category),
        (ScopeKind::Category as u8, CAT_LAB)
    );
}

#[test]
fn grant_ids_increase_and_are_never_reused() {
    let mut f = fixture();
    let first = f.grant_all(DOCTOR);
    f.token.send(PATIENT, |t| t.revoke(first)).unwrap();
    let second = f.grant_all(DOCTOR);
    let third = f.grant_all(OTHER_DOCTOR);
    assert_eq!((first, second, third), (id(1), id(2), id(3)));
    assert_eq!(f.token.total_minted(), id(3));
}

#[test]
fn grant_rejects_every_malformed_scope() {
    let mut f = fixture();
    let cases: Vec<(u8, B256, Vec<U256>)> = vec![
        (ScopeKind::All as u8, CAT_LAB, vec![]),
        (ScopeKind::All as u8, B256::ZERO, ids([1])),
        (ScopeKind::Records as u8, B256::ZERO, vec![]),
        (ScopeKind::Records as u8, CAT_LAB, ids([1])),
        (ScopeKind::Category as u8, B256::ZERO, vec![]),
        (ScopeKind::Category as u8, CAT_LAB, ids([1])),
        (3, B256::ZERO, vec![]),
        (3, CAT_LAB, ids([1])),
        (u8::MAX, B256::ZERO, vec![]),
    ];
    for (kind, category, record_ids) in cases {
        let err = f
            .try_grant(DOCTOR, kind, category, record_ids.clone())
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidScope(ref e) if e.scopeKind == kind),
            "kind {kind}, category {category}, ids {record_ids:?}: {err:?}"
        );
    }
    f.assert_nothing_minted();
}

#[test]
fn grant_accepts_up_to_64_records_and_rejects_65() {
    let mut f = fixture();
    let too_many = ids(1..=MAX_SCOPE_RECORDS as u64 + 1);
    assert_eq!(too_many.len(), 65);
    let err = f
        .try_grant(DOCTOR, ScopeKind::Records as u8, B256::ZERO, too_many)
        .unwrap_err();
    assert!(matches!(err, Error::TooManyRecords(ref e) if e.count == id(65)));
    f.assert_nothing_minted();

    let token_id = f.grant_records(ids(1..=64));
    assert_eq!(f.token.grant_records(token_id).unwrap().len(), 64);
    assert!(f.doctor_reads(64));
    assert!(!f.doctor_reads(65));
}

#[test]
fn grant_rejects_an_expiry_that_is_not_in_the_future() {
    let mut f = fixture();
    let now = f.chain.timestamp();
    for expiry in [now, now - 1, 0] {
        let err = f
            .token
            .send(PATIENT, |t| {
                t.grant(DOCTOR, expiry, ScopeKind::All as u8, B256::ZERO, vec![])
            })
            .unwrap_err();
        assert!(matches!(err, Error::InvalidExpiry(ref e) if e.expiresAt == expiry));
    }
    f.assert_nothing_minted();
    f.token
        .send(PATIENT, |t| {
            t.grant(DOCTOR, now + 1, ScopeKind::All as u8, B256::ZERO, vec![])
        })
        .unwrap();
}

#[test]
fn grant_rejects_the_patient_itself_and_zero_as_grantee() {
    let mut f = fixture();
    for grantee in [PATIENT, Address::ZERO] {
        let err = f
            .try_grant(grantee, ScopeKind::All as u8, B256::ZERO, vec![])
            .unwrap_err();
        assert!(matches!(err, Error::InvalidGrantee(ref e) if e.doctor == grantee));
    }
    f.assert_nothing_minted();
}

#[test]
fn grant_requires_a_registered_patient() {
    let mut f = fixture();
    let expiry = f.later();
    for granter in [STRANGER, DOCTOR, VERIFIER] {
        let err = f
            .token
            .send(granter, |t| {
                t.grant(
                    OTHER_DOCTOR,
                    expiry,
                    ScopeKind::All as u8,
                    B256::ZERO,
                    vec![],
                )
            })
            .unwrap_err();
        assert!(matches!(err, Error::NotPatient(ref e) if e.account == granter));
    }
    assert_eq!(f.token.total_minted(), U256::ZERO);
}

#[test]
fn grant_requires_a_verified_doctor() {
    let mut f = fixture();
    careledger::suspend_doctor(&f.chain, OTHER_DOCTOR);
    // Pending, suspended, never registered, and a patient who is no doctor.
    for grantee in [PENDING_DOCTOR, OTHER_DOCTOR, STRANGER, OTHER_PATIENT] {
        let err = f
            .try_grant(grantee, ScopeKind::All as u8, B256::ZERO, vec![])
            .unwrap_err();
        assert!(
            matches!(err, Error::DoctorNotVerified(ref e) if e.doctor == grantee),
            "{grantee}: {err:?}"
        );
    }
    assert_eq!(f.token.total_minted(), U256::ZERO);
}

#[test]
fn grant_allows_eight_live_grants_per_pair_and_rejects_the_ninth() {
    let mut f = fixture();
    for _ in 0..MAX_GRANTS_PER_PAIR {
        f.grant_all(DOCTOR);
    }
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR).len(), 8);
    f.chain.take_logs();
    let err = f
        .try_grant(DOCTOR, ScopeKind::All as u8, B256::ZERO, vec![])
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyGrants(ref e) if e.patient == PATIENT && e.doctor == DOCTOR)
    );
    assert_eq!(f.token.total_minted(), id(8));
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn the_grant_limit_is_per_pair() {
    let mut f = fixture();
    for _ in 0..MAX_GRANTS_PER_PAIR {
        f.grant_all(DOCTOR);
    }
    f.grant_all(OTHER_DOCTOR);
    let expiry = f.later();
    f.token
        .send(OTHER_PATIENT, |t| {
            t.grant(DOCTOR, expiry, ScopeKind::All as u8, B256::ZERO, vec![])
        })
        .unwrap();
}

#[test]
fn revoking_one_of_eight_grants_frees_a_place() {
    let mut f = fixture();
    for _ in 0..MAX_GRANTS_PER_PAIR {
        f.grant_all(DOCTOR);
    }
    f.token.send(PATIENT, |t| t.revoke(id(4))).unwrap();
    assert_eq!(f.grant_all(DOCTOR), id(9));
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR).len(), 8);
}

#[test]
fn a_full_pair_burns_its_expired_grants_to_make_room() {
    let mut f = fixture();
    for _ in 0..MAX_GRANTS_PER_PAIR - 1 {
        f.grant_all(DOCTOR);
    }
    f.chain.advance(2 * HOUR);
    // One live grant among seven expired ones.
    let live = f.grant_all(DOCTOR);
    assert!(f.doctor_reads(1));
    f.chain.take_logs();

    let fresh = f.grant_all(DOCTOR);
    let logs = f.chain.take_logs();
    let burnt: Vec<U256> = events::<Transfer>(&logs, TOKEN)
        .into_iter()
        .filter(|t| t.to == Address::ZERO)
        .map(|t| t.tokenId)
        .collect();
    assert_eq!(burnt.len(), MAX_GRANTS_PER_PAIR - 1);
    assert!(burnt.iter().all(|t| *t < live));
    // Each burnt grant says so, so that an indexer drops it.
    let ended: Vec<(U256, Address, Address)> = events::<AccessRevoked>(&logs, TOKEN)
        .into_iter()
        .map(|r| (r.tokenId, r.patient, r.doctor))
        .collect();
    assert_eq!(
        ended,
        burnt
            .iter()
            .map(|t| (*t, PATIENT, DOCTOR))
            .collect::<Vec<_>>()
    );
    let mut left = f.token.tokens_of(PATIENT, DOCTOR);
    left.sort();
    assert_eq!(left, vec![live, fresh]);
    assert_eq!(f.token.balance_of(DOCTOR).unwrap(), U256::from(2));
    assert!(matches!(
        f.token.owner_of(id(1)),
        Err(Error::ERC721NonexistentToken(_))
    ));
}

#[test]
fn eight_live_grants_are_never_pruned() {
    let mut f = fixture();
    for _ in 0..MAX_GRANTS_PER_PAIR {
        f.grant_all(DOCTOR);
    }
    f.chain.advance(HOUR - 1);
    f.chain.take_logs();
    let err = f
        .try_grant(DOCTOR, ScopeKind::All as u8, B256::ZERO, vec![])
        .unwrap_err();
    assert!(matches!(err, Error::TooManyGrants(_)));
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR).len(), 8);
    assert!(
        f.chain.take_logs().is_empty(),
        "a reverted grant prunes nothing"
    );
}

#[test]
fn grant_reverts_when_the_registry_cannot_be_asked() {
    let (chain, mut token) = token_without_registry();
    chain.as_sender(PATIENT);
    let expiry = chain.timestamp() + HOUR;
    let err = chain
        .tx(|| token.grant(DOCTOR, expiry, ScopeKind::All as u8, B256::ZERO, vec![]))
        .unwrap_err();
    assert!(matches!(err, Error::RegistryUnavailable(ref e) if e.registry == NO_CODE));
    assert_eq!(token.total_minted(), U256::ZERO);
    assert!(chain.take_logs().is_empty());
}

// ---------------------------------------------------------------- revoke

#[test]
fn revoke_burns_the_token_and_logs() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    f.chain.take_logs();
    f.token.send(PATIENT, |t| t.revoke(token_id)).unwrap();

    let logs = f.chain.take_logs();
    assert_eq!(
        topic0s(&logs),
        vec![Transfer::SIGNATURE_HASH, AccessRevoked::SIGNATURE_HASH]
    );
    let t = &events::<Transfer>(&logs, TOKEN)[0];
    assert_eq!((t.from, t.to, t.tokenId), (DOCTOR, Address::ZERO, token_id));
    let r = &events::<AccessRevoked>(&logs, TOKEN)[0];
    assert_eq!(
        (r.tokenId, r.patient, r.doctor),
        (token_id, PATIENT, DOCTOR)
    );

    assert!(matches!(
        f.token.owner_of(token_id),
        Err(Error::ERC721NonexistentToken(ref e)) if e.tokenId == token_id
    ));
    assert_eq!(f.token.balance_of(DOCTOR).unwrap(), U256::ZERO);
    assert!(f.token.tokens_of(PATIENT, DOCTOR).is_empty());
    assert!(matches!(
        f.token.grant_info(token_id),
        Err(Error::ERC721NonexistentToken(_))
    ));
    assert!(matches!(
        f.token.grant_records(token_id),
        Err(Error::ERC721NonexistentToken(_))
    ));
    assert!(!f.doctor_reads(1));
    assert_eq!(f.token.total_minted(), id(1));
}

#[test]
fn revoke_of_a_token_never_minted_reverts() {
    let mut f = fixture();
    for token_id in [U256::ZERO, id(1), U256::MAX] {
        let err = f.token.send(PATIENT, |t| t.revoke(token_id)).unwrap_err();
        assert!(matches!(err, Error::ERC721NonexistentToken(ref e) if e.tokenId == token_id));
    }
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn revoke_is_the_granting_patients_alone() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    f.chain.take_logs();
    for caller in [DOCTOR, OTHER_PATIENT, OWNER, STRANGER] {
        let err = f.token.send(caller, |t| t.revoke(token_id)).unwrap_err();
        assert!(
            matches!(err, Error::NotGrantor(ref e) if e.account == caller && e.tokenId == token_id)
        );
    }
    assert_eq!(f.token.owner_of(token_id).unwrap(), DOCTOR);
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR), vec![token_id]);
    assert!(f.doctor_reads(1));
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn revoke_twice_reverts() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    f.token.send(PATIENT, |t| t.revoke(token_id)).unwrap();
    f.chain.take_logs();
    let err = f.token.send(PATIENT, |t| t.revoke(token_id)).unwrap_err();
    assert!(matches!(err, Error::ERC721NonexistentToken(ref e) if e.tokenId == token_id));
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn revoke_of_the_middle_of_three_swaps_the_last_into_its_place() {
    let mut f = fixture();
    let [a, b, c] = [0; 3].map(|_| f.grant_all(DOCTOR));
    f.token.send(PATIENT, |t| t.revoke(b)).unwrap();
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR), vec![a, c]);
    f.token.send(PATIENT, |t| t.revoke(a)).unwrap();
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR), vec![c]);
    f.token.send(PATIENT, |t| t.revoke(c)).unwrap();
    assert!(f.token.tokens_of(PATIENT, DOCTOR).is_empty());
    assert_eq!(f.token.balance_of(DOCTOR).unwrap(), U256::ZERO);
}

#[test]
fn revoke_of_the_last_of_three_keeps_the_order() {
    let mut f = fixture();
    let [a, b, c] = [0; 3].map(|_| f.grant_all(DOCTOR));
    f.token.send(PATIENT, |t| t.revoke(c)).unwrap();
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR), vec![a, b]);
}

#[test]
fn revoke_of_one_grant_leaves_the_others_granting() {
    let mut f = fixture();
    let records = f.grant_records(ids([1]));
    let all = f.grant_all(DOCTOR);
    f.token.send(PATIENT, |t| t.revoke(all)).unwrap();
    assert!(f.doctor_reads(1));
    assert!(!f.doctor_reads(2));
    f.token.send(PATIENT, |t| t.revoke(records)).unwrap();
    assert!(!f.doctor_reads(1));
}

#[test]
fn a_grant_to_a_suspended_doctor_can_still_be_revoked() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    careledger::suspend_doctor(&f.chain, DOCTOR);
    f.token.send(PATIENT, |t| t.revoke(token_id)).unwrap();
    careledger::verify_doctors(&f.chain, &[DOCTOR]);
    assert!(!f.doctor_reads(1));
}

// ---------------------------------------------------------------- hasAccess / checkAccess

#[test]
fn a_patient_always_reads_its_own_records() {
    let f = fixture();
    assert!(f.token.has_access(PATIENT, PATIENT, id(1)));
    assert!(f.token.check_access(PATIENT, PATIENT, id(1), CAT_LAB));
}

#[test]
fn zero_addresses_never_have_access() {
    let mut f = fixture();
    f.grant_all(DOCTOR);
    assert!(!f.token.has_access(Address::ZERO, DOCTOR, id(1)));
    assert!(!f.token.has_access(PATIENT, Address::ZERO, id(1)));
    assert!(!f.token.has_access(Address::ZERO, Address::ZERO, id(1)));
}

#[test]
fn without_a_grant_a_doctor_has_no_access() {
    let f = fixture();
    assert!(!f.doctor_reads(1));
    assert!(!f.token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
}

#[test]
fn a_grant_of_all_records_covers_every_record_of_that_patient_only() {
    let mut f = fixture();
    f.grant_all(DOCTOR);
    assert!(f.doctor_reads(1));
    assert!(f.doctor_reads(12345));
    assert!(f.token.check_access(PATIENT, DOCTOR, id(1), CAT_XRAY));
    assert!(!f.token.has_access(OTHER_PATIENT, DOCTOR, id(1)));
    assert!(!f.token.has_access(PATIENT, OTHER_DOCTOR, id(1)));
}

#[test]
fn a_grant_of_listed_records_covers_exactly_those() {
    let mut f = fixture();
    f.grant_records(ids([2, 4]));
    assert!(f.doctor_reads(2));
    assert!(f.doctor_reads(4));
    assert!(!f.doctor_reads(3));
    assert!(f.token.check_access(PATIENT, DOCTOR, id(2), CAT_LAB));
    assert!(!f.token.check_access(PATIENT, DOCTOR, id(3), CAT_LAB));
}

#[test]
fn a_category_grant_covers_records_of_that_category_through_check_access() {
    let mut f = fixture();
    f.grant_category(CAT_LAB);
    assert!(f.token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
    assert!(!f.token.check_access(PATIENT, DOCTOR, id(1), CAT_XRAY));
    assert!(!f.token.check_access(PATIENT, DOCTOR, id(1), B256::ZERO));
    assert!(!f.token.check_access(PATIENT, OTHER_DOCTOR, id(1), CAT_LAB));
}

#[test]
fn has_access_resolves_a_category_grant_through_the_record_registry() {
    let mut f = fixture();
    f.grant_category(CAT_LAB);
    assert!(f.doctor_reads(LAB_RECORDS.start));
    assert!(f.doctor_reads(LAB_RECORDS.end - 1));
    assert!(!f.doctor_reads(XRAY_RECORDS.start));
    // A record without a category matches no category grant.
    assert!(!f.doctor_reads(1));
}

#[test]
fn has_access_never_opens_another_patients_record() {
    let mut f = fixture();
    let other = OTHER_PATIENTS_RECORDS;
    // Every kind of scope PATIENT can give, naming OTHER_PATIENT's record too.
    f.grant_all(DOCTOR);
    f.grant_records(ids([1, other]));
    f.grant_category(CAT_LAB);
    assert!(f.doctor_reads(1));
    assert!(
        !f.doctor_reads(other),
        "PATIENT's grant, OTHER_PATIENT's record"
    );
    assert!(!f.token.has_access(OTHER_PATIENT, DOCTOR, id(other)));
    // Nor a record nobody holds, nor a patient reading another's record.
    assert!(!f.doctor_reads(2 * other));
    assert!(!f.token.has_access(PATIENT, PATIENT, id(other)));
    assert!(f.token.has_access(OTHER_PATIENT, OTHER_PATIENT, id(other)));
}

#[test]
fn has_access_never_opens_another_patients_record_in_an_emergency() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    assert!(f.doctor_reads(1));
    assert!(!f.doctor_reads(OTHER_PATIENTS_RECORDS));
}

#[test]
fn has_access_is_false_while_no_record_registry_is_linked() {
    let mut f = unlinked_fixture();
    f.grant_all(DOCTOR);
    f.grant_category(CAT_LAB);
    assert!(!f.doctor_reads(1));
    assert!(!f.token.has_access(PATIENT, PATIENT, id(1)));
    // The RecordRegistry's own question, which vouches for the record, still holds.
    assert!(f.token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
}

#[test]
fn has_access_is_false_when_the_record_registry_has_no_code() {
    let mut f = unlinked_fixture();
    f.token
        .send(OWNER, |t| t.link_record_registry(NO_CODE))
        .unwrap();
    f.grant_category(CAT_LAB);
    f.grant_records(ids([1]));
    assert!(!f.doctor_reads(1), "fails closed");
    assert!(!f.token.has_access(PATIENT, PATIENT, id(1)));
}

#[test]
fn a_grant_stops_granting_at_its_expiry() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    let expiry = f.token.grant_info(token_id).unwrap().3;
    f.chain.advance(expiry - 1 - f.chain.timestamp());
    assert!(f.doctor_reads(1));
    f.chain.advance(1);
    assert_eq!(f.chain.timestamp(), expiry);
    assert!(!f.doctor_reads(1));
    assert!(!f.token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
    // The token itself lives on until revoked.
    assert_eq!(f.token.owner_of(token_id).unwrap(), DOCTOR);
    assert_eq!(f.token.tokens_of(PATIENT, DOCTOR), vec![token_id]);
}

#[test]
fn an_expired_grant_does_not_hide_a_live_one() {
    let mut f = fixture();
    let expiry = f.chain.timestamp() + 10;
    f.token
        .send(PATIENT, |t| {
            t.grant(DOCTOR, expiry, ScopeKind::All as u8, B256::ZERO, vec![])
        })
        .unwrap();
    f.grant_records(ids([1]));
    f.chain.advance(10);
    assert!(f.doctor_reads(1));
    assert!(!f.doctor_reads(2));
}

#[test]
fn suspension_stops_every_grant_and_reinstatement_restores_it() {
    let mut f = fixture();
    f.grant_all(DOCTOR);
    f.grant_category(CAT_LAB);
    careledger::suspend_doctor(&f.chain, DOCTOR);
    assert!(!f.doctor_reads(1));
    assert!(!f.token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
    careledger::verify_doctors(&f.chain, &[DOCTOR]);
    assert!(f.doctor_reads(1));
    assert!(f.token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
}

#[test]
fn has_access_is_false_when_the_registry_cannot_be_asked() {
    let (_chain, token) = token_without_registry();
    assert!(!token.has_access(PATIENT, DOCTOR, id(1)));
    assert!(!token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
    // The patient reading its own record, as RecordRegistry asks it, needs no registry.
    assert!(token.check_access(PATIENT, PATIENT, id(1), CAT_LAB));
}

// ---------------------------------------------------------------- emergency access

#[test]
fn open_emergency_access_opens_every_record_for_the_window_and_logs() {
    let mut f = fixture();
    let now = f.chain.timestamp();
    let end = f
        .token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    assert_eq!(end, now + EMERGENCY_WINDOW_SECS);
    assert_eq!(f.token.emergency_expiry(PATIENT, DOCTOR), end);
    let e = only_event::<EmergencyAccess>(&f.chain.take_logs(), TOKEN);
    assert_eq!(
        (e.patient, e.doctor, e.expiresAt, e.reason),
        (PATIENT, DOCTOR, end, UNCONSCIOUS)
    );
    assert!(f.doctor_reads(1));
    assert!(f.doctor_reads(999));
    assert!(f.token.check_access(PATIENT, DOCTOR, id(1), CAT_LAB));
    assert!(!f.token.has_access(OTHER_PATIENT, DOCTOR, id(1)));
    assert!(!f.token.has_access(PATIENT, OTHER_DOCTOR, id(1)));
    assert_eq!(f.token.total_minted(), U256::ZERO);
}

#[test]
fn emergency_access_ends_after_the_window() {
    let mut f = fixture();
    let end = f
        .token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    f.chain.advance(EMERGENCY_WINDOW_SECS - 1);
    assert!(f.doctor_reads(1));
    f.chain.advance(1);
    assert_eq!(f.chain.timestamp(), end);
    assert!(!f.doctor_reads(1));
    let err = f
        .token
        .send(PATIENT, |t| t.close_emergency_access(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::NoEmergencyAccess(_)));
    // An expired window cannot be closed, so it bars nothing.
    assert_eq!(f.token.emergency_barred_until(PATIENT, DOCTOR), 0);
}

#[test]
fn opening_emergency_access_again_restarts_the_window() {
    let mut f = fixture();
    f.token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    f.chain.advance(HOUR);
    let end = f
        .token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    assert_eq!(end, f.chain.timestamp() + EMERGENCY_WINDOW_SECS);
    f.chain.advance(EMERGENCY_WINDOW_SECS - 1);
    assert!(f.doctor_reads(1));
}

#[test]
fn open_emergency_access_requires_a_verified_doctor() {
    let mut f = fixture();
    careledger::suspend_doctor(&f.chain, OTHER_DOCTOR);
    f.chain.take_logs();
    for caller in [PENDING_DOCTOR, OTHER_DOCTOR, STRANGER, OTHER_PATIENT] {
        let err = f
            .token
            .send(caller, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
            .unwrap_err();
        assert!(
            matches!(err, Error::DoctorNotVerified(ref e) if e.doctor == caller),
            "{caller}: {err:?}"
        );
        assert_eq!(f.token.emergency_expiry(PATIENT, caller), 0);
    }
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn open_emergency_access_requires_a_registered_patient() {
    let mut f = fixture();
    for patient in [STRANGER, OTHER_DOCTOR, Address::ZERO] {
        let err = f
            .token
            .send(DOCTOR, |t| t.open_emergency_access(patient, UNCONSCIOUS))
            .unwrap_err();
        assert!(matches!(err, Error::NotPatient(ref e) if e.account == patient));
    }
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn open_emergency_access_on_oneself_reverts() {
    let mut f = fixture();
    f.registry
        .send(DOCTOR, |r| r.register_patient(B256::repeat_byte(0x11)))
        .unwrap();
    let err = f
        .token
        .send(DOCTOR, |t| t.open_emergency_access(DOCTOR, UNCONSCIOUS))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidGrantee(ref e) if e.doctor == DOCTOR));
    assert_eq!(f.token.emergency_expiry(DOCTOR, DOCTOR), 0);
}

#[test]
fn open_emergency_access_reverts_when_the_registry_cannot_be_asked() {
    let (chain, mut token) = token_without_registry();
    chain.as_sender(DOCTOR);
    let err = chain
        .tx(|| token.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap_err();
    assert!(matches!(err, Error::RegistryUnavailable(ref e) if e.registry == NO_CODE));
    assert_eq!(token.emergency_expiry(PATIENT, DOCTOR), 0);
}

#[test]
fn suspension_closes_emergency_access_until_reinstatement() {
    let mut f = fixture();
    f.token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    careledger::suspend_doctor(&f.chain, DOCTOR);
    assert!(!f.doctor_reads(1));
    careledger::verify_doctors(&f.chain, &[DOCTOR]);
    assert!(f.doctor_reads(1));
}

#[test]
fn close_emergency_access_ends_it_early_and_logs() {
    let mut f = fixture();
    f.token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    f.chain.take_logs();
    f.token
        .send(PATIENT, |t| t.close_emergency_access(DOCTOR))
        .unwrap();
    assert_eq!(f.token.emergency_expiry(PATIENT, DOCTOR), 0);
    assert!(!f.doctor_reads(1));
    let e = only_event::<EmergencyAccessClosed>(&f.chain.take_logs(), TOKEN);
    assert_eq!(
        (e.patient, e.doctor, e.barredUntil),
        (PATIENT, DOCTOR, f.chain.timestamp() + EMERGENCY_BAR_SECS)
    );
}

#[test]
fn close_emergency_access_without_an_open_window_reverts() {
    let mut f = fixture();
    let err = f
        .token
        .send(PATIENT, |t| t.close_emergency_access(DOCTOR))
        .unwrap_err();
    assert!(
        matches!(err, Error::NoEmergencyAccess(ref e) if e.patient == PATIENT && e.doctor == DOCTOR)
    );
}

#[test]
fn close_emergency_access_twice_reverts() {
    let mut f = fixture();
    f.token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    f.token
        .send(PATIENT, |t| t.close_emergency_access(DOCTOR))
        .unwrap();
    f.chain.take_logs();
    let err = f
        .token
        .send(PATIENT, |t| t.close_emergency_access(DOCTOR))
        .unwrap_err();
    assert!(matches!(err, Error::NoEmergencyAccess(_)));
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn only_the_patient_can_close_its_emergency_access() {
    let mut f = fixture();
    f.token
        .send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS))
        .unwrap();
    // Anyone else closing "their" window on DOCTOR finds none.
    for caller in [OTHER_PATIENT, DOCTOR, STRANGER] {
        let err = f
            .token
            .send(caller, |t| t.close_emergency_access(DOCTOR))
            .unwrap_err();
        assert!(matches!(err, Error::NoEmergencyAccess(ref e) if e.patient == caller));
    }
    assert!(f.doctor_reads(1));
}

// ---------------------------------------------------------------- break-glass: reason codes

#[test]
fn a_reason_of_zero_or_above_four_reverts_with_invalid_reason() {
    let mut f = fixture();
    for reason in [0u8, 5, 6, u8::MAX] {
        let err = f
            .token
            .send(DOCTOR, |t| t.open_emergency_access(PATIENT, reason))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidReason(ref e) if e.reason == reason),
            "{reason}: {err:?}"
        );
    }
    assert_eq!(f.token.emergency_expiry(PATIENT, DOCTOR), 0);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 0);
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn every_reason_from_one_to_four_opens_and_is_logged_with_the_window() {
    let mut f = fixture();
    f.set_limit(OWNER, 4).unwrap();
    f.chain.take_logs();
    for reason in [
        UNCONSCIOUS,
        LIFE_THREATENING,
        CANNOT_COMMUNICATE,
        OTHER_URGENT,
    ] {
        let end = f
            .token
            .send(DOCTOR, |t| t.open_emergency_access(PATIENT, reason))
            .unwrap();
        let logs = f.chain.take_logs();
        let e = only_event::<EmergencyAccess>(&logs, TOKEN);
        assert_eq!(
            (e.patient, e.doctor, e.expiresAt, e.reason),
            (PATIENT, DOCTOR, end, reason)
        );
        // patient and doctor are indexed: a notifier filters on them.
        assert_eq!(logs[0].topics[1], PATIENT.into_word());
        assert_eq!(logs[0].topics[2], DOCTOR.into_word());
        f.chain.advance(1);
    }
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 4);
}

#[test]
fn open_emergency_access_reports_the_first_failing_rule_in_the_documented_order() {
    let mut f = fixture();
    // DOCTOR is barred on PATIENT and has used its three openings of the day.
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    let barred_until = f.token.emergency_barred_until(PATIENT, DOCTOR);
    f.registry
        .send(DOCTOR, |r| r.register_patient(B256::repeat_byte(0x11)))
        .unwrap();

    f.pause();
    let err = f
        .token
        .send(PENDING_DOCTOR, |t| {
            t.open_emergency_access(PENDING_DOCTOR, 0)
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidReason(_)), "{err:?}");
    let err = f.open(DOCTOR, DOCTOR).unwrap_err();
    assert!(matches!(err, Error::InvalidGrantee(_)), "{err:?}");
    let err = f.open(PENDING_DOCTOR, STRANGER).unwrap_err();
    assert!(matches!(err, Error::EnforcedPause(_)), "{err:?}");
    f.unpause();

    let err = f.open(PENDING_DOCTOR, STRANGER).unwrap_err();
    assert!(matches!(err, Error::DoctorNotVerified(_)), "{err:?}");
    let err = f.open(DOCTOR, STRANGER).unwrap_err();
    assert!(matches!(err, Error::NotPatient(_)), "{err:?}");

    careledger::set_custodians(&f.chain, PATIENT, &[]);
    let err = f.open(DOCTOR, PATIENT).unwrap_err();
    assert!(matches!(err, Error::NoEmergencyCustodian(_)), "{err:?}");
    careledger::set_custodians(&f.chain, PATIENT, &[CUSTODIAN]);

    let err = f.open(DOCTOR, PATIENT).unwrap_err();
    assert!(
        matches!(err, Error::EmergencyBarred(ref e) if e.barredUntil == barred_until),
        "{err:?}"
    );
    let err = f.open(DOCTOR, OTHER_PATIENT).unwrap_err();
    assert!(matches!(err, Error::EmergencyLimitReached(_)), "{err:?}");
}

// ---------------------------------------------------------------- break-glass: custodians

#[test]
fn a_patient_without_custodians_cannot_be_opened() {
    let mut f = fixture();
    let [fresh] = f.more_patients(1)[..] else {
        unreachable!()
    };
    careledger::set_custodians(&f.chain, fresh, &[]);
    careledger::set_custodians(&f.chain, PATIENT, &[]);
    f.chain.take_logs();
    for patient in [PATIENT, fresh] {
        for doctor in [DOCTOR, OTHER_DOCTOR] {
            let err = f.open(doctor, patient).unwrap_err();
            assert!(
                matches!(err, Error::NoEmergencyCustodian(ref e) if e.patient == patient),
                "{err:?}"
            );
            assert_eq!(f.token.emergency_expiry(patient, doctor), 0);
            assert!(!f.token.has_emergency_access(patient, doctor));
        }
    }
    // A refused opening is not counted against the doctor.
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 0);
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn a_patient_who_never_named_a_custodian_cannot_be_opened() {
    let mut f = fixture();
    let fresh = addr(0x30);
    f.registry
        .send(fresh, |r| r.register_patient(B256::repeat_byte(0x30)))
        .unwrap();
    let err = f.open(DOCTOR, fresh).unwrap_err();
    assert!(matches!(err, Error::NoEmergencyCustodian(ref e) if e.patient == fresh));
}

#[test]
fn naming_a_custodian_turns_break_glass_on_and_clearing_the_list_turns_it_off_again() {
    let mut f = fixture();
    let fresh = addr(0x30);
    f.registry
        .send(fresh, |r| r.register_patient(B256::repeat_byte(0x30)))
        .unwrap();
    assert!(matches!(
        f.open(DOCTOR, fresh),
        Err(Error::NoEmergencyCustodian(_))
    ));
    careledger::set_custodians(&f.chain, fresh, &[CUSTODIAN]);
    f.open(DOCTOR, fresh).unwrap();

    careledger::set_custodians(&f.chain, fresh, &[]);
    assert!(matches!(
        f.open(OTHER_DOCTOR, fresh),
        Err(Error::NoEmergencyCustodian(_))
    ));
    assert!(matches!(
        f.open(DOCTOR, fresh),
        Err(Error::NoEmergencyCustodian(_))
    ));
    // Clearing stops new windows; a window already open is the patient's to close.
    f.close(fresh, DOCTOR).unwrap();
    assert!(!f.token.has_emergency_access(fresh, DOCTOR));

    careledger::set_custodians(&f.chain, fresh, &[OTHER_PATIENT]);
    f.open(OTHER_DOCTOR, fresh).unwrap();
}

// ---------------------------------------------------------------- break-glass: daily limit

#[test]
fn the_default_daily_limit_is_three_after_construction() {
    let f = fixture();
    assert_eq!(f.token.emergency_daily_limit(), 3);
    assert_eq!(DEFAULT_EMERGENCY_DAILY_LIMIT, 3);
    assert_eq!(
        f.token.call(STRANGER, I::emergencyDailyLimitCall {}),
        Ok(DEFAULT_EMERGENCY_DAILY_LIMIT)
    );
}

#[test]
fn a_doctor_opens_three_windows_a_day_across_ten_patients_and_the_fourth_reverts() {
    let mut f = fixture();
    let patients = f.more_patients(10);
    for &p in &patients[..3] {
        f.open(DOCTOR, p).unwrap();
    }
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 3);
    f.chain.take_logs();
    for &p in &patients[3..] {
        let err = f.open(DOCTOR, p).unwrap_err();
        assert!(
            matches!(err, Error::EmergencyLimitReached(ref e) if e.doctor == DOCTOR && e.limit == 3),
            "{err:?}"
        );
        assert_eq!(f.token.emergency_expiry(p, DOCTOR), 0);
    }
    assert!(f.chain.take_logs().is_empty());
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 3);
    // The limit is the doctor's, not the patient's.
    f.open(OTHER_DOCTOR, patients[3]).unwrap();

    f.chain.advance(DAY);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 0);
    f.open(DOCTOR, patients[3]).unwrap();
}

#[test]
fn the_daily_count_is_rolling_and_not_per_calendar_day() {
    let mut f = fixture();
    let p = f.more_patients(6);
    let t = f.chain.timestamp();
    f.open(DOCTOR, p[0]).unwrap();
    f.advance_to(t + 10 * HOUR);
    f.open(DOCTOR, p[1]).unwrap();
    f.advance_to(t + 20 * HOUR);
    f.open(DOCTOR, p[2]).unwrap();

    f.advance_to(t + DAY - 1);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 3);
    assert!(matches!(
        f.open(DOCTOR, p[3]),
        Err(Error::EmergencyLimitReached(_))
    ));
    // The opening at t ages out 24 hours later (the period's end is exclusive).
    f.advance_to(t + EMERGENCY_LIMIT_PERIOD_SECS);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 2);

    f.advance_to(t + DAY + 1);
    f.open(DOCTOR, p[3]).unwrap();
    assert!(matches!(
        f.open(DOCTOR, p[4]),
        Err(Error::EmergencyLimitReached(_))
    ));
    // Then the opening at t+10h ages out, and one more is allowed again.
    f.advance_to(t + 34 * HOUR + 1);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 2);
    f.open(DOCTOR, p[4]).unwrap();
    assert!(matches!(
        f.open(DOCTOR, p[5]),
        Err(Error::EmergencyLimitReached(_))
    ));
}

#[test]
fn reopening_the_same_patient_counts_as_another_opening() {
    let mut f = fixture();
    for _ in 0..3 {
        f.open(DOCTOR, PATIENT).unwrap();
        f.chain.advance(HOUR);
    }
    for patient in [PATIENT, OTHER_PATIENT] {
        assert!(matches!(
            f.open(DOCTOR, patient),
            Err(Error::EmergencyLimitReached(ref e)) if e.limit == 3
        ));
    }
    // The refused re-opening did not extend the window.
    let first_end = f.token.emergency_expiry(PATIENT, DOCTOR);
    assert_eq!(
        first_end,
        f.chain.timestamp() - HOUR + EMERGENCY_WINDOW_SECS
    );
}

#[test]
fn a_refused_opening_does_not_count_towards_the_limit() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    for _ in 0..5 {
        assert!(matches!(
            f.open(DOCTOR, PATIENT),
            Err(Error::EmergencyBarred(_))
        ));
        assert!(matches!(
            f.token
                .send(DOCTOR, |t| t.open_emergency_access(OTHER_PATIENT, 0)),
            Err(Error::InvalidReason(_))
        ));
        assert!(matches!(
            f.open(DOCTOR, STRANGER),
            Err(Error::NotPatient(_))
        ));
    }
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 1);
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    assert!(matches!(
        f.open(DOCTOR, OTHER_PATIENT),
        Err(Error::EmergencyLimitReached(_))
    ));
}

#[test]
fn only_the_registry_owner_sets_the_daily_limit() {
    let mut f = fixture();
    for caller in [STRANGER, VERIFIER, PATIENT, DOCTOR, CUSTODIAN, TOKEN] {
        let err = f.set_limit(caller, 16).unwrap_err();
        assert!(
            matches!(err, Error::NotRegistryOwner(ref e) if e.account == caller),
            "{caller}: {err:?}"
        );
    }
    assert_eq!(f.token.emergency_daily_limit(), 3);
    assert!(f.chain.take_logs().is_empty());

    // The right follows a registry ownership handover.
    f.registry
        .send(OWNER, |r| r.transfer_ownership(STRANGER))
        .unwrap();
    f.registry.send(STRANGER, |r| r.accept_ownership()).unwrap();
    assert!(matches!(
        f.set_limit(OWNER, 5),
        Err(Error::NotRegistryOwner(_))
    ));
    f.set_limit(STRANGER, 5).unwrap();
    assert_eq!(f.token.emergency_daily_limit(), 5);
}

#[test]
fn set_emergency_daily_limit_logs_and_accepts_up_to_sixteen() {
    let mut f = fixture();
    for limit in [0, 1, 7, MAX_EMERGENCY_DAILY_LIMIT] {
        f.set_limit(OWNER, limit).unwrap();
        assert_eq!(f.token.emergency_daily_limit(), limit);
        assert_eq!(
            only_event::<EmergencyLimitSet>(&f.chain.take_logs(), TOKEN).limit,
            limit
        );
    }
}

#[test]
fn a_daily_limit_above_sixteen_reverts_with_invalid_emergency_limit() {
    let mut f = fixture();
    for limit in [17u8, 100, u8::MAX] {
        let err = f.set_limit(OWNER, limit).unwrap_err();
        assert!(
            matches!(err, Error::InvalidEmergencyLimit(ref e) if e.limit == limit),
            "{limit}: {err:?}"
        );
    }
    assert_eq!(f.token.emergency_daily_limit(), 3);
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn a_daily_limit_of_zero_turns_break_glass_off_for_every_doctor() {
    let mut f = fixture();
    f.set_limit(OWNER, 0).unwrap();
    for doctor in [DOCTOR, OTHER_DOCTOR] {
        let err = f.open(doctor, PATIENT).unwrap_err();
        assert!(
            matches!(err, Error::EmergencyLimitReached(ref e) if e.doctor == doctor && e.limit == 0),
            "{err:?}"
        );
    }
    f.set_limit(OWNER, 1).unwrap();
    f.open(DOCTOR, PATIENT).unwrap();
    assert!(matches!(
        f.open(DOCTOR, OTHER_PATIENT),
        Err(Error::EmergencyLimitReached(ref e)) if e.limit == 1
    ));
}

#[test]
fn sixteen_openings_a_day_are_allowed_at_the_highest_limit_and_not_seventeen() {
    let mut f = fixture();
    f.set_limit(OWNER, MAX_EMERGENCY_DAILY_LIMIT).unwrap();
    for _ in 0..MAX_EMERGENCY_DAILY_LIMIT {
        f.open(DOCTOR, PATIENT).unwrap();
        f.chain.advance(60);
    }
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 16);
    assert!(matches!(
        f.open(DOCTOR, OTHER_PATIENT),
        Err(Error::EmergencyLimitReached(ref e)) if e.limit == 16
    ));
    // The first opening ages out a day after it, and frees exactly one place.
    f.chain.advance(DAY - 16 * 60);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 15);
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    assert!(f.open(DOCTOR, OTHER_PATIENT).is_err());
}

#[test]
fn lowering_the_limit_applies_at_once_to_openings_already_made() {
    let mut f = fixture();
    f.set_limit(OWNER, 5).unwrap();
    for _ in 0..5 {
        f.open(DOCTOR, PATIENT).unwrap();
    }
    f.set_limit(OWNER, 2).unwrap();
    assert!(matches!(
        f.open(DOCTOR, OTHER_PATIENT),
        Err(Error::EmergencyLimitReached(ref e)) if e.limit == 2
    ));
    f.set_limit(OWNER, 6).unwrap();
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    assert!(f.open(DOCTOR, OTHER_PATIENT).is_err());
}

// ---------------------------------------------------------------- break-glass: bars

#[test]
fn closing_bars_that_doctor_on_that_patient_for_thirty_days() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    f.chain.advance(HOUR);
    let closed_at = f.chain.timestamp();
    f.chain.take_logs();
    f.close(PATIENT, DOCTOR).unwrap();
    let barred_until = closed_at + 30 * DAY;
    assert_eq!(EMERGENCY_BAR_SECS, 30 * DAY);
    assert_eq!(
        f.token.emergency_barred_until(PATIENT, DOCTOR),
        barred_until
    );
    let e = only_event::<EmergencyAccessClosed>(&f.chain.take_logs(), TOKEN);
    assert_eq!(
        (e.patient, e.doctor, e.barredUntil),
        (PATIENT, DOCTOR, barred_until)
    );

    for reason in [UNCONSCIOUS, OTHER_URGENT] {
        let err = f
            .token
            .send(DOCTOR, |t| t.open_emergency_access(PATIENT, reason))
            .unwrap_err();
        assert!(
            matches!(err, Error::EmergencyBarred(ref e)
                if e.patient == PATIENT && e.doctor == DOCTOR && e.barredUntil == barred_until),
            "{err:?}"
        );
    }
    assert_eq!(f.token.emergency_expiry(PATIENT, DOCTOR), 0);
    assert!(f.chain.take_logs().is_empty());
    // The bar is on this pair only.
    assert_eq!(f.token.emergency_barred_until(PATIENT, OTHER_DOCTOR), 0);
    assert_eq!(f.token.emergency_barred_until(OTHER_PATIENT, DOCTOR), 0);
    f.open(OTHER_DOCTOR, PATIENT).unwrap();
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
}

#[test]
fn a_bar_leaves_the_doctors_grants_alone() {
    let mut f = fixture();
    f.grant_all(DOCTOR);
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    assert!(f.doctor_reads(1));
    assert!(!f.token.has_emergency_access(PATIENT, DOCTOR));
}

#[test]
fn the_bar_ends_by_itself_after_thirty_days() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    let barred_until = f.token.emergency_barred_until(PATIENT, DOCTOR);
    f.advance_to(barred_until - 1);
    assert!(matches!(
        f.open(DOCTOR, PATIENT),
        Err(Error::EmergencyBarred(_))
    ));
    f.chain.advance(1);
    f.open(DOCTOR, PATIENT).unwrap();
    assert!(f.token.has_emergency_access(PATIENT, DOCTOR));
    // An ended bar cannot be lifted.
    assert!(matches!(f.lift(PATIENT, DOCTOR), Err(Error::NotBarred(_))));
}

#[test]
fn lifting_the_bar_lets_the_doctor_reopen_at_once() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    f.chain.take_logs();
    f.lift(PATIENT, DOCTOR).unwrap();
    let e = only_event::<EmergencyBarLifted>(&f.chain.take_logs(), TOKEN);
    assert_eq!((e.patient, e.doctor), (PATIENT, DOCTOR));
    assert_eq!(f.token.emergency_barred_until(PATIENT, DOCTOR), 0);
    f.open(DOCTOR, PATIENT).unwrap();
    assert!(f.token.has_emergency_access(PATIENT, DOCTOR));

    // A second close bars again, from its own moment.
    f.chain.advance(HOUR);
    f.close(PATIENT, DOCTOR).unwrap();
    assert_eq!(
        f.token.emergency_barred_until(PATIENT, DOCTOR),
        f.chain.timestamp() + EMERGENCY_BAR_SECS
    );
}

#[test]
fn lifting_without_a_bar_reverts_with_not_barred() {
    let mut f = fixture();
    let err = f.lift(PATIENT, DOCTOR).unwrap_err();
    assert!(
        matches!(err, Error::NotBarred(ref e) if e.patient == PATIENT && e.doctor == DOCTOR),
        "{err:?}"
    );
    // An open window is no bar either.
    f.open(DOCTOR, PATIENT).unwrap();
    assert!(matches!(f.lift(PATIENT, DOCTOR), Err(Error::NotBarred(_))));
    f.close(PATIENT, DOCTOR).unwrap();
    f.lift(PATIENT, DOCTOR).unwrap();
    f.chain.take_logs();
    assert!(matches!(f.lift(PATIENT, DOCTOR), Err(Error::NotBarred(_))));
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn a_barred_doctor_cannot_lift_its_own_bar_nor_can_anyone_but_the_patient() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    let barred_until = f.token.emergency_barred_until(PATIENT, DOCTOR);
    for caller in [DOCTOR, OTHER_PATIENT, CUSTODIAN, OWNER, VERIFIER, STRANGER] {
        let err = f.lift(caller, DOCTOR).unwrap_err();
        assert!(
            matches!(err, Error::NotBarred(ref e) if e.patient == caller && e.doctor == DOCTOR),
            "{caller}: {err:?}"
        );
    }
    assert_eq!(
        f.token.emergency_barred_until(PATIENT, DOCTOR),
        barred_until
    );
    assert!(matches!(
        f.open(DOCTOR, PATIENT),
        Err(Error::EmergencyBarred(_))
    ));
}

#[test]
fn a_patient_lifts_only_its_own_bar_on_a_doctor() {
    let mut f = fixture();
    for patient in [PATIENT, OTHER_PATIENT] {
        f.open(DOCTOR, patient).unwrap();
        f.close(patient, DOCTOR).unwrap();
    }
    let other_bar = f.token.emergency_barred_until(OTHER_PATIENT, DOCTOR);
    f.lift(PATIENT, DOCTOR).unwrap();
    assert_eq!(f.token.emergency_barred_until(PATIENT, DOCTOR), 0);
    assert_eq!(
        f.token.emergency_barred_until(OTHER_PATIENT, DOCTOR),
        other_bar
    );
    f.open(DOCTOR, PATIENT).unwrap();
    assert!(matches!(
        f.open(DOCTOR, OTHER_PATIENT),
        Err(Error::EmergencyBarred(ref e)) if e.patient == OTHER_PATIENT
    ));
}

// ---------------------------------------------------------------- break-glass: pause

#[test]
fn a_registry_pause_stops_new_windows_and_grants_while_revoke_close_and_lift_still_work() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    f.open(DOCTOR, PATIENT).unwrap();
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    f.close(OTHER_PATIENT, DOCTOR).unwrap();
    f.pause();
    f.chain.take_logs();

    for (doctor, patient) in [(OTHER_DOCTOR, PATIENT), (OTHER_DOCTOR, OTHER_PATIENT)] {
        let err = f.open(doctor, patient).unwrap_err();
        assert!(matches!(err, Error::EnforcedPause(_)), "{err:?}");
    }
    let err = f
        .try_grant(OTHER_DOCTOR, ScopeKind::All as u8, B256::ZERO, vec![])
        .unwrap_err();
    assert!(matches!(err, Error::EnforcedPause(_)), "{err:?}");
    assert_eq!(f.token.total_minted(), id(1));
    assert_eq!(f.token.emergency_opens_last_day(OTHER_DOCTOR), 0);
    assert!(f.chain.take_logs().is_empty());

    // What protects the patient goes on.
    f.token.send(PATIENT, |t| t.revoke(token_id)).unwrap();
    assert!(f.token.has_emergency_access(PATIENT, DOCTOR));
    f.close(PATIENT, DOCTOR).unwrap();
    f.lift(OTHER_PATIENT, DOCTOR).unwrap();
    assert_eq!(
        topic0s(&f.chain.take_logs()),
        vec![
            Transfer::SIGNATURE_HASH,
            AccessRevoked::SIGNATURE_HASH,
            EmergencyAccessClosed::SIGNATURE_HASH,
            EmergencyBarLifted::SIGNATURE_HASH
        ]
    );
    assert!(!f.doctor_reads(1));

    f.unpause();
    f.open(OTHER_DOCTOR, PATIENT).unwrap();
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    f.grant_all(OTHER_DOCTOR);
}

#[test]
fn a_window_open_before_a_pause_stays_open_through_it() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    f.pause();
    assert!(f.token.has_emergency_access(PATIENT, DOCTOR));
    assert!(f.doctor_reads(1));
    // Re-opening to extend it is a new window: refused.
    assert!(matches!(
        f.open(DOCTOR, PATIENT),
        Err(Error::EnforcedPause(_))
    ));
}

// ---------------------------------------------------------------- break-glass: views

#[test]
fn has_emergency_access_holds_only_inside_the_window() {
    let mut f = fixture();
    assert!(!f.token.has_emergency_access(PATIENT, DOCTOR));
    let end = f.open(DOCTOR, PATIENT).unwrap();
    assert!(f.token.has_emergency_access(PATIENT, DOCTOR));
    assert!(!f.token.has_emergency_access(OTHER_PATIENT, DOCTOR));
    assert!(!f.token.has_emergency_access(PATIENT, OTHER_DOCTOR));
    assert!(!f.token.has_emergency_access(PATIENT, PATIENT));
    assert!(!f.token.has_emergency_access(Address::ZERO, DOCTOR));
    assert!(!f.token.has_emergency_access(PATIENT, Address::ZERO));
    // A grant is no emergency window.
    f.grant_all(OTHER_DOCTOR);
    assert!(!f.token.has_emergency_access(PATIENT, OTHER_DOCTOR));

    f.advance_to(end - 1);
    assert!(f.token.has_emergency_access(PATIENT, DOCTOR));
    f.chain.advance(1);
    assert!(!f.token.has_emergency_access(PATIENT, DOCTOR));
}

#[test]
fn has_emergency_access_is_false_after_the_patient_closes_the_window() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    assert!(!f.token.has_emergency_access(PATIENT, DOCTOR));
    f.lift(PATIENT, DOCTOR).unwrap();
    assert!(!f.token.has_emergency_access(PATIENT, DOCTOR));
}

#[test]
fn has_emergency_access_is_false_for_a_suspended_doctor() {
    let mut f = fixture();
    f.open(DOCTOR, PATIENT).unwrap();
    careledger::suspend_doctor(&f.chain, DOCTOR);
    assert!(!f.token.has_emergency_access(PATIENT, DOCTOR));
    assert_eq!(
        f.token.call(
            STRANGER,
            I::hasEmergencyAccessCall {
                patient: PATIENT,
                doctor: DOCTOR
            }
        ),
        Ok(false)
    );
    // Reinstated inside the window, it holds again until the window's end.
    careledger::verify_doctors(&f.chain, &[DOCTOR]);
    assert!(f.token.has_emergency_access(PATIENT, DOCTOR));
}

#[test]
fn has_emergency_access_is_false_when_the_registry_cannot_be_asked() {
    let (_chain, token) = token_without_registry();
    assert!(!token.has_emergency_access(PATIENT, DOCTOR));
}

#[test]
fn emergency_opens_last_day_counts_each_doctors_openings_of_the_last_24_hours() {
    let mut f = fixture();
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 0);
    f.open(DOCTOR, PATIENT).unwrap();
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 1);
    f.chain.advance(HOUR);
    f.open(DOCTOR, OTHER_PATIENT).unwrap();
    f.open(OTHER_DOCTOR, PATIENT).unwrap();
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 2);
    assert_eq!(f.token.emergency_opens_last_day(OTHER_DOCTOR), 1);
    assert_eq!(f.token.emergency_opens_last_day(PATIENT), 0);
    // Closing does not give an opening back.
    f.close(PATIENT, DOCTOR).unwrap();
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 2);

    f.chain.advance(DAY - HOUR);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 1);
    assert_eq!(f.token.emergency_opens_last_day(OTHER_DOCTOR), 1);
    f.chain.advance(HOUR);
    assert_eq!(f.token.emergency_opens_last_day(DOCTOR), 0);
    assert_eq!(f.token.emergency_opens_last_day(OTHER_DOCTOR), 0);
}

// ---------------------------------------------------------------- ERC-721 views

#[test]
fn name_and_symbol() {
    let f = fixture();
    assert_eq!(f.token.name(), "CareLedger Access");
    assert_eq!(f.token.symbol(), "CLA");
}

#[test]
fn balance_of_counts_tokens_per_doctor() {
    let mut f = fixture();
    f.grant_all(DOCTOR);
    f.grant_all(DOCTOR);
    f.grant_all(OTHER_DOCTOR);
    assert_eq!(f.token.balance_of(DOCTOR).unwrap(), id(2));
    assert_eq!(f.token.balance_of(OTHER_DOCTOR).unwrap(), id(1));
    assert_eq!(f.token.balance_of(STRANGER).unwrap(), U256::ZERO);
}

#[test]
fn balance_of_the_zero_address_reverts() {
    let f = fixture();
    assert!(matches!(
        f.token.balance_of(Address::ZERO),
        Err(Error::ERC721InvalidOwner(ref e)) if e.owner.is_zero()
    ));
}

#[test]
fn token_views_revert_for_a_token_that_does_not_exist() {
    let f = fixture();
    let missing = id(42);
    let nonexistent = |r: Result<(), Error>| matches!(r, Err(Error::ERC721NonexistentToken(ref e)) if e.tokenId == missing);
    assert!(nonexistent(f.token.owner_of(missing).map(drop)));
    assert!(nonexistent(f.token.locked(missing).map(drop)));
    assert!(nonexistent(f.token.get_approved(missing).map(drop)));
    assert!(nonexistent(f.token.grant_info(missing).map(drop)));
    assert!(nonexistent(f.token.grant_records(missing).map(drop)));
}

#[test]
fn an_existing_token_is_locked_owned_and_never_approved() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    assert_eq!(f.token.owner_of(token_id).unwrap(), DOCTOR);
    assert!(f.token.locked(token_id).unwrap());
    assert_eq!(f.token.get_approved(token_id).unwrap(), Address::ZERO);
    assert!(!f.token.is_approved_for_all(DOCTOR, PATIENT));
    assert!(!f.token.is_approved_for_all(DOCTOR, DOCTOR));
}

#[test]
fn supports_interface_answers_erc165_erc721_and_erc5192_only() {
    let f = fixture();
    // The ids are computed from the interfaces (`erc721` checks them against
    // the published values).
    for (id, expected) in [
        (<AccessToken as IErc165>::INTERFACE_ID, true),
        (<AccessToken as IErc721>::INTERFACE_ID, true),
        (<AccessToken as IErc5192>::INTERFACE_ID, true),
        (FixedBytes([0xff; 4]), false),
        (FixedBytes::ZERO, false),
        (IERC721_METADATA_ID, false), // no tokenURI
    ] {
        assert_eq!(f.token.supports_interface(id), expected, "{id}");
    }
}

#[test]
fn every_function_of_a_claimed_interface_is_routed() {
    let routed = I::IAccessTokenCalls::SELECTORS;
    let claimed = [
        IERC165::IERC165Calls::SELECTORS,
        IERC721::IERC721Calls::SELECTORS,
        IERC5192::IERC5192Calls::SELECTORS,
    ];
    for selector in claimed.concat() {
        assert!(routed.contains(&selector), "{selector:02x?}");
    }
}

#[test]
fn transfers_always_revert_with_token_locked() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    f.chain.take_logs();
    let locked =
        |r: Result<(), Error>| matches!(r, Err(Error::TokenLocked(ref e)) if e.tokenId == token_id);
    for from in [DOCTOR, PATIENT] {
        assert!(locked(f.token.send(from, |t| t.transfer_from(
            DOCTOR,
            OTHER_DOCTOR,
            token_id
        ))));
        assert!(locked(f.token.send(from, |t| t.safe_transfer_from(
            DOCTOR,
            OTHER_DOCTOR,
            token_id
        ))));
        assert!(locked(f.token.send(from, |t| {
            t.safe_transfer_from_with_data(
                DOCTOR,
                OTHER_DOCTOR,
                token_id,
                Bytes::from(vec![1, 2, 3]),
            )
        })));
    }
    assert_eq!(f.token.owner_of(token_id).unwrap(), DOCTOR);
    assert_eq!(f.token.balance_of(OTHER_DOCTOR).unwrap(), U256::ZERO);
    assert!(f.chain.take_logs().is_empty());
}

#[test]
fn approvals_always_revert_with_approvals_disabled() {
    let mut f = fixture();
    let token_id = f.grant_all(DOCTOR);
    let disabled = |r: Result<(), Error>| matches!(r, Err(Error::ApprovalsDisabled(_)));
    assert!(disabled(
        f.token.send(DOCTOR, |t| t.approve(OTHER_DOCTOR, token_id))
    ));
    assert!(disabled(
        f.token
            .send(DOCTOR, |t| t.set_approval_for_all(OTHER_DOCTOR, true))
    ));
    assert!(disabled(
        f.token
            .send(DOCTOR, |t| t.set_approval_for_all(OTHER_DOCTOR, false))
    ));
    assert_eq!(f.token.get_approved(token_id).unwrap(), Address::ZERO);
    assert!(!f.token.is_approved_for_all(DOCTOR, OTHER_DOCTOR));
}

// ---------------------------------------------------------------- calldata

mod abi {
    alloy_sol_types::sol! {
        #[sol(all_derives)]
        interface IAccessToken {
            function linkRecordRegistry(address recordRegistry) external;
            function grant(address doctor, uint64 expiresAt, uint8 scopeKind, bytes32 category, uint256[] recordIds) external returns (uint256);
            function revoke(uint256 tokenId) external;
            function openEmergencyAccess(address patient, uint8 reason) external returns (uint64);
            function closeEmergencyAccess(address doctor) external;
            function liftEmergencyBar(address doctor) external;
            function setEmergencyDailyLimit(uint8 limit) external;
            function hasEmergencyAccess(address patient, address doctor) external view returns (bool);
            function emergencyBarredUntil(address patient, address doctor) external view returns (uint64);
            function emergencyDailyLimit() external view returns (uint8);
            function emergencyOpensLastDay(address doctor) external view returns (uint8);
            function hasAccess(address patient, address doctor, uint256 recordId) external view returns (bool);
            function checkAccess(address patient, address doctor, uint256 recordId, bytes32 category) external view returns (bool);
            function emergencyExpiry(address patient, address doctor) external view returns (uint64);
            function emergencyWindow() external view returns (uint64);
            function grantInfo(uint256 tokenId) external view returns (address, address, uint64, uint64, uint8, bytes32);
            function grantRecords(uint256 tokenId) external view returns (uint256[]);
            function tokensOf(address patient, address doctor) external view returns (uint256[]);
            function patientRegistry() external view returns (address);
            function recordRegistry() external view returns (address);
            function totalMinted() external view returns (uint256);
            function name() external view returns (string);
            function symbol() external view returns (string);
            function balanceOf(address owner) external view returns (uint256);
            function ownerOf(uint256 tokenId) external view returns (address);
            function locked(uint256 tokenId) external view returns (bool);
            function getApproved(uint256 tokenId) external view returns (address);
            function isApprovedForAll(address owner, address operator) external view returns (bool);
            function supportsInterface(bytes4 interfaceId) external view returns (bool);
            function transferFrom(address from, address to, uint256 tokenId) external;
            function safeTransferFrom(address from, address to, uint256 tokenId) external;
            function safeTransferFrom(address from, address to, uint256 tokenId, bytes data) external;
            function approve(address to, uint256 tokenId) external;
            function setApprovalForAll(address operator, bool approved) external;

            error InvalidAddress();
            error NotGrantor(address account, uint256 tokenId);
            error TokenLocked(uint256 tokenId);
            error ApprovalsDisabled();
            error ERC721NonexistentToken(uint256 tokenId);
            error InvalidReason(uint8 reason);
            error NoEmergencyCustodian(address patient);
            error EmergencyBarred(address patient, address doctor, uint64 barredUntil);
            error EmergencyLimitReached(address doctor, uint8 limit);
            error NotBarred(address patient, address doctor);
            error InvalidEmergencyLimit(uint8 limit);
            error EnforcedPause();
            error NotRegistryOwner(address account);
            error AlreadyLinked(address recordRegistry);
        }
    }
}

use abi::IAccessToken as I;
/// The errors a call through the router can revert with.
type Errors = I::IAccessTokenErrors;

#[test]
fn the_erc721_selectors_are_the_standard_ones() {
    assert_eq!(I::transferFromCall::SELECTOR, [0x23, 0xb8, 0x72, 0xdd]);
    assert_eq!(
        I::safeTransferFrom_0Call::SELECTOR,
        [0x42, 0x84, 0x2e, 0x0e]
    );
    assert_eq!(
        I::safeTransferFrom_1Call::SELECTOR,
        [0xb8, 0x8d, 0x4f, 0xde]
    );
    assert_eq!(I::approveCall::SELECTOR, [0x09, 0x5e, 0xa7, 0xb3]);
    assert_eq!(I::setApprovalForAllCall::SELECTOR, [0xa2, 0x2c, 0xb4, 0x65]);
    assert_eq!(I::lockedCall::SELECTOR, [0xb4, 0x5a, 0x3c, 0x0e]);
}

#[test]
#[allow(non_snake_case)] // locals named as the ABI fields, for shorthand literals
fn transfers_and_approvals_revert_through_the_router() {
    let mut f = fixture();
    let tokenId = f.grant_all(DOCTOR);
    let (from, to) = (DOCTOR, OTHER_DOCTOR);
    let locked = |e: I::IAccessTokenErrors| matches!(e, I::IAccessTokenErrors::TokenLocked(ref l) if l.tokenId == tokenId);
    assert!(locked(f.token.revert::<Errors>(
        DOCTOR,
        I::transferFromCall { from, to, tokenId }
    )));
    assert!(locked(f.token.revert::<Errors>(
        DOCTOR,
        I::safeTransferFrom_0Call { from, to, tokenId }
    )));
    let data = vec![0xca, 0xfe].into();
    assert!(locked(f.token.revert::<Errors>(
        DOCTOR,
        I::safeTransferFrom_1Call {
            from,
            to,
            tokenId,
            data
        }
    )));
    let disabled =
        |e: I::IAccessTokenErrors| matches!(e, I::IAccessTokenErrors::ApprovalsDisabled(_));
    assert!(disabled(
        f.token
            .revert::<Errors>(DOCTOR, I::approveCall { to, tokenId })
    ));
    assert!(disabled(f.token.revert::<Errors>(
        DOCTOR,
        I::setApprovalForAllCall {
            operator: to,
            approved: true
        }
    )));
    assert_eq!(
        f.token.call(STRANGER, I::ownerOfCall { tokenId }),
        Ok(DOCTOR)
    );
}

#[test]
#[allow(non_snake_case)] // locals named as the ABI fields, for shorthand literals
fn calldata_routes_to_every_function() {
    let f = fixture();
    let now = f.chain.timestamp();
    let expiresAt = now + HOUR;
    let grant = I::grantCall {
        doctor: DOCTOR,
        expiresAt,
        scopeKind: ScopeKind::Records as u8,
        category: B256::ZERO,
        recordIds: ids([3, 5]),
    };
    let tokenId = f.token.call(PATIENT, grant.clone()).unwrap();
    assert_eq!(tokenId, id(1));
    let second = f.token.call(PATIENT, grant).unwrap();
    assert_eq!(second, id(2));
    let (patient, doctor) = (PATIENT, DOCTOR);

    assert_eq!(f.token.call(STRANGER, I::totalMintedCall {}), Ok(id(2)));
    assert_eq!(
        f.token.call(STRANGER, I::tokensOfCall { patient, doctor }),
        Ok(ids([1, 2]))
    );
    assert_eq!(
        f.token.call(STRANGER, I::grantRecordsCall { tokenId }),
        Ok(ids([3, 5]))
    );
    let info = f
        .token
        .call(STRANGER, I::grantInfoCall { tokenId })
        .unwrap();
    assert_eq!(
        (info._0, info._1, info._2, info._3, info._4, info._5),
        (
            PATIENT,
            DOCTOR,
            now,
            expiresAt,
            ScopeKind::Records as u8,
            B256::ZERO
        )
    );
    let recordId = id(5);
    assert_eq!(
        f.token.call(
            STRANGER,
            I::hasAccessCall {
                patient,
                doctor,
                recordId
            }
        ),
        Ok(true)
    );
    let category = CAT_LAB;
    assert_eq!(
        f.token.call(
            STRANGER,
            I::checkAccessCall {
                patient,
                doctor,
                recordId: id(4),
                category
            }
        ),
        Ok(false)
    );
    f.token
        .call(PATIENT, I::revokeCall { tokenId: second })
        .unwrap();
    assert_eq!(
        f.token.call(STRANGER, I::tokensOfCall { patient, doctor }),
        Ok(ids([1]))
    );

    let reason = LIFE_THREATENING;
    let end = f
        .token
        .call(DOCTOR, I::openEmergencyAccessCall { patient, reason })
        .unwrap();
    assert_eq!(end, now + EMERGENCY_WINDOW_SECS);
    assert_eq!(
        f.token
            .call(STRANGER, I::emergencyExpiryCall { patient, doctor }),
        Ok(end)
    );
    assert_eq!(
        f.token
            .call(STRANGER, I::hasEmergencyAccessCall { patient, doctor }),
        Ok(true)
    );
    assert_eq!(
        f.token
            .call(STRANGER, I::emergencyOpensLastDayCall { doctor }),
        Ok(1)
    );
    f.token
        .call(PATIENT, I::closeEmergencyAccessCall { doctor })
        .unwrap();
    assert_eq!(
        f.token
            .call(STRANGER, I::emergencyExpiryCall { patient, doctor }),
        Ok(0)
    );
    assert_eq!(
        f.token
            .call(STRANGER, I::emergencyBarredUntilCall { patient, doctor }),
        Ok(now + EMERGENCY_BAR_SECS)
    );
    f.token
        .call(PATIENT, I::liftEmergencyBarCall { doctor })
        .unwrap();
    assert_eq!(
        f.token
            .call(STRANGER, I::emergencyBarredUntilCall { patient, doctor }),
        Ok(0)
    );
    f.token
        .call(OWNER, I::setEmergencyDailyLimitCall { limit: 9 })
        .unwrap();
    assert_eq!(f.token.call(STRANGER, I::emergencyDailyLimitCall {}), Ok(9));
    assert_eq!(
        f.token.call(STRANGER, I::emergencyWindowCall {}),
        Ok(EMERGENCY_WINDOW_SECS)
    );

    assert!(matches!(
        f.token.revert::<Errors>(OWNER, I::linkRecordRegistryCall { recordRegistry: NO_CODE }),
        I::IAccessTokenErrors::AlreadyLinked(ref e) if e.recordRegistry == RECORD_BOOK
    ));
    assert_eq!(
        f.token.call(STRANGER, I::recordRegistryCall {}),
        Ok(RECORD_BOOK)
    );
    assert_eq!(
        f.token.call(STRANGER, I::patientRegistryCall {}),
        Ok(REGISTRY)
    );
    assert_eq!(
        f.token.call(STRANGER, I::nameCall {}),
        Ok("CareLedger Access".to_string())
    );
    assert_eq!(
        f.token.call(STRANGER, I::symbolCall {}),
        Ok("CLA".to_string())
    );
    assert_eq!(
        f.token.call(STRANGER, I::balanceOfCall { owner: DOCTOR }),
        Ok(id(1))
    );
    assert_eq!(f.token.call(STRANGER, I::lockedCall { tokenId }), Ok(true));
    assert_eq!(
        f.token.call(STRANGER, I::getApprovedCall { tokenId }),
        Ok(Address::ZERO)
    );
    assert_eq!(
        f.token.call(
            STRANGER,
            I::isApprovedForAllCall {
                owner: DOCTOR,
                operator: PATIENT
            }
        ),
        Ok(false)
    );
    for (id, expected) in [([0x80, 0xac, 0x58, 0xcd], true), ([0xff; 4], false)] {
        let c = I::supportsInterfaceCall {
            interfaceId: FixedBytes(id),
        };
        assert_eq!(f.token.call(STRANGER, c), Ok(expected));
    }
}

#[test]
#[allow(non_snake_case)] // locals named as the ABI fields, for shorthand literals
fn calldata_reverts_carry_the_encoded_error() {
    let mut f = fixture();
    let tokenId = f.grant_all(DOCTOR);
    assert!(matches!(
        f.token.revert::<Errors>(DOCTOR, I::revokeCall { tokenId }),
        I::IAccessTokenErrors::NotGrantor(e) if e.account == DOCTOR && e.tokenId == tokenId
    ));
    assert!(matches!(
        f.token.revert::<Errors>(PATIENT, I::revokeCall { tokenId: id(7) }),
        I::IAccessTokenErrors::ERC721NonexistentToken(e) if e.tokenId == id(7)
    ));
}

#[test]
fn calldata_reverts_of_break_glass_carry_the_encoded_error() {
    let mut f = fixture();
    let (patient, doctor) = (PATIENT, DOCTOR);
    let open = |reason| I::openEmergencyAccessCall { patient, reason };
    assert!(matches!(
        f.token.revert::<Errors>(DOCTOR, open(5)),
        I::IAccessTokenErrors::InvalidReason(e) if e.reason == 5
    ));
    f.open(DOCTOR, PATIENT).unwrap();
    f.close(PATIENT, DOCTOR).unwrap();
    let until = f.token.emergency_barred_until(PATIENT, DOCTOR);
    assert!(matches!(
        f.token.revert::<Errors>(DOCTOR, open(UNCONSCIOUS)),
        I::IAccessTokenErrors::EmergencyBarred(e)
            if e.patient == PATIENT && e.doctor == DOCTOR && e.barredUntil == until
    ));
    assert!(matches!(
        f.token.revert::<Errors>(OTHER_PATIENT, I::liftEmergencyBarCall { doctor }),
        I::IAccessTokenErrors::NotBarred(e) if e.patient == OTHER_PATIENT && e.doctor == DOCTOR
    ));
    assert!(matches!(
        f.token.revert::<Errors>(STRANGER, I::setEmergencyDailyLimitCall { limit: 1 }),
        I::IAccessTokenErrors::NotRegistryOwner(e) if e.account == STRANGER
    ));
    assert!(matches!(
        f.token.revert::<Errors>(OWNER, I::setEmergencyDailyLimitCall { limit: 17 }),
        I::IAccessTokenErrors::InvalidEmergencyLimit(e) if e.limit == 17
    ));
    careledger::set_custodians(&f.chain, OTHER_PATIENT, &[]);
    assert!(matches!(
        f.token.revert::<Errors>(OTHER_DOCTOR, I::openEmergencyAccessCall { patient: OTHER_PATIENT, reason: 1 }),
        I::IAccessTokenErrors::NoEmergencyCustodian(e) if e.patient == OTHER_PATIENT
    ));
    f.set_limit(OWNER, 0).unwrap();
    assert!(matches!(
        f.token.revert::<Errors>(OTHER_DOCTOR, open(UNCONSCIOUS)),
        I::IAccessTokenErrors::EmergencyLimitReached(e) if e.doctor == OTHER_DOCTOR && e.limit == 0
    ));
    f.pause();
    assert!(matches!(
        f.token.revert::<Errors>(OTHER_DOCTOR, open(UNCONSCIOUS)),
        I::IAccessTokenErrors::EnforcedPause(_)
    ));
}

#[test]
fn a_reason_word_above_255_in_raw_calldata_reverts_instead_of_wrapping_around() {
    let f = fixture();
    let valid = I::openEmergencyAccessCall {
        patient: PATIENT,
        reason: UNCONSCIOUS,
    }
    .abi_encode();
    // 0x101 would be reason 1 if the word were truncated to its low byte.
    for high in [U256::from(0x101), U256::from(0x1_0000_0001u64), U256::MAX] {
        let mut data = valid.clone();
        data[4 + 32..].copy_from_slice(&high.to_be_bytes::<32>());
        assert!(f.token.call_raw(DOCTOR, &data).is_err(), "{high:#x}");
    }
    assert_eq!(f.token.emergency_expiry(PATIENT, DOCTOR), 0);
    assert!(f.token.call_raw(DOCTOR, &valid).is_ok());
}

#[test]
fn empty_calldata_reverts() {
    let f = fixture();
    assert!(f.token.call_raw(PATIENT, &[]).is_err());
}

#[test]
fn an_unknown_selector_reverts() {
    let f = fixture();
    for data in [
        vec![0xde, 0xad, 0xbe, 0xef],
        [&[0xde, 0xad, 0xbe, 0xef][..], &[0u8; 64]].concat(),
        vec![0x42],
        vec![0x42, 0x84, 0x2e],
    ] {
        assert!(f.token.call_raw(PATIENT, &data).is_err(), "{data:02x?}");
    }
}

#[test]
fn a_known_selector_with_short_arguments_reverts() {
    let mut f = fixture();
    let grant = I::grantCall {
        doctor: DOCTOR,
        expiresAt: f.later(),
        scopeKind: ScopeKind::Records as u8,
        category: B256::ZERO,
        recordIds: ids([1, 2]),
    }
    .abi_encode();
    for cut in [4, 4 + 31, 4 + 32 * 4, grant.len() - 1] {
        assert!(f.token.call_raw(PATIENT, &grant[..cut]).is_err(), "{cut}");
    }
    let token_id = f.grant_all(DOCTOR);
    let revoke = I::revokeCall { tokenId: token_id }.abi_encode();
    assert!(f.token.call_raw(PATIENT, &revoke[..4 + 16]).is_err());
    let safe = I::safeTransferFrom_1Call {
        from: DOCTOR,
        to: OTHER_DOCTOR,
        tokenId: token_id,
        data: vec![1; 40].into(),
    }
    .abi_encode();
    assert!(f.token.call_raw(DOCTOR, &safe[..safe.len() - 32]).is_err());
    assert_eq!(f.token.total_minted(), id(1));
    assert_eq!(f.token.owner_of(token_id).unwrap(), DOCTOR);
}

#[test]
fn garbage_after_a_valid_selector_reverts() {
    let mut f = fixture();
    f.grant_all(DOCTOR);
    let garbage = [0xffu8; 200];
    // Every argument list starting with an address, a uint64 or an offset is
    // malformed when all its bytes are 0xff.
    for selector in [
        I::grantCall::SELECTOR,
        I::openEmergencyAccessCall::SELECTOR,
        I::closeEmergencyAccessCall::SELECTOR,
        I::linkRecordRegistryCall::SELECTOR,
        I::hasAccessCall::SELECTOR,
        I::safeTransferFrom_1Call::SELECTOR,
    ] {
        let data = [&selector[..], &garbage].concat();
        assert!(f.token.call_raw(PATIENT, &data).is_err(), "{selector:02x?}");
    }
    // An array offset pointing far outside the calldata.
    let data = [
        &I::grantCall::SELECTOR[..],
        &DOCTOR.abi_encode(),
        &U256::from(f.later()).to_be_bytes::<32>(),
        &U256::from(1).to_be_bytes::<32>(),
        &[0u8; 32],
        &U256::MAX.to_be_bytes::<32>(),
    ]
    .concat();
    assert!(f.token.call_raw(PATIENT, &data).is_err());
    assert_eq!(f.token.total_minted(), id(1));
}

proptest! {
    #[test]
    fn random_calldata_never_panics_and_reverts_cleanly(
        data in careledger_testkit::any_calldata!(I::IAccessTokenCalls::SELECTORS, 200),
        from in proptest::sample::select(vec![OWNER, PATIENT, DOCTOR, STRANGER]),
    ) {
        let mut f = fixture();
        let token_id = f.grant_all(DOCTOR);
        f.token.send(DOCTOR, |t| t.open_emergency_access(PATIENT, UNCONSCIOUS)).unwrap();
        // call_raw asserts that a revert changed nothing.
        let _ = f.token.call_raw(from, &data);
        // Whatever happened, the token still answers through the router.
        let answers = f.token.call(STRANGER, I::totalMintedCall {}).is_ok();
        prop_assert!(answers);
        prop_assert!(f.token.total_minted() >= token_id);
    }
}
