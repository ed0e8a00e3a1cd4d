//! EVM ↔ Stylus calls on a real devnode, both ways:
//! - a forge-built Solidity contract (abi/consumers/Hospital.sol) calling the
//!   AccessToken program;
//! - the AccessToken program calling EVM contracts that stand in for
//!   PatientRegistry and RecordRegistry.

use crate::common;

use alloy::network::TransactionBuilder;
use alloy::primitives::{hex, Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use alloy::sol_types::{SolCall, SolValue};
use careledger_devnode::Devnode;
use common::abi::IAccessToken;
use common::*;

sol! {
    /// abi/consumers/Hospital.sol, as integrators call it.
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    contract Hospital {
        function accessToken() external view returns (address);
        function admissions(address patient) external view returns (uint256);
        function recordAdmission(address patient, uint256 recordId, bytes32 noteHash) external;
        event AdmissionRecorded(address indexed patient, address indexed doctor, uint256 indexed recordId, bytes32 noteHash);
        error NoAccess(address patient, address doctor, uint256 recordId);
        error InvalidAccessToken();
    }

    /// The EVM stand-in for PatientRegistry (source below).
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    contract RegistryStub {
        function isPatient(address account) external view returns (bool);
        function isVerifiedDoctor(address account) external view returns (bool);
        function owner() external view returns (address);
        function set(address account, bool patient, bool doctor) external;
    }
}

/// Init code of this contract, compiled with solc 0.8.30 (scripts/toolchain/solc,
/// optimizer on, 200 runs, evm cancun, no metadata):
///
/// ```solidity
/// contract RegistryStub {
///     mapping(address => bool) public isPatient;
///     mapping(address => bool) public isVerifiedDoctor;
///     address public owner = msg.sender;
///     bool public paused;
///
///     function set(address account, bool patient, bool doctor) external {
///         isPatient[account] = patient;
///         isVerifiedDoctor[account] = doctor;
///     }
/// }
/// ```
const REGISTRY_STUB_INIT: &str = "6080604052600280546001600160a01b031916331790553480156020575f5ffd5b506101ca8061002e5f395ff3fe608060405234801561000f575f5ffd5b5060043610610055575f3560e01c80631bf9d751146100595780635c975abb146100905780638da5cb5b146100a45780638f9c79ed146100cf578063e406d996146100f1575b5f5ffd5b61007b61006736600461015b565b60016020525f908152604090205460ff1681565b60405190151581526020015b60405180910390f35b60025461007b90600160a01b900460ff1681565b6002546100b7906001600160a01b031681565b6040516001600160a01b039091168152602001610087565b61007b6100dd36600461015b565b5f6020819052908152604090205460ff1681565b61013e6100ff36600461018a565b6001600160a01b039092165f90815260208181526040808320805494151560ff1995861617905560019091529020805492151592909116919091179055565b005b80356001600160a01b0381168114610156575f5ffd5b919050565b5f6020828403121561016b575f5ffd5b61017482610140565b9392505050565b80358015158114610156575f5ffd5b5f5f5f6060848603121561019c575f5ffd5b6101a584610140565b92506101b36020850161017b565b91506101c16040850161017b565b9050925092509256";

/// `recordAdmission` as an eth_call reverts with `NoAccess(patient, doctor, record)`.
async fn expect_no_access<P: Provider>(
    hospital: &Hospital::HospitalInstance<P>,
    patient: Address,
    doctor: Address,
    record_id: U256,
    note: B256,
) {
    let err = hospital
        .recordAdmission(patient, record_id, note)
        .call()
        .await
        .unwrap_err();
    let no = err
        .as_decoded_error::<Hospital::NoAccess>()
        .unwrap_or_else(|| panic!("NoAccess expected, got {err:?}"));
    assert_eq!(
        (no.patient, no.doctor, no.recordId),
        (patient, doctor, record_id)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn solidity_hospital_follows_the_stylus_access_token() {
    // Before the node: a missing artifact must say how to make it.
    let artifact = forge_artifact("Hospital.sol/Hospital.json");
    let bytecode = artifact["bytecode"]["object"]
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .expect("bytecode.object in the forge artifact");

    let dev = Devnode::ephemeral().await.unwrap();
    let c = CareLedger::deploy(&dev).await;
    let (patient, doctor) = (c.patient.address(), c.doctor.address());
    let owner = c.as_(&c.owner);

    // Hospital(address(0)) reverts in its constructor; Hospital(token) deploys.
    let mut zero = bytecode.clone();
    zero.extend_from_slice(&Address::ZERO.abi_encode());
    let failed = send(
        &owner,
        TransactionRequest::default()
            .with_deploy_code(zero)
            .with_gas_limit(1_000_000),
    )
    .await;
    assert!(!failed.status(), "Hospital(0) must revert");
    let mut init = bytecode;
    init.extend_from_slice(&c.token.abi_encode());
    let hospital_address = deploy(&owner, init.into()).await;
    let code = owner.get_code_at(hospital_address).await.unwrap();
    assert!(
        !code.is_empty() && code[0] != 0xef,
        "Hospital is EVM bytecode"
    );
    let hospital = Hospital::new(hospital_address, c.as_(&c.doctor));
    assert_eq!(hospital.accessToken().call().await.unwrap(), c.token);

    // The patient's record 1 (hasAccess asks RecordRegistry whose it is).
    let cid: alloy::primitives::Bytes = [0x01, 0x70, 0x12, 0x20]
        .into_iter()
        .chain([7u8; 32])
        .collect::<Vec<_>>()
        .into();
    call_ok(
        &c.as_(&c.patient),
        c.records,
        common::abi::IRecordRegistry::addRecordCall {
            cid,
            content_hash: B256::repeat_byte(9),
            category: B256::repeat_byte(4),
            readers: vec![],
            wrapped_keys: vec![],
        }
        .abi_encode()
        .into(),
    )
    .await;
    let record_id = U256::from(1);
    let note = B256::repeat_byte(0x5a);
    let token = IAccessToken::new(c.token, c.as_(&c.patient));
    // No grant: the Stylus program says false and the Solidity contract refuses.
    assert!(!token
        .hasAccess(patient, doctor, record_id)
        .call()
        .await
        .unwrap());
    expect_no_access(&hospital, patient, doctor, record_id, note).await;
    let refused = send(
        &c.as_(&c.doctor),
        TransactionRequest::default()
            .with_to(hospital_address)
            .with_input(
                Hospital::recordAdmissionCall {
                    patient,
                    recordId: record_id,
                    noteHash: note,
                }
                .abi_encode(),
            )
            .with_gas_limit(1_000_000),
    )
    .await;
    assert!(!refused.status());
    assert_eq!(
        hospital.admissions(patient).call().await.unwrap(),
        U256::ZERO
    );

    // The patient grants every record: Hospital's call now gets true.
    let granted = token
        .grant(doctor, tomorrow(), 0, B256::ZERO, vec![])
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(granted.status());
    let token_id = granted
        .decoded_log::<IAccessToken::Transfer>()
        .expect("Transfer on grant")
        .tokenId;
    assert!(token
        .hasAccess(patient, doctor, record_id)
        .call()
        .await
        .unwrap());
    let admitted = hospital
        .recordAdmission(patient, record_id, note)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(admitted.status());
    let event = admitted
        .decoded_log::<Hospital::AdmissionRecorded>()
        .expect("AdmissionRecorded");
    assert_eq!(
        (event.patient, event.doctor, event.recordId, event.noteHash),
        (patient, doctor, record_id, note)
    );
    assert_eq!(
        hospital.admissions(patient).call().await.unwrap(),
        U256::from(1)
    );

    // Revoked: false again, through the same Solidity path.
    let revoked = token
        .revoke(token_id)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(revoked.status());
    expect_no_access(&hospital, patient, doctor, record_id, note).await;
    assert_eq!(
        hospital.admissions(patient).call().await.unwrap(),
        U256::from(1)
    );
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stylus_access_token_follows_an_evm_patient_registry() {
    let dev = Devnode::ephemeral().await.unwrap();
    let url = dev.url();
    let (owner, patient, doctor) = (signer(&dev, 0), signer(&dev, 1), signer(&dev, 2));
    let p = connect(&url, owner.clone());

    let stub_address = deploy(&p, hex::decode(REGISTRY_STUB_INIT).unwrap().into()).await;
    let stub = RegistryStub::new(stub_address, &p);
    assert_eq!(stub.owner().call().await.unwrap(), owner.address());
    let set = |account: Address, is_patient: bool, is_doctor: bool| {
        let stub = stub.clone();
        async move {
            let r = stub
                .set(account, is_patient, is_doctor)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            assert!(r.status());
        }
    };

    let token_address = deploy_stylus(&p, &wasm("access-token"), true).await;
    call_ok(
        &p,
        token_address,
        constructor_call(&stub_address.abi_encode()),
    )
    .await;
    // An EVM stand-in for RecordRegistry that says every record is the patient's:
    // PUSH20 patient, PUSH0, MSTORE, PUSH1 32, PUSH0, RETURN.
    let mut book = vec![0x73];
    book.extend_from_slice(patient.address().as_slice());
    book.extend_from_slice(&[0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]);
    let book_address = deploy(&p, init_code_for(&book)).await;
    call_ok(
        &p,
        token_address,
        common::abi::IAccessToken::linkRecordRegistryCall {
            record_registry: book_address,
        }
        .abi_encode()
        .into(),
    )
    .await;
    let token = IAccessToken::new(token_address, connect(&url, patient.clone()));
    assert_eq!(token.patientRegistry().call().await.unwrap(), stub_address);
    let grant = || token.grant(doctor.address(), tomorrow(), 0, B256::ZERO, vec![]);
    let record = U256::from(7);

    // The program asks the EVM contract, and believes it.
    let err = grant().call().await.unwrap_err();
    let e = err
        .as_decoded_error::<IAccessToken::NotPatient>()
        .unwrap_or_else(|| panic!("NotPatient expected, got {err:?}"));
    assert_eq!(e.0, patient.address());

    set(patient.address(), true, false).await;
    let err = grant().call().await.unwrap_err();
    let e = err
        .as_decoded_error::<IAccessToken::DoctorNotVerified>()
        .unwrap_or_else(|| panic!("DoctorNotVerified expected, got {err:?}"));
    assert_eq!(e.0, doctor.address());

    set(doctor.address(), false, true).await;
    let receipt = grant().send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "grant with the EVM registry's yes");
    let has = || token.hasAccess(patient.address(), doctor.address(), record);
    assert!(has().call().await.unwrap());

    // hasAccess asks the registry on every call: it follows the EVM contract's answer.
    set(doctor.address(), false, false).await;
    assert!(!has().call().await.unwrap());
    set(doctor.address(), false, true).await;
    assert!(has().call().await.unwrap());

    // An EVM "registry" that always reverts: grant reports RegistryUnavailable and
    // hasAccess (which never reverts) says false. Same code, so already active.
    let reverter = deploy(&p, init_code_for(&[0x5f, 0x5f, 0xfd])).await; // PUSH0 PUSH0 REVERT
    let second = deploy_stylus(&p, &wasm("access-token"), false).await;
    call_ok(&p, second, constructor_call(&reverter.abi_encode())).await;
    let token2 = IAccessToken::new(second, connect(&url, patient.clone()));
    let err = token2
        .grant(doctor.address(), tomorrow(), 0, B256::ZERO, vec![])
        .call()
        .await
        .unwrap_err();
    let e = err
        .as_decoded_error::<IAccessToken::RegistryUnavailable>()
        .unwrap_or_else(|| panic!("RegistryUnavailable expected, got {err:?}"));
    assert_eq!(e.0, reverter);
    assert!(!token2
        .hasAccess(patient.address(), doctor.address(), record)
        .call()
        .await
        .unwrap());
    // And the first token still answers from its own registry.
    assert!(has().call().await.unwrap());
    dev.stop().await;
}
