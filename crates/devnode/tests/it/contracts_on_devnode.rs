//! The project's three contracts, deployed as the WASM that scripts/build-contracts
//! writes, activated through ArbWasm and driven through alloy on a real devnode.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolError};
use careledger_devnode::Devnode;
use common::{constructor_call, signer, wasm};

use crate::common;

// The contracts' interfaces as `scripts/export-abi` writes them, by the names of
// the contracts they are deployed as here.
use careledger_bindings::arbos::ArbWasm;
use careledger_bindings::{
    IAccessToken as AccessToken, IPatientRegistry as PatientRegistry,
    IRecordRegistry as RecordRegistry,
};

async fn deploy(provider: &impl Provider, wasm: &[u8], activate: bool) -> Address {
    common::deploy_stylus(provider, wasm, activate).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_three_contracts_run_as_wasm_with_every_cross_contract_path() {
    let dev = Devnode::ephemeral().await.unwrap();
    let url: alloy::transports::http::reqwest::Url = dev.url().parse().unwrap();
    let connect = |s: PrivateKeySigner| {
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(s))
            .connect_http(url.clone())
    };
    let (owner, patient, doctor) = (signer(&dev, 0), signer(&dev, 1), signer(&dev, 2));
    let p_owner = connect(owner.clone());

    let pr = deploy(&p_owner, &wasm("patient-registry"), true).await;
    let at = deploy(&p_owner, &wasm("access-token"), true).await;
    let rr = deploy(&p_owner, &wasm("record-registry"), true).await;
    let send = |to: Address, data: Bytes| {
        let p = p_owner.clone();
        async move {
            let r = p
                .send_transaction(TransactionRequest::default().with_to(to).with_input(data))
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            assert!(r.status(), "owner transaction to {to} failed");
        }
    };
    send(
        pr,
        constructor_call(&alloy::sol_types::SolValue::abi_encode(&owner.address())),
    )
    .await;
    send(
        at,
        constructor_call(&alloy::sol_types::SolValue::abi_encode(&pr)),
    )
    .await;
    send(
        rr,
        constructor_call(&alloy::sol_types::SolValue::abi_encode_params(&(pr, at))),
    )
    .await;
    send(
        at,
        AccessToken::linkRecordRegistryCall {
            record_registry: rr,
        }
        .abi_encode()
        .into(),
    )
    .await;

    // Registration, and a verifier who is not the doctor.
    let verifier = signer(&dev, 3);
    send(
        pr,
        PatientRegistry::addVerifierCall {
            verifier: verifier.address(),
        }
        .abi_encode()
        .into(),
    )
    .await;
    let registry = |s: PrivateKeySigner| PatientRegistry::new(pr, connect(s));
    registry(patient.clone())
        .registerPatient(B256::repeat_byte(1))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    registry(doctor.clone())
        .registerDoctor(B256::repeat_byte(2), B256::repeat_byte(3))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    // A custom error from the WASM comes back decoded.
    let err = registry(doctor.clone())
        .verifyDoctor(doctor.address())
        .call()
        .await
        .map(|_| ())
        .unwrap_err();
    let revert = err
        .as_decoded_error::<PatientRegistry::NotVerifier>()
        .expect("NotVerifier");
    assert_eq!(revert.0, doctor.address());
    registry(verifier)
        .verifyDoctor(doctor.address())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(registry(patient.clone())
        .isVerifiedDoctor(doctor.address())
        .call()
        .await
        .unwrap());

    // A record, unreadable by the doctor until the patient grants access.
    let records = |s: PrivateKeySigner| RecordRegistry::new(rr, connect(s));
    let cid = Bytes::from(
        vec![0x01, 0x70, 0x12, 0x20]
            .into_iter()
            .chain([7u8; 32])
            .collect::<Vec<_>>(),
    );
    let receipt = records(patient.clone())
        .addRecord(
            cid.clone(),
            B256::repeat_byte(9),
            B256::repeat_byte(4),
            vec![],
            vec![],
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    eprintln!("gas: addRecord {}", receipt.gas_used);
    let record_id = U256::from(1);
    let denied = records(doctor.clone())
        .getRecord(record_id)
        .from(doctor.address())
        .call()
        .await
        .unwrap_err();
    let denied = denied
        .as_decoded_error::<RecordRegistry::AccessDenied>()
        .expect("AccessDenied");
    assert_eq!((denied._0, denied._1), (doctor.address(), record_id));

    let token = AccessToken::new(at, connect(patient.clone()));
    let expires = dev.node.accounts().len() as u64 + 4_000_000_000;
    let receipt = token
        .grant(doctor.address(), expires, 0, B256::ZERO, vec![])
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    eprintln!("gas: grant {}", receipt.gas_used);
    let minted = receipt
        .decoded_log::<AccessToken::Transfer>()
        .expect("a Transfer event");
    assert_eq!((minted.from, minted.to), (Address::ZERO, doctor.address()));

    // RecordRegistry -> AccessToken -> PatientRegistry, inside the WASM.
    assert!(token
        .hasAccess(patient.address(), doctor.address(), record_id)
        .call()
        .await
        .unwrap());
    let got = records(doctor.clone())
        .getRecord(record_id)
        .from(doctor.address())
        .call()
        .await
        .unwrap();
    assert_eq!(got._0, patient.address());
    assert_eq!(got._2, cid);
    let read = records(doctor.clone())
        .getRecord(record_id)
        .from(doctor.address())
        .estimate_gas()
        .await
        .unwrap();
    eprintln!("gas: getRecord by a granted doctor (eth_estimateGas) {read}");

    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unactivated_program_reverts_with_program_not_activated() {
    let dev = Devnode::ephemeral().await.unwrap();
    let url: alloy::transports::http::reqwest::Url = dev.url().parse().unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer(&dev, 0)))
        .connect_http(url);
    let program = deploy(&provider, &wasm("patient-registry"), false).await;
    let call = TransactionRequest::default().with_to(program).with_input(
        PatientRegistry::isVerifiedDoctorCall {
            account: Address::ZERO,
        }
        .abi_encode(),
    );
    let err = provider.call(call).await.unwrap_err();
    let data = err
        .as_error_resp()
        .and_then(|e| e.as_revert_data())
        .expect("revert data");
    assert_eq!(
        data.as_ref(),
        ArbWasm::ProgramNotActivated {}.abi_encode().as_slice()
    );

    // codehashVersion of an unactivated program is the same error (what cargo-stylus check reads).
    let code = provider.get_code_at(program).await.unwrap();
    let arb = ArbWasm::new(Address::with_last_byte(0x71), &provider);
    assert!(arb.codehashVersion(keccak256(&code)).call().await.is_err());
    dev.stop().await;
}

/// `debug_storageRangeAt` lists a program's storage as geth does (keccak-256 order,
/// pages joined by `nextKey`), equal to `eth_getStorageAt` slot by slot: what the
/// privacy scan of tests/e2e reads.
#[tokio::test(flavor = "multi_thread")]
async fn storage_range_lists_a_programs_slots_in_pages() {
    let dev = Devnode::ephemeral().await.unwrap();
    let cl = common::CareLedger::deploy(&dev).await;
    let p = cl.as_(&cl.owner);
    let head = p
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    let registry = cl.registry;
    let page = |start: B256, max: u64| {
        let p = p.clone();
        async move {
            p.raw_request::<_, serde_json::Value>(
                "debug_storageRangeAt".into(),
                (head, 0, registry, start, max),
            )
            .await
            .unwrap()
        }
    };
    let whole = page(B256::ZERO, 1000).await;
    let slots = whole["storage"].as_object().unwrap();
    assert!(whole["nextKey"].is_null(), "{whole}");
    // Owner, verifier, patient, doctor: several slots, among them the patient's key.
    assert!(slots.len() >= 4, "{whole}");
    let repeat_1 = serde_json::to_value(B256::repeat_byte(1)).unwrap();
    assert!(slots.values().any(|e| e["value"] == repeat_1), "{whole}");
    for (hashed, entry) in slots {
        let slot: B256 = serde_json::from_value(entry["key"].clone()).unwrap();
        assert_eq!(hashed, &keccak256(slot).to_string());
        let value = p
            .get_storage_at(registry, U256::from_be_bytes(slot.0))
            .await
            .unwrap();
        assert_eq!(
            entry["value"],
            serde_json::to_value(B256::from(value)).unwrap()
        );
    }

    // One slot per page, following nextKey, gives the same slots in the same order.
    let (mut paged, mut start) = (Vec::new(), B256::ZERO);
    loop {
        let one = page(start, 1).await;
        let map = one["storage"].as_object().unwrap();
        assert_eq!(map.len(), 1, "{one}");
        paged.extend(map.keys().cloned());
        match one["nextKey"].as_str() {
            Some(next) => start = next.parse().unwrap(),
            None => break,
        }
    }
    assert_eq!(paged, slots.keys().cloned().collect::<Vec<_>>());

    // An account without storage, an older block and an oversized key are answered.
    let empty: serde_json::Value = p
        .raw_request(
            "debug_storageRangeAt".into(),
            (head, 0, Address::repeat_byte(9), B256::ZERO, 10),
        )
        .await
        .unwrap();
    assert_eq!(empty["storage"], serde_json::json!({}));
    let genesis = p
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(0))
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    let old = p
        .raw_request::<_, serde_json::Value>(
            "debug_storageRangeAt".into(),
            (genesis, 0, cl.registry, B256::ZERO, 10),
        )
        .await
        .unwrap_err();
    assert!(old.to_string().contains("historical state"), "{old}");
    let long = p
        .raw_request::<_, serde_json::Value>(
            "debug_storageRangeAt".into(),
            (head, 0, cl.registry, Bytes::from(vec![1u8; 33]), 10),
        )
        .await
        .unwrap_err();
    assert!(long.to_string().contains("32"), "{long}");
}
