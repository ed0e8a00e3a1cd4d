//! The CareLedger deployment the contracts' unit tests share: the accounts and
//! addresses the fixtures use, the three contracts deployed and wired as
//! `careledger deploy` does it (constructors through the router, then the
//! link), and the set-up calls (verifiers, registrations, custodians, grants,
//! emergency windows) made as calldata through the real routers.
//!
//! Generic in the contract types, so that each contract's own unit tests pass
//! their own `crate::…` type: the testkit does not depend on the contracts. The
//! set-up calls must succeed; each panics, naming the call, if it reverts. What a
//! test is about is called through [`Contract::send`] instead, and checked.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;

use crate::{Chain, Contract, Routed};

/// The account whose last byte is `n`, all others zero.
pub const fn addr(n: u8) -> Address {
    let mut b = [0u8; 20];
    b[19] = n;
    Address::new(b)
}

/// Deploys PatientRegistry and owns it (never a verifier).
pub const OWNER: Address = addr(0xee);
/// The verifier [`add_verifier`] usually appoints.
pub const VERIFIER: Address = addr(0xdd);
/// The patient most tests are about.
pub const PATIENT: Address = addr(0x01);
/// A second patient: what [`PATIENT`] grants must never open its records.
pub const OTHER_PATIENT: Address = addr(0x02);
/// The doctor most tests grant to.
pub const DOCTOR: Address = addr(0x11);
/// A second doctor: what [`DOCTOR`] is granted must never reach it.
pub const OTHER_DOCTOR: Address = addr(0x12);
/// The emergency custodian the fixtures' patients name: a registered patient
/// itself, so that it holds an X25519 key.
pub const CUSTODIAN: Address = addr(0x21);
/// An account with no role at all.
pub const STRANGER: Address = addr(0x99);

/// Where PatientRegistry is deployed.
pub const REGISTRY: Address = addr(0xa1);
/// Where AccessToken is deployed.
pub const TOKEN: Address = addr(0xa2);
/// Where RecordRegistry is deployed.
pub const RECORDS: Address = addr(0xa3);

/// An opaque record category code (a patient's HMAC of "lab results", say).
pub const CAT_LAB: B256 = B256::repeat_byte(0x1a);
/// Another category code.
pub const CAT_XRAY: B256 = B256::repeat_byte(0x2b);

/// The licence commitment every doctor of [`register_doctors`] registers with.
pub const LICENCE: B256 = B256::repeat_byte(0x77);

/// The X25519 key an account registers with here: its last byte, repeated.
pub const fn key_of(account: Address) -> B256 {
    B256::repeat_byte(account.0 .0[19])
}

mod abi {
    alloy_sol_types::sol! {
        interface IPatientRegistry {
            function registerPatient(bytes32 encryptionKey) external;
            function registerDoctor(bytes32 encryptionKey, bytes32 licenceHash) external;
            function verifyDoctor(address doctor) external;
            function suspendDoctor(address doctor) external;
            function addVerifier(address verifier) external;
            function setEmergencyCustodians(address[] custodians) external;
        }

        interface IAccessToken {
            function linkRecordRegistry(address recordRegistry) external;
            function grant(address doctor, uint64 expiresAt, uint8 scopeKind, bytes32 category, uint256[] recordIds) external returns (uint256);
            function openEmergencyAccess(address patient, uint8 reason) external returns (uint64);
        }
    }
}

use abi::{IAccessToken, IPatientRegistry};

/// PatientRegistry at [`REGISTRY`], constructed for [`OWNER`] through the
/// router. No verifier yet; its logs are kept.
pub fn deploy_patient_registry<P: Routed>(chain: &Chain) -> Contract<P> {
    deployed(chain, REGISTRY, (OWNER,))
}

/// AccessToken at [`TOKEN`], constructed for PatientRegistry at [`REGISTRY`]
/// through the router. Not linked to a RecordRegistry.
pub fn deploy_access_token<T: Routed>(chain: &Chain) -> Contract<T> {
    deployed(chain, TOKEN, (REGISTRY,))
}

/// RecordRegistry at [`RECORDS`], constructed for [`REGISTRY`] and [`TOKEN`]
/// through the router; then [`OWNER`] links the AccessToken to it, which ends
/// the wiring of a deployment.
pub fn deploy_record_registry<R: Routed>(chain: &Chain) -> Contract<R> {
    let records = deployed(chain, RECORDS, (REGISTRY, TOKEN));
    setup(
        chain,
        OWNER,
        TOKEN,
        IAccessToken::linkRecordRegistryCall {
            recordRegistry: RECORDS,
        },
    );
    records
}

fn deployed<C: Routed>(
    chain: &Chain,
    at: Address,
    args: impl crate::ConstructorArgs,
) -> Contract<C> {
    let contract = Contract::<C>::deploy(chain, at);
    if let Err(revert) = contract.construct(OWNER, args) {
        panic!("the constructor at {at} reverted: {revert:02x?}");
    }
    contract
}

/// [`OWNER`] appoints `verifier`.
pub fn add_verifier(chain: &Chain, verifier: Address) {
    setup(
        chain,
        OWNER,
        REGISTRY,
        IPatientRegistry::addVerifierCall { verifier },
    );
}

/// Each of `accounts` registers as a patient with its key ([`key_of`]).
pub fn register_patients(chain: &Chain, accounts: &[Address]) {
    for &account in accounts {
        let call = IPatientRegistry::registerPatientCall {
            encryptionKey: key_of(account),
        };
        setup(chain, account, REGISTRY, call);
    }
}

/// Each of `accounts` registers as a doctor with its key ([`key_of`]) and
/// [`LICENCE`]; each is pending until verified.
pub fn register_doctors(chain: &Chain, accounts: &[Address]) {
    for &account in accounts {
        let call = IPatientRegistry::registerDoctorCall {
            encryptionKey: key_of(account),
            licenceHash: LICENCE,
        };
        setup(chain, account, REGISTRY, call);
    }
}

/// [`VERIFIER`] approves each of `doctors`: verified (again) at the default
/// threshold of one approval.
pub fn verify_doctors(chain: &Chain, doctors: &[Address]) {
    for &doctor in doctors {
        setup(
            chain,
            VERIFIER,
            REGISTRY,
            IPatientRegistry::verifyDoctorCall { doctor },
        );
    }
}

/// [`VERIFIER`] suspends `doctor`.
pub fn suspend_doctor(chain: &Chain, doctor: Address) {
    setup(
        chain,
        VERIFIER,
        REGISTRY,
        IPatientRegistry::suspendDoctorCall { doctor },
    );
}

/// `patient` names `custodians` as its emergency custodians.
pub fn set_custodians(chain: &Chain, patient: Address, custodians: &[Address]) {
    let custodians = custodians.to_vec();
    setup(
        chain,
        patient,
        REGISTRY,
        IPatientRegistry::setEmergencyCustodiansCall { custodians },
    );
}

/// `patient` grants `doctor` a scope (the on-chain `scope_kind` code, with its
/// `category` and `record_ids`) for an hour; returns the token id.
pub fn grant_for_an_hour(
    chain: &Chain,
    patient: Address,
    doctor: Address,
    scope_kind: u8,
    category: B256,
    record_ids: Vec<U256>,
) -> U256 {
    let call = IAccessToken::grantCall {
        doctor,
        expiresAt: chain.timestamp() + 3600,
        scopeKind: scope_kind,
        category,
        recordIds: record_ids,
    };
    setup(chain, patient, TOKEN, call)
}

/// `doctor` opens emergency access to `patient`, stating `reason`; returns the
/// end of the window.
pub fn open_emergency_access(chain: &Chain, doctor: Address, patient: Address, reason: u8) -> u64 {
    setup(
        chain,
        doctor,
        TOKEN,
        IAccessToken::openEmergencyAccessCall { patient, reason },
    )
}

/// `from` sends `call` to `to` through its router; it must succeed.
fn setup<C: SolCall>(chain: &Chain, from: Address, to: Address, call: C) -> C::Return {
    match chain.call(from, to, &call.abi_encode()) {
        Ok(out) => C::abi_decode_returns(&out).expect("the return data decodes"),
        Err(revert) => panic!(
            "set-up call {} from {from} reverted: {revert:02x?}",
            C::SIGNATURE
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_last_byte_of_the_account_repeated() {
        assert_eq!(addr(0x21).0[19], 0x21);
        assert!(addr(0x21).0[..19].iter().all(|b| *b == 0));
        assert_eq!(key_of(addr(0x21)), B256::repeat_byte(0x21));
    }

    #[test]
    fn a_set_up_call_that_reverts_panics_naming_the_call() {
        let chain = Chain::new();
        let result = std::panic::catch_unwind(|| {
            let chain = Chain::new();
            chain.place(REGISTRY, |_, _| Err(vec![1, 2]));
            add_verifier(&chain, VERIFIER);
        });
        let message = result.unwrap_err();
        let message = message.downcast_ref::<String>().unwrap();
        assert!(message.contains("addVerifier(address)"), "{message}");
        chain.place(REGISTRY, |_, _| Ok(vec![]));
        add_verifier(&chain, VERIFIER);
    }
}
