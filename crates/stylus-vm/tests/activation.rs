//! The project's three contracts, as `scripts/build-contracts` writes them to
//! `target/contracts/`, go through the deployed-code format and activation.

use std::path::PathBuf;

use stylus_vm::activation::activate;
use stylus_vm::params::StylusParams;
use stylus_vm::program::{decode_program, encode_program};

const CONTRACTS: [&str; 3] = ["patient-registry", "access-token", "record-registry"];

fn contracts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/contracts")
}

/// The module without its data count section (id 12), the one thing nitro's parser refuses
/// in wasm-opt's output. Used only to report figures alongside the failure.
fn without_data_count(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Some((id, range)) = payload.unwrap().as_section() {
            if id != 12 {
                // Re-emit id, LEB128 size and contents.
                out.push(id);
                let range = range.start as usize..range.end as usize;
                let mut len = range.len();
                loop {
                    let byte = (len & 0x7f) as u8;
                    len >>= 7;
                    if len == 0 {
                        out.push(byte);
                        break;
                    }
                    out.push(byte | 0x80);
                }
                out.extend_from_slice(&wasm[range]);
            }
        }
    }
    out
}

#[test]
fn the_three_contracts_activate() {
    let dir = contracts_dir();
    if CONTRACTS
        .iter()
        .any(|c| !dir.join(format!("{c}.wasm")).exists())
    {
        eprintln!(
            "skipped: run scripts/build-contracts to produce {}",
            dir.display()
        );
        return;
    }
    let params = StylusParams::default();
    let mut failures = Vec::new();
    for name in CONTRACTS {
        let wasm = std::fs::read(dir.join(format!("{name}.wasm"))).unwrap();
        let code = encode_program(&wasm);
        let decoded = decode_program(&code, params.max_wasm_size as usize).unwrap();
        assert_eq!(decoded, wasm);
        match activate(&decoded, &params, false) {
            Ok(info) => eprintln!(
                "{name}: {} bytes wasm, {} bytes brotli, footprint {} pages, init cost {}, \
                 cached init cost {}, asm estimate {} bytes, activation gas {}",
                wasm.len(),
                code.len(),
                info.footprint,
                info.init_cost,
                info.cached_init_cost,
                info.asm_estimate,
                info.activation_gas(&params),
            ),
            Err(error) => {
                let stripped = activate(&without_data_count(&decoded), &params, false);
                let note = match stripped {
                    Ok(info) => format!(
                        " (without its data count section it activates: footprint {}, init \
                         cost {}, cached init cost {}, asm estimate {}, activation gas {})",
                        info.footprint,
                        info.init_cost,
                        info.cached_init_cost,
                        info.asm_estimate,
                        info.activation_gas(&params),
                    ),
                    Err(e) => format!(" (without its data count section: {e})"),
                };
                failures.push(format!("{name}: {error}{note}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "nitro would refuse to activate:\n{}",
        failures.join("\n")
    );
}
