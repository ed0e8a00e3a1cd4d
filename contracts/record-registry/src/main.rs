//! `cargo run --features export-abi` prints the Solidity interface (cargo stylus export-abi).
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]

/// Never called: the contract's entry point is the library's `user_entrypoint`.
/// Without `export-abi` the binary is `no_main`, and this empty `main` is the
/// symbol a host link still needs.
#[cfg(not(any(test, feature = "export-abi")))]
#[unsafe(no_mangle)]
pub extern "C" fn main() {}

#[cfg(feature = "export-abi")]
fn main() {
    record_registry::print_from_args();
}
