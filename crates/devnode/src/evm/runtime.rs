//! What every EVM instance of a node shares: the WASM host with its compiled-module
//! cache, activations by code hash, and the chain's Stylus parameters.

use alloy_primitives::{B256, U256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stylus_vm::activation::{activate, ActivationInfo};
use stylus_vm::host::StylusHost;
use stylus_vm::params::StylusParams;
use stylus_vm::program::decode_program;

/// An activation as recorded in ArbWasm's storage (one word per code hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProgramInfo {
    pub version: u16,
    pub init_cost: u16,
    pub cached_init_cost: u16,
    pub footprint: u16,
    pub asm_estimate_kb: u32,
    pub activated_at: u64,
    /// In ArbOS's program cache (ArbWasmCache.cacheProgram): calls pay the cached
    /// init gas only.
    pub cached: bool,
}

impl ProgramInfo {
    /// Packs into one storage word; zero means "not activated" (version is never 0).
    pub fn to_word(self) -> U256 {
        let mut w = [0u8; 32];
        w[0..2].copy_from_slice(&self.version.to_be_bytes());
        w[2..4].copy_from_slice(&self.init_cost.to_be_bytes());
        w[4..6].copy_from_slice(&self.cached_init_cost.to_be_bytes());
        w[6..8].copy_from_slice(&self.footprint.to_be_bytes());
        w[8..12].copy_from_slice(&self.asm_estimate_kb.to_be_bytes());
        w[12..20].copy_from_slice(&self.activated_at.to_be_bytes());
        w[20] = u8::from(self.cached);
        U256::from_be_bytes(w)
    }

    pub fn from_word(word: U256) -> Option<Self> {
        if word.is_zero() {
            return None;
        }
        let w = word.to_be_bytes::<32>();
        let u16_at = |i: usize| u16::from_be_bytes([w[i], w[i + 1]]);
        Some(Self {
            version: u16_at(0),
            init_cost: u16_at(2),
            cached_init_cost: u16_at(4),
            footprint: u16_at(6),
            asm_estimate_kb: u32::from_be_bytes(w[8..12].try_into().expect("4 bytes")),
            activated_at: u64::from_be_bytes(w[12..20].try_into().expect("8 bytes")),
            cached: w[20] != 0,
        })
    }
}

/// Shared Stylus machinery of one node.
#[derive(Clone)]
pub struct StylusRuntime {
    pub host: StylusHost,
    pub params: StylusParams,
    /// Activation is a pure function of the code, so its product is cached by code
    /// hash for the node's lifetime, whether the activation committed or not.
    activations: Arc<Mutex<HashMap<B256, Arc<ActivationInfo>>>>,
    pub debug: bool,
}

impl StylusRuntime {
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
