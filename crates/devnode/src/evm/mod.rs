//! revm extended through its traits to run Stylus programs: an `EvmTr` wrapper whose
//! `frame_run` executes WASM frames, and a precompile provider with ArbOS's ArbWasm and ArbWasmCache.

mod arbwasm;
mod arbwasm_cache;
mod frame_api;
mod precompiles;
mod program_call;
mod runtime;
mod stylus_evm;

pub use arbwasm::{ArbWasm, ARB_OWNER_PUBLIC, ARB_WASM, ARB_WASM_CACHE, CHAIN_OWNER};
pub use arbwasm_cache::ArbWasmCache;
pub use precompiles::ArbPrecompiles;
pub use runtime::{ProgramInfo, StylusRuntime};
pub use stylus_evm::{build_evm, StylusContext, StylusEvm};
