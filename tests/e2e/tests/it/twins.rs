//! The Solidity twins (abi/twins/) beside the Stylus contracts on one chain: every
//! operation of the gas table gives the same results, events and reverts on both.
//! The gas figures themselves are scripts/bench's (`--only gas`), not asserted here.

use careledger_e2e::{twins, Net};

#[test]
fn stylus_and_solidity_twins_agree_on_every_operation() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let rows = twins::run(&net, dir.path(), &[1, 3], !net.is_external());
    println!("{}", twins::markdown(&rows));
    let ops: Vec<&str> = rows.iter().map(|r| r.operation.as_str()).collect();
    for op in [
        "registerPatient",
        "registerDoctor",
        "verifyDoctor",
        "revoke",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    assert_eq!(
        ops.iter().filter(|o| o.starts_with("hasAccess")).count(),
        3,
        "1 and 3 grants, and a doctor without one: {ops:?}"
    );
    assert!(rows
        .iter()
        .all(|r| r.stylus > 21_000 && r.solidity > 21_000));
}
