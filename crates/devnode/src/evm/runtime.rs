//! What every EVM instance of a node shares: the WASM host with its compiled-module
//! cache, activations by code hash, and the chain's Stylus parameters. A leaf: it uses
//! stylus-vm only.

use alloy_primitives::B256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stylus_vm::activation::{activate, ActivationInfo};
use stylus_vm::host::StylusHost;
use stylus_vm::params::StylusParams;
use stylus_vm::program::decode_program;

/// Shared Stylus machinery of one node.
#[derive(Clone)]
pub struct StylusRuntime {
    /// The wasmi engine and compiled-module cache every program runs on.
    pub host: StylusHost,
    /// The chain's Stylus parameters (ArbOS's `StylusParams`: ink price, page
    /// limits, init costs), which activation and every call read.
    pub params: StylusParams,
    /// Activation is a pure function of the code, so its product is cached by code
    /// hash for the node's lifetime, whether the activation committed or not.
    activations: Arc<Mutex<HashMap<B256, Arc<ActivationInfo>>>>,
    /// nitro's debug mode: activation accepts the `console` hostios.
    pub debug: bool,
}

impl StylusRuntime {
    /// A runtime with no activations yet; fails if the WASM engine cannot start.
    pub fn new(params: StylusParams, debug: bool) -> Result<Self, stylus_vm::Error> {
        Ok(Self {
            host: StylusHost::new()?,
            params,
            activations: Arc::default(),
            debug,
        })
    }

    /// Validates and instruments deployed Stylus code (`EF F0 00 …`), cached by code hash.
    pub fn activate(
        &self,
        codehash: B256,
        code: &[u8],
    ) -> Result<Arc<ActivationInfo>, stylus_vm::Error> {
        if let Some(info) = self
            .activations
            .lock()
            .ok()
            .and_then(|m| m.get(&codehash).cloned())
        {
            return Ok(info);
        }
        let wasm = decode_program(code, self.params.max_wasm_size as usize)?;
        let info = Arc::new(activate(&wasm, &self.params, self.debug)?);
        if let Ok(mut map) = self.activations.lock() {
            map.insert(codehash, info.clone());
        }
        Ok(info)
    }
}
