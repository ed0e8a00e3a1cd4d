//! The interfaces the CLI calls. Their one home is careledger-bindings (the
//! contracts' from abi/, ArbOS's from nitro); this names them for the CLI.

pub use careledger_bindings::arbos::{ArbWasm, StylusDeployer};
pub use careledger_bindings::{IAccessToken, IPatientRegistry, IRecordRegistry};
