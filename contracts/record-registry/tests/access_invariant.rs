//! The access invariant, checked against a model over random histories.
//!
//! A read of a record succeeds if and only if the reader is the record's patient,
//! or is a verified (not pending, not suspended) doctor that holds an open
//! emergency window on that patient, or a live (unrevoked, unexpired) grant from
//! that patient whose scope covers the record.
//!
//! Each case runs a random sequence of register / verify / suspend / grant /
//! revoke / time passing / emergency open and close / addRecord through the three
//! real contracts on one chain, keeps a plain-Rust model of the same history, and
//! after every step compares every (reader, record) pair: `getRecord`,
//! `canRead`, `AccessToken.hasAccess` and, for one pair, `accessRecord` and its
//! event. Every operation's success or failure must also match the model.

use access_token::AccessToken;
use alloy_primitives::{Address, B256, U256};
use careledger_common::{scope, EMERGENCY_WINDOW_SECS, MAX_GRANTS_PER_PAIR};
use careledger_testkit::Chain;
use patient_registry::PatientRegistry;
use proptest::prelude::*;
use record_registry::RecordRegistry;
use std::collections::{BTreeMap, BTreeSet};
use stylus_sdk::abi::{router_entrypoint, Bytes};

const OWNER: Address = addr(0xee);
const VERIFIER: Address = addr(0xdd);
const REGISTRY: Address = addr(0xa1);
const TOKEN: Address = addr(0xa2);
const RECORDS: Address = addr(0xa3);
/// Accounts 1..=5: any of them may try any role.
const ACCOUNTS: u8 = 5;
const CATEGORIES: [B256; 3] = [B256::ZERO, B256::repeat_byte(0x1a), B256::repeat_byte(0x2b)];

const fn addr(n: u8) -> Address {
    let mut b = [0u8; 20];
    b[19] = n;
    Address::new(b)
}

fn account(i: u8) -> Address {
    addr(1 + i % ACCOUNTS)
}

#[derive(Clone, Debug)]
enum Scope {
    All,
    Records(Vec<u8>),
    Category(u8),
}

#[derive(Clone, Debug)]
enum Op {
    RegisterPatient(u8),
    RegisterDoctor(u8),
    Verify(u8),
    Suspend(u8),
    Grant {
        patient: u8,
        doctor: u8,
        ttl: u64,
        scope: Scope,
    },
    Revoke {
        by: u8,
        nth: u8,
    },
    Advance(u64),
    OpenEmergency {
        doctor: u8,
        patient: u8,
    },
    CloseEmergency {
        patient: u8,
        doctor: u8,
    },
    AddRecord {
        patient: u8,
        category: u8,
    },
    AddVersion {
        by: u8,
        record: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..ACCOUNTS;
    let ttl = prop_oneof![
        Just(0u64),
        Just(1),
        Just(60),
        Just(3600),
        Just(86_400),
        1..200_000u64
    ];
    let scope = prop_oneof![
        Just(Scope::All),
        prop::collection::vec(0u8..10, 0..4).prop_map(Scope::Records),
        (0u8..3).prop_map(Scope::Category),
    ];
    prop_oneof![
        2 => who.clone().prop_map(Op::RegisterPatient),
        2 => who.clone().prop_map(Op::RegisterDoctor),
        2 => who.clone().prop_map(Op::Verify),
        1 => who.clone().prop_map(Op::Suspend),
        4 => (who.clone(), who.clone(), ttl, scope)
            .prop_map(|(patient, doctor, ttl, scope)| Op::Grant { patient, doctor, ttl, scope }),
        2 => (who.clone(), 0u8..8).prop_map(|(by, nth)| Op::Revoke { by, nth }),
        2 => prop_oneof![Just(1u64), Just(59), Just(3600), Just(EMERGENCY_WINDOW_SECS), 1..100_000u64]
            .prop_map(Op::Advance),
        1 => (who.clone(), who.clone()).prop_map(|(doctor, patient)| Op::OpenEmergency { doctor, patient }),
        1 => (who.clone(), who.clone()).prop_map(|(patient, doctor)| Op::CloseEmergency { patient, doctor }),
        3 => (who.clone(), 0u8..3).prop_map(|(patient, category)| Op::AddRecord { patient, category }),
        1 => (who, 0u8..10).prop_map(|(by, record)| Op::AddVersion { by, record }),
    ]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    None,
    Pending,
    Verified,
    Suspended,
}

struct ModelGrant {
    id: U256,
    patient: Address,
    doctor: Address,
    expires: u64,
    scope: Scope,
}

#[derive(Default)]
struct Model {
    now: u64,
    patients: BTreeSet<Address>,
    doctors: BTreeMap<Address, Status>,
    keys: BTreeMap<Address, B256>,
    grants: Vec<ModelGrant>,
    next_token: u64,
    emergency: BTreeMap<(Address, Address), u64>,
    /// record id - 1 => (patient, category)
    records: Vec<(Address, B256)>,
}

impl Model {
    fn status(&self, a: Address) -> Status {
        *self.doctors.get(&a).unwrap_or(&Status::None)
    }

    fn verified(&self, a: Address) -> bool {
        self.status(a) == Status::Verified
    }

    fn covers(&self, scope: &Scope, record: u64) -> bool {
        match scope {
            Scope::All => true,
            Scope::Records(ids) => ids.iter().any(|&i| u64::from(i) == record),
            Scope::Category(c) => {
                let cat = CATEGORIES[*c as usize];
                !cat.is_zero() && self.records[record as usize - 1].1 == cat
            }
        }
    }

    /// The invariant under test.
    fn can_read(&self, reader: Address, record: u64) -> bool {
        let Some(&(patient, _)) = self.records.get(record as usize - 1) else {
            return false;
        };
        if reader == patient {
            return true;
        }
        if !self.verified(reader) {
            return false;
        }
        let emergency = self
            .emergency
            .get(&(patient, reader))
            .is_some_and(|&t| t > self.now);
        emergency
            || self.grants.iter().any(|g| {
                g.patient == patient
                    && g.doctor == reader
                    && g.expires > self.now
                    && self.covers(&g.scope, record)
            })
    }
}

struct World {
    chain: Chain,
    registry: PatientRegistry,
    token: AccessToken,
    records: RecordRegistry,
    model: Model,
}

impl World {
    fn new() -> Self {
        let chain = Chain::new();
        let mut registry: PatientRegistry = chain.deploy(
            REGISTRY,
            router_entrypoint::<PatientRegistry, PatientRegistry>,
        );
        let mut token: AccessToken =
            chain.deploy(TOKEN, router_entrypoint::<AccessToken, AccessToken>);
        let mut records: RecordRegistry =
            chain.deploy(RECORDS, router_entrypoint::<RecordRegistry, RecordRegistry>);
        chain.as_sender(OWNER);
        registry.constructor(OWNER).unwrap();
        registry.add_verifier(VERIFIER).unwrap();
        token.constructor(REGISTRY).unwrap();
        records.constructor(REGISTRY, TOKEN).unwrap();
        token.link_record_registry(RECORDS).unwrap();
        let model = Model {
            now: chain.timestamp(),
            ..Model::default()
        };
        World {
            chain,
            registry,
            token,
            records,
            model,
        }
    }

    fn key_of(a: Address) -> B256 {
        B256::repeat_byte(a.0[19])
    }

    /// Applies one operation to chain and model; panics if they disagree on
    /// whether it succeeds.
    fn apply(&mut self, op: &Op) {
        let c = self.chain.clone();
        let m = &mut self.model;
        match op {
            Op::RegisterPatient(i) => {
                let a = account(*i);
                c.as_sender(a);
                let ok = c
                    .tx(|| self.registry.register_patient(Self::key_of(a)))
                    .is_ok();
                assert_eq!(ok, !m.patients.contains(&a), "{op:?}");
                if ok {
                    m.patients.insert(a);
                    m.keys.insert(a, Self::key_of(a));
                }
            }
            Op::RegisterDoctor(i) => {
                let a = account(*i);
                c.as_sender(a);
                let ok = c
                    .tx(|| {
                        self.registry
                            .register_doctor(Self::key_of(a), B256::repeat_byte(0x77))
                    })
                    .is_ok();
                assert_eq!(ok, m.status(a) == Status::None, "{op:?}");
                if ok {
                    m.doctors.insert(a, Status::Pending);
                }
            }
            Op::Verify(i) => {
                let a = account(*i);
                c.as_sender(VERIFIER);
                let ok = c.tx(|| self.registry.verify_doctor(a)).is_ok();
                let expect = matches!(m.status(a), Status::Pending | Status::Suspended);
                assert_eq!(ok, expect, "{op:?}");
                if ok {
                    m.doctors.insert(a, Status::Verified);
                }
            }
            Op::Suspend(i) => {
                let a = account(*i);
                c.as_sender(VERIFIER);
                let ok = c.tx(|| self.registry.suspend_doctor(a)).is_ok();
                let expect = matches!(m.status(a), Status::Pending | Status::Verified);
                assert_eq!(ok, expect, "{op:?}");
                if ok {
                    m.doctors.insert(a, Status::Suspended);
                }
            }
            Op::Grant {
                patient,
                doctor,
                ttl,
                scope,
            } => {
                let (p, d) = (account(*patient), account(*doctor));
                let expires = m.now + ttl;
                let (kind, category, ids) = match scope {
                    Scope::All => (scope::ALL, B256::ZERO, vec![]),
                    Scope::Records(ids) => (
                        scope::RECORDS,
                        B256::ZERO,
                        ids.iter().map(|&i| U256::from(i)).collect(),
                    ),
                    Scope::Category(k) => (scope::CATEGORY, CATEGORIES[*k as usize], vec![]),
                };
                c.as_sender(p);
                let result = c.tx(|| self.token.grant(d, expires, kind, category, ids.clone()));
                let pair = |g: &ModelGrant| g.patient == p && g.doctor == d;
                let held = m.grants.iter().filter(|g| pair(g)).count();
                // A full pair burns its expired grants first (rolled back if the grant fails).
                let full = held >= MAX_GRANTS_PER_PAIR;
                let live = if full {
                    m.grants
                        .iter()
                        .filter(|g| pair(g) && g.expires > m.now)
                        .count()
                } else {
                    held
                };
                let scope_ok = match scope {
                    Scope::All => true,
                    Scope::Records(ids) => !ids.is_empty(),
                    Scope::Category(k) => !CATEGORIES[*k as usize].is_zero(),
                };
                let expect = p != d
                    && *ttl > 0
                    && scope_ok
                    && live < MAX_GRANTS_PER_PAIR
                    && m.patients.contains(&p)
                    && m.verified(d);
                assert_eq!(result.is_ok(), expect, "{op:?} -> {result:?}");
                if let Ok(id) = result {
                    if full {
                        let now = m.now;
                        m.grants.retain(|g| !(pair(g) && g.expires <= now));
                    }
                    m.next_token += 1;
                    assert_eq!(id, U256::from(m.next_token));
                    m.grants.push(ModelGrant {
                        id,
                        patient: p,
                        doctor: d,
                        expires,
                        scope: scope.clone(),
                    });
                }
            }
            Op::Revoke { by, nth } => {
                let by = account(*by);
                // Half of the time revoke someone else's grant, or a burnt id.
                let id = if m.grants.is_empty() {
                    U256::from(u64::from(*nth) + 1)
                } else {
                    m.grants[*nth as usize % m.grants.len()].id
                };
                c.as_sender(by);
                let ok = c.tx(|| self.token.revoke(id)).is_ok();
                let pos = m.grants.iter().position(|g| g.id == id);
                let expect = pos.is_some_and(|i| m.grants[i].patient == by);
                assert_eq!(ok, expect, "{op:?}");
                if ok {
                    m.grants.remove(pos.unwrap());
                }
            }
            Op::Advance(secs) => {
                c.advance(*secs);
                m.now += secs;
            }
            Op::OpenEmergency { doctor, patient } => {
                let (d, p) = (account(*doctor), account(*patient));
                c.as_sender(d);
                let ok = c.tx(|| self.token.open_emergency_access(p)).is_ok();
                let expect = d != p && m.verified(d) && m.patients.contains(&p);
                assert_eq!(ok, expect, "{op:?}");
                if ok {
                    m.emergency.insert((p, d), m.now + EMERGENCY_WINDOW_SECS);
                }
            }
            Op::CloseEmergency { patient, doctor } => {
                let (p, d) = (account(*patient), account(*doctor));
                c.as_sender(p);
                let ok = c.tx(|| self.token.close_emergency_access(d)).is_ok();
                let expect = m.emergency.get(&(p, d)).is_some_and(|&t| t > m.now);
                assert_eq!(ok, expect, "{op:?}");
                if ok {
                    m.emergency.insert((p, d), 0);
                }
            }
            Op::AddRecord { patient, category } => {
                let p = account(*patient);
                let category = CATEGORIES[*category as usize];
                c.as_sender(p);
                let result = c.tx(|| {
                    self.records.add_record(
                        Bytes::from(vec![1, 0x55, 0x12, 0x20, 7]),
                        B256::repeat_byte(0xc1),
                        category,
                        vec![p],
                        vec![Bytes::from(vec![9u8; 80])],
                    )
                });
                assert_eq!(result.is_ok(), m.patients.contains(&p), "{op:?}");
                if let Ok(id) = result {
                    m.records.push((p, category));
                    assert_eq!(id, U256::from(m.records.len()));
                }
            }
            Op::AddVersion { by, record } => {
                let by = account(*by);
                let id = u64::from(*record) + 1;
                c.as_sender(by);
                let result = c.tx(|| {
                    self.records.add_version(
                        U256::from(id),
                        Bytes::from(vec![1, 0x55, 0x12, 0x20, 8]),
                        B256::repeat_byte(0xc2),
                        vec![],
                        vec![],
                    )
                });
                let expect = m.records.get(id as usize - 1).is_some_and(|r| r.0 == by);
                assert_eq!(result.is_ok(), expect, "{op:?}");
            }
        }
    }

    /// Compares every reader against every record, and the view functions.
    fn check_reads(&mut self, probe: usize) {
        let n = self.model.records.len() as u64;
        let readers: Vec<Address> = (0..ACCOUNTS)
            .map(account)
            .chain([OWNER, VERIFIER])
            .collect();
        for record in 1..=n + 1 {
            for &reader in &readers {
                let expect = self.model.can_read(reader, record);
                self.chain.as_sender(reader);
                let got = self.records.get_record(U256::from(record));
                assert_eq!(
                    got.is_ok(),
                    expect,
                    "getRecord({record}) by {reader}: {got:?}"
                );
                assert_eq!(self.records.can_read(reader, U256::from(record)), expect);
                if record <= n {
                    let patient = self.model.records[record as usize - 1].0;
                    let has = self.token.has_access(patient, reader, U256::from(record));
                    assert_eq!(has, expect, "hasAccess({patient}, {reader}, {record})");
                }
            }
        }
        // One logged read per step, through raw calldata, with its event.
        if n > 0 {
            let record = 1 + (probe as u64 % n);
            let reader = readers[probe % readers.len()];
            let expect = self.model.can_read(reader, record);
            self.chain.take_logs();
            let mut data = alloy_primitives::keccak256("accessRecord(uint256)")[..4].to_vec();
            data.extend(U256::from(record).to_be_bytes::<32>());
            let result = self.chain.call(reader, RECORDS, &data);
            assert_eq!(result.is_ok(), expect, "accessRecord({record}) by {reader}");
            let logged = self
                .chain
                .take_logs()
                .iter()
                .filter(|l| l.address == RECORDS)
                .count();
            assert_eq!(logged, usize::from(expect));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_read_succeeds_iff_the_model_grants_it(ops in prop::collection::vec(op(), 1..40)) {
        let mut world = World::new();
        for (i, op) in ops.iter().enumerate() {
            world.apply(op);
            world.check_reads(i);
        }
    }
}
