//! The contract bindings, ArbOS interfaces and deployment file that CareLedger's
//! clients share: one definition, so the CLI, the notifier and the tests cannot
//! drift apart.

pub mod address;
pub mod arbos;
pub mod deployment;
pub mod time;

pub use address::{parse_checked, AddressError};
pub use deployment::{Deployment, DeploymentError};

// The interfaces exactly as `scripts/export-abi` writes them to abi/ from the
// contracts' code (CI checks them fresh): no hand-written selector anywhere.
alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IPatientRegistry.sol"
);
alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IAccessToken.sol"
);
alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IRecordRegistry.sol"
);
