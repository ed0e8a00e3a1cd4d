//! ERC-165 (interface detection), after OpenZeppelin's `IErc165`: the trait a
//! contract answers `supportsInterface` through, and [`interface_id`], which
//! computes an interface's id at compile time, so that no id is written by hand.
//!
//! Each trait's `INTERFACE_ID` is the XOR of its functions' selectors, each
//! computed by `stylus_sdk::function_selector!` from the function's name and
//! Rust argument types, as the `#[public]` router computes the selectors it
//! answers to (and as OpenZeppelin's `#[interface_id]` expands). The tests check
//! each id against the published one and against the selectors of the EIP's
//! Solidity declaration (`sol!`, in the tests only: a `sol!` interface in the
//! contract would emit decoders that cost the router its inlining, about 120
//! brotli bytes).

use alloy_primitives::FixedBytes;
use stylus_sdk::function_selector;

/// The ERC-165 id of an interface: the XOR of the selectors of its functions.
/// A `const fn`, so ids are computed at compile time and cost nothing on chain.
pub const fn interface_id(selectors: &[[u8; 4]]) -> FixedBytes<4> {
    let mut id = 0u32;
    let mut i = 0;
    while i < selectors.len() {
        id ^= u32::from_be_bytes(selectors[i]);
        i += 1;
    }
    FixedBytes::new(id.to_be_bytes())
}

/// ERC-165: which interfaces a contract implements.
pub trait IErc165 {
    /// ERC-165's own id (`0x01ffc9a7`): the selector of its one function.
    const INTERFACE_ID: FixedBytes<4> =
        interface_id(&[function_selector!("supportsInterface", FixedBytes<4>)]);

    /// Whether the contract implements the interface `interface_id`. Never
    /// reverts.
    fn supports_interface(&self, interface_id: FixedBytes<4>) -> bool;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    alloy_sol_types::sol! {
        /// ERC-165 as the EIP states it.
        interface IERC165 {
            function supportsInterface(bytes4 interfaceId) external view returns (bool);
        }
    }

    #[test]
    fn the_erc165_id_is_the_published_one() {
        struct Any;
        impl IErc165 for Any {
            fn supports_interface(&self, _: FixedBytes<4>) -> bool {
                false
            }
        }
        assert_eq!(
            <Any as IErc165>::INTERFACE_ID,
            FixedBytes([0x01, 0xff, 0xc9, 0xa7])
        );
        assert_eq!(
            <Any as IErc165>::INTERFACE_ID,
            interface_id(IERC165::IERC165Calls::SELECTORS)
        );
    }

    #[test]
    fn an_id_is_the_xor_of_the_selectors_in_any_order() {
        let (a, b, c) = (
            [0x12, 0x34, 0x56, 0x78],
            [0xff, 0x00, 0xff, 0x00],
            [1, 2, 3, 4],
        );
        let id = interface_id(&[a, b, c]);
        assert_eq!(
            id,
            FixedBytes([0x12 ^ 0xff ^ 1, 0x34 ^ 2, 0x56 ^ 0xff ^ 3, 0x78 ^ 4])
        );
        assert_eq!(interface_id(&[c, a, b]), id);
        assert_eq!(interface_id(&[a]), FixedBytes(a));
        assert_eq!(interface_id(&[]), FixedBytes::ZERO);
        assert_eq!(interface_id(&[a, a]), FixedBytes::ZERO);
    }
}
