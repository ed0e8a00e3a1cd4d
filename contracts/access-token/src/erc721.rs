//! The ERC-721 surface of tokens that never move (EIP-5192, "soulbound"), after
//! OpenZeppelin's `Erc721`: the [`IErc721`] and [`IErc5192`] traits with their
//! ERC-165 ids, the `Transfer` and `Locked` events, the errors (ERC-6093's, and
//! the two refusals of a token that never moves), and [`Erc721`], the storage of
//! owners and balances with mint and burn.
//!
//! AccessToken implements the traits (`lib.rs`): reads answer from [`Erc721`],
//! transfers and approvals always revert. It is the only code that mints and
//! burns.
//!
//! Why the traits are not `#[public]` with `#[implements(...)]`: stylus-sdk
//! 0.10's export-abi then prints each implemented trait as an interface of its
//! own (`interface IIErc5192 { function locked… }`) and the contract as
//! `interface IAccessToken is IIErc5192, …`, which would change
//! `abi/IAccessToken.sol`. So the contract's `#[public]` impl keeps the ERC-721
//! functions, in their ABI order and with their ABI argument names, and each
//! forwards to its trait method; the forwarding is inlined away (the WASM is
//! the same size as with the bodies in place).

use alloc::{vec, vec::Vec};

use alloy_primitives::{Address, FixedBytes, U256};
use alloy_sol_types::sol;
use stylus_sdk::{
    abi::Bytes,
    function_selector,
    prelude::*,
    storage::{StorageAddress, StorageMap, StorageU256},
};

use crate::erc165::interface_id;

sol! {
    /// ERC-721: emitted on mint (`from` zero) and burn (`to` zero) only.
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    /// EIP-5192: the token is locked, for good, from its mint.
    event Locked(uint256 tokenId);

    /// ERC-6093: the zero address owns nothing.
    #[derive(Debug)]
    error ERC721InvalidOwner(address owner);
    /// ERC-6093: no such token (never minted, or burnt).
    #[derive(Debug)]
    error ERC721NonexistentToken(uint256 tokenId);
    /// Grant tokens never move (EIP-5192).
    #[derive(Debug)]
    error TokenLocked(uint256 tokenId);
    /// Grant tokens cannot be approved for anyone.
    #[derive(Debug)]
    error ApprovalsDisabled();
}

/// ERC-165 id of ERC-721's metadata extension (`0x5b5e139f`): `name()`,
/// `symbol()`, `tokenURI(uint256)`. Not claimed by AccessToken, which has no
/// `tokenURI`.
pub const IERC721_METADATA_ID: FixedBytes<4> = interface_id(&[
    function_selector!("name"),
    function_selector!("symbol"),
    function_selector!("tokenURI", U256),
]);

/// ERC-721's required interface, after OpenZeppelin's `IErc721`. The functions
/// are ERC-721's, with its selectors; what a token that never moves answers is
/// documented on AccessToken's implementation.
pub trait IErc721 {
    /// The error type the token reverts with.
    type Error;

    /// ERC-721's id (`0x80ac58cd`): its nine functions, the methods below.
    const INTERFACE_ID: FixedBytes<4> = interface_id(&[
        function_selector!("balanceOf", Address),
        function_selector!("ownerOf", U256),
        function_selector!("safeTransferFrom", Address, Address, U256),
        function_selector!("safeTransferFrom", Address, Address, U256, Bytes),
        function_selector!("transferFrom", Address, Address, U256),
        function_selector!("approve", Address, U256),
        function_selector!("setApprovalForAll", Address, bool),
        function_selector!("getApproved", U256),
        function_selector!("isApprovedForAll", Address, Address),
    ]);

    /// How many tokens `owner` holds.
    ///
    /// # Errors
    /// `ERC721InvalidOwner` for the zero address.
    fn balance_of(&self, owner: Address) -> Result<U256, Self::Error>;

    /// The holder of `token_id`.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    fn owner_of(&self, token_id: U256) -> Result<Address, Self::Error>;

    /// `safeTransferFrom(address,address,uint256)`.
    ///
    /// # Errors
    /// As the implementation documents.
    ///
    /// # Events
    /// `Transfer(from, to, token_id)` on success.
    fn safe_transfer_from(
        &mut self,
        from: Address,
        to: Address,
        token_id: U256,
    ) -> Result<(), Self::Error>;

    /// `safeTransferFrom(address,address,uint256,bytes)`.
    ///
    /// # Errors
    /// As the implementation documents.
    ///
    /// # Events
    /// `Transfer(from, to, token_id)` on success.
    fn safe_transfer_from_with_data(
        &mut self,
        from: Address,
        to: Address,
        token_id: U256,
        data: Bytes,
    ) -> Result<(), Self::Error>;

    /// `transferFrom(address,address,uint256)`.
    ///
    /// # Errors
    /// As the implementation documents.
    ///
    /// # Events
    /// `Transfer(from, to, token_id)` on success.
    fn transfer_from(
        &mut self,
        from: Address,
        to: Address,
        token_id: U256,
    ) -> Result<(), Self::Error>;

    /// Approves `to` for `token_id`.
    ///
    /// # Errors
    /// As the implementation documents.
    fn approve(&mut self, to: Address, token_id: U256) -> Result<(), Self::Error>;

    /// Makes `operator` an operator of the caller's tokens, or not.
    ///
    /// # Errors
    /// As the implementation documents.
    fn set_approval_for_all(
        &mut self,
        operator: Address,
        approved: bool,
    ) -> Result<(), Self::Error>;

    /// The account approved for `token_id`.
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    fn get_approved(&self, token_id: U256) -> Result<Address, Self::Error>;

    /// Whether `operator` may move every token of `owner`.
    fn is_approved_for_all(&self, owner: Address, operator: Address) -> bool;
}

/// EIP-5192: a token's transferability, fixed from its mint.
pub trait IErc5192 {
    /// The error type the token reverts with.
    type Error;

    /// EIP-5192's id (`0xb45a3c0e`): the selector of `locked(uint256)`.
    const INTERFACE_ID: FixedBytes<4> = interface_id(&[function_selector!("locked", U256)]);

    /// Whether `token_id` is locked (can never move).
    ///
    /// # Errors
    /// `ERC721NonexistentToken` if the token does not exist.
    fn locked(&self, token_id: U256) -> Result<bool, Self::Error>;
}

/// Ownership and balances.
#[storage]
pub struct Erc721 {
    owners: StorageMap<U256, StorageAddress>,
    balances: StorageMap<Address, StorageU256>,
}

impl Erc721 {
    /// The holder of `token_id`, or zero if it does not exist.
    pub fn owner_of_raw(&self, token_id: U256) -> Address {
        self.owners.get(token_id)
    }

    /// The holder of `token_id`.
    pub fn owner_of(&self, token_id: U256) -> Result<Address, ERC721NonexistentToken> {
        let owner = self.owners.get(token_id);
        if owner.is_zero() {
            return Err(ERC721NonexistentToken { tokenId: token_id });
        }
        Ok(owner)
    }

    /// How many tokens `owner` holds.
    pub fn balance_of(&self, owner: Address) -> Result<U256, ERC721InvalidOwner> {
        if owner.is_zero() {
            return Err(ERC721InvalidOwner { owner });
        }
        Ok(self.balances.get(owner))
    }

    /// Mints a fresh id to `to` (never zero: the caller checks) and locks it.
    pub fn mint(&mut self, to: Address, token_id: U256) {
        self.owners.insert(token_id, to);
        let mut balance = self.balances.setter(to);
        let next = balance.get() + U256::from(1);
        balance.set(next);
        self.vm().log(Transfer {
            from: Address::ZERO,
            to,
            tokenId: token_id,
        });
        self.vm().log(Locked { tokenId: token_id });
    }

    /// Burns an existing token.
    pub fn burn(&mut self, token_id: U256) -> Result<Address, ERC721NonexistentToken> {
        let owner = self.owner_of(token_id)?;
        self.owners.delete(token_id);
        let mut balance = self.balances.setter(owner);
        let next = balance.get() - U256::from(1);
        balance.set(next);
        self.vm().log(Transfer {
            from: owner,
            to: Address::ZERO,
            tokenId: token_id,
        });
        Ok(owner)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{erc165::IErc165, AccessToken};

    alloy_sol_types::sol! {
        /// ERC-721 as the EIP states it (functions only).
        interface IERC721 {
            function balanceOf(address owner) external view returns (uint256);
            function ownerOf(uint256 tokenId) external view returns (address);
            function safeTransferFrom(address from, address to, uint256 tokenId, bytes data) external payable;
            function safeTransferFrom(address from, address to, uint256 tokenId) external payable;
            function transferFrom(address from, address to, uint256 tokenId) external payable;
            function approve(address approved, uint256 tokenId) external payable;
            function setApprovalForAll(address operator, bool approved) external;
            function getApproved(uint256 tokenId) external view returns (address);
            function isApprovedForAll(address owner, address operator) external view returns (bool);
        }

        /// ERC-721's metadata extension.
        interface IERC721Metadata {
            function name() external view returns (string);
            function symbol() external view returns (string);
            function tokenURI(uint256 tokenId) external view returns (string);
        }

        /// EIP-5192, minimal soulbound tokens (functions only).
        interface IERC5192 {
            function locked(uint256 tokenId) external view returns (bool);
        }
    }

    #[test]
    fn the_computed_interface_ids_are_the_published_ones() {
        let id = FixedBytes::new;
        assert_eq!(
            <AccessToken as IErc721>::INTERFACE_ID,
            id([0x80, 0xac, 0x58, 0xcd])
        );
        assert_eq!(IERC721_METADATA_ID, id([0x5b, 0x5e, 0x13, 0x9f]));
        assert_eq!(
            <AccessToken as IErc5192>::INTERFACE_ID,
            id([0xb4, 0x5a, 0x3c, 0x0e])
        );
        assert_eq!(
            <AccessToken as IErc165>::INTERFACE_ID,
            id([0x01, 0xff, 0xc9, 0xa7])
        );
    }

    #[test]
    fn the_ids_are_those_of_the_eips_solidity_declarations() {
        assert_eq!(IERC721::IERC721Calls::SELECTORS.len(), 9);
        assert_eq!(
            <AccessToken as IErc721>::INTERFACE_ID,
            interface_id(IERC721::IERC721Calls::SELECTORS)
        );
        assert_eq!(
            IERC721_METADATA_ID,
            interface_id(IERC721Metadata::IERC721MetadataCalls::SELECTORS)
        );
        assert_eq!(
            <AccessToken as IErc5192>::INTERFACE_ID,
            interface_id(IERC5192::IERC5192Calls::SELECTORS)
        );
    }
}
