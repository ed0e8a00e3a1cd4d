//! revm extended through its traits to run Stylus programs: an `EvmTr` wrapper whose
//! `frame_run` executes WASM frames, and a precompile provider with ArbOS's precompiles.
//!
//! The modules, each importing only those listed before it:
//! - `context`: the revm context alias everything works on;
//! - `runtime`: the WASM host, activations and Stylus parameters a node shares;
//! - `precompiles`: ArbWasm, ArbWasmCache and ArbOwnerPublic, and the program records;
//! - `stylus_evm`: the EVM and the Stylus state it carries;
//! - `program_frame`: what a program needs from its frame;
//! - `frame_api`: the program's requests (storage, calls, logs) answered on revm's journal;
//! - `program_call`: nitro's `CallProgram`, a Stylus frame from entry cost to result;
//! - `evm_tr`: how revm drives the EVM, handing Stylus frames to `program_call`.

mod context;
mod evm_tr;
mod frame_api;
mod precompiles;
mod program_call;
mod program_frame;
mod runtime;
mod stylus_evm;

pub use context::StylusContext;
pub use precompiles::addresses::{ARB_OWNER_PUBLIC, ARB_WASM, ARB_WASM_CACHE, CHAIN_OWNER};
pub use precompiles::programs::ProgramInfo;
pub use precompiles::{ArbOwnerPublic, ArbPrecompiles, ArbWasm, ArbWasmCache};
pub use runtime::StylusRuntime;
pub use stylus_evm::{build_evm, StylusEvm};
