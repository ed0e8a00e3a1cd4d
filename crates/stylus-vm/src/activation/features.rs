//! WASM validation with exactly the features nitro enables (prover `binary.rs`,
//! `parse_with_version`), and a readable name for the proposal a rejected module uses.

use wasmparser::{Validator, WasmFeatures};

use super::arbos_versions::ARBOS_VERSION_NO_MULTI_VALUE;
use crate::Error;

/// Nitro's feature set: the MVP plus mutable globals, saturating float-to-int, sign
/// extension, bulk memory, floats and GC types (needed for plain funcref tables), and
/// multi-value before ArbOS 60.
pub(crate) fn nitro_features(arbos_version: u64) -> WasmFeatures {
    let mut features = WasmFeatures::empty();
    features.set(WasmFeatures::MUTABLE_GLOBAL, true);
    features.set(WasmFeatures::SATURATING_FLOAT_TO_INT, true);
    features.set(WasmFeatures::SIGN_EXTENSION, true);
    features.set(
        WasmFeatures::MULTI_VALUE,
        arbos_version < ARBOS_VERSION_NO_MULTI_VALUE,
    );
    features.set(WasmFeatures::BULK_MEMORY, true);
    features.set(WasmFeatures::FLOATS, true);
    features.set(WasmFeatures::GC_TYPES, true);
    features
}

/// Proposals nitro turns off, each with the features that make a module using it valid.
/// Tried one at a time after a failed validation, to name what the module uses.
const PROPOSALS: [(&str, WasmFeatures); 11] = [
    ("reference types", WasmFeatures::REFERENCE_TYPES),
    ("SIMD", WasmFeatures::SIMD),
    (
        "relaxed SIMD",
        WasmFeatures::SIMD.union(WasmFeatures::RELAXED_SIMD),
    ),
    ("threads (shared memory or atomics)", WasmFeatures::THREADS),
    ("multiple memories", WasmFeatures::MULTI_MEMORY),
    ("64-bit memory", WasmFeatures::MEMORY64),
    ("tail calls", WasmFeatures::TAIL_CALL),
    (
        "exception handling",
        WasmFeatures::EXCEPTIONS
            .union(WasmFeatures::LEGACY_EXCEPTIONS)
            .union(WasmFeatures::REFERENCE_TYPES),
    ),
    (
        "extended constant expressions",
        WasmFeatures::EXTENDED_CONST,
    ),
    (
        "typed function references or GC",
        WasmFeatures::REFERENCE_TYPES
            .union(WasmFeatures::FUNCTION_REFERENCES)
            .union(WasmFeatures::GC),
    ),
    ("wide arithmetic", WasmFeatures::WIDE_ARITHMETIC),
];

/// Validates `wasm` as nitro does; on failure names the proposal the module uses when one
/// proposal alone explains it, else passes wasmparser's message on.
pub(crate) fn validate(wasm: &[u8], arbos_version: u64) -> Result<(), Error> {
    let features = nitro_features(arbos_version);
    let Err(error) = Validator::new_with_features(features).validate_all(wasm) else {
        return Ok(());
    };
    let passes = |extra: WasmFeatures| {
        Validator::new_with_features(features.union(extra))
            .validate_all(wasm)
            .is_ok()
    };
    if !features.contains(WasmFeatures::MULTI_VALUE) && passes(WasmFeatures::MULTI_VALUE) {
        return Err(Error::UnsupportedFeature(
            "multi-value (rejected from ArbOS 60)",
        ));
    }
    for (name, extra) in PROPOSALS {
        if passes(extra) {
            return Err(Error::UnsupportedFeature(name));
        }
    }
    Err(Error::InvalidWasm(error.to_string()))
}

/// Validates the module activation produced: nitro's features plus nothing, so the host
/// never instantiates something nitro could not run.
pub(crate) fn validate_output(wasm: &[u8], arbos_version: u64) -> Result<(), Error> {
    Validator::new_with_features(nitro_features(arbos_version))
        .validate_all(wasm)
        .map(drop)
        .map_err(|e| Error::Instrumentation(e.to_string()))
}
