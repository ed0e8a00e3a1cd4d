//! `cargo run --features export-abi` prints the Solidity interface (cargo stylus export-abi).
#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]

#[cfg(not(any(test, feature = "export-abi")))]
#[unsafe(no_mangle)]
pub extern "C" fn main() {}

#[cfg(feature = "export-abi")]
fn main() {
    access_token::print_from_args();
}
