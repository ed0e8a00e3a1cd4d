//! Issue 15 §3: a doctor's on-chain `licenceHash` is a salted commitment, so the
//! licence numbers, which can be enumerated, cannot be found from the chain.
//!
//! Doctors register through the real `careledger` binary on a devnode (or the chain
//! `STYLUS_RPC_URL` names); an attacker reads every `DoctorRegistered` event and
//! every `licenceHash` view and tries a dictionary of licence numbers around the
//! ones used, hashed the way the old code did (`keccak256(licence)`) and with the
//! fixed domain tag but no secret salt. Nothing matches; the verifier, handed licence
//! and salt off chain, does match with `careledger doctor check-licence`.

use alloy::primitives::{keccak256, B256};
use careledger_cli::cmd::roles::{licence_commitment, LICENCE_TAG};
use careledger_e2e::cli::World;
use careledger_e2e::Net;
use serde_json::json;
use std::collections::BTreeSet;

/// The licence numbers the doctors register with (the number part, after "GMC-").
const NUMBERS: [u64; 4] = [7_000_001, 7_000_002, 7_004_242, 1_234_567];

/// Every licence commitment on chain: from the `DoctorRegistered` events and the
/// `licenceHash(doctor)` view, which must agree.
fn on_chain_commitments(net: &Net, registry: &str) -> Vec<(String, B256)> {
    let topic = keccak256("DoctorRegistered(address,bytes32,bytes32)");
    let logs = net.rpc(
        "eth_getLogs",
        json!([{"address": registry, "topics": [topic.to_string()], "fromBlock": "0x0", "toBlock": "latest"}]),
    );
    let logs = logs.as_array().expect("logs");
    let mut out = Vec::new();
    for log in logs {
        let doctor = format!("0x{}", &log["topics"][1].as_str().unwrap()[26..]);
        let data = log["data"].as_str().unwrap();
        let from_event: B256 = format!("0x{}", &data[2 + 64..2 + 128]).parse().unwrap();
        // licenceHash(address)
        let selector = &keccak256("licenceHash(address)")[..4];
        let call = format!(
            "0x{}{:0>64}",
            selector
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            &doctor[2..]
        );
        let view = net.rpc(
            "eth_call",
            json!([{"to": registry, "data": call}, "latest"]),
        );
        let from_view: B256 = view.as_str().unwrap().parse().unwrap();
        assert_eq!(
            from_event, from_view,
            "event and view disagree for {doctor}"
        );
        assert!(!from_view.is_zero());
        out.push((doctor, from_view));
    }
    out
}

/// The licence texts an attacker would try for number `n`.
fn spellings(n: u64) -> [String; 4] {
    [
        format!("{n}"),
        format!("GMC-{n}"),
        format!("gmc-{n}"),
        format!("GMC{n}"),
    ]
}

#[test]
fn enumerated_licence_numbers_do_not_reveal_a_doctors_licence() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let verifier = world.user(world.verifier.clone());
    let registry = world.contracts()[0].clone();

    // Doctors register; each gets a fresh salt, printed for it alone.
    let mut doctors = Vec::new();
    for n in NUMBERS {
        let doctor = world.user(net.account(false));
        let licence = format!("GMC-{n}");
        let reg = doctor.json(&["doctor", "register", "--licence", &licence]);
        let salt = reg["licenceSalt"]
            .as_str()
            .expect("licenceSalt")
            .to_string();
        doctors.push((doctor, licence, salt));
    }
    let salts: BTreeSet<&str> = doctors.iter().map(|d| d.2.as_str()).collect();
    assert_eq!(
        salts.len(),
        doctors.len(),
        "every registration has its own salt"
    );

    let committed = on_chain_commitments(&net, &registry);
    assert_eq!(committed.len(), doctors.len());
    let on_chain: BTreeSet<B256> = committed.iter().map(|c| c.1).collect();

    // The dictionary: every number used and 2,500 either side of it, spelt four ways,
    // hashed plainly (the old `keccak256(licence)`), with the domain tag and no salt,
    // and with the domain tag and an all-zero salt.
    let mut tried = 0usize;
    for centre in NUMBERS {
        for n in centre - 2_500..=centre + 2_500 {
            for text in spellings(n) {
                let plain = keccak256(text.as_bytes());
                let tagged = keccak256(format!("{LICENCE_TAG}{text}").as_bytes());
                let zero_salt = licence_commitment(&B256::ZERO, &text);
                for guess in [plain, tagged, zero_salt] {
                    assert!(
                        !on_chain.contains(&guess),
                        "licence {text} found by a dictionary attack: {guess}"
                    );
                    tried += 1;
                }
            }
        }
    }
    assert!(tried >= 3 * 4 * 10_000, "{tried} guesses");

    // The verifier, handed licence and salt off chain, checks each doctor, then verifies.
    for (doctor, licence, salt) in &doctors {
        let ok = verifier.json(&[
            "doctor",
            "check-licence",
            &doctor.addr(),
            "--licence",
            licence,
            "--salt",
            salt,
        ]);
        assert_eq!(ok["matches"], true, "{ok}");
        let expected = licence_commitment(&salt.parse().unwrap(), licence);
        assert!(on_chain.contains(&expected));
        verifier.json(&["doctor", "verify", &doctor.addr()]);
    }
    // Another doctor's salt, or a neighbouring number, does not match.
    let (first, licence, _) = &doctors[0];
    let err = verifier.fails(&[
        "doctor",
        "check-licence",
        &first.addr(),
        "--licence",
        licence,
        "--salt",
        &doctors[1].2,
    ]);
    assert!(err.contains("does not match"), "{err}");
    let err = verifier.fails(&[
        "doctor",
        "check-licence",
        &first.addr(),
        "--licence",
        "GMC-7000002",
        "--salt",
        &doctors[0].2,
    ]);
    assert!(err.contains("does not match"), "{err}");

    // The salts never reached the chain: no event data carries them.
    let text: String = world
        .contracts()
        .iter()
        .map(|c| {
            net.rpc(
                "eth_getLogs",
                json!([{"address": c, "fromBlock": "0x0", "toBlock": "latest"}]),
            )
            .to_string()
            .to_lowercase()
        })
        .collect();
    for (_, _, salt) in &doctors {
        assert!(!text.contains(&salt[2..].to_lowercase()), "a salt in a log");
    }
}
