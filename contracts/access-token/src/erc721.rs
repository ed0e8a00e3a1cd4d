//! The read side of ERC-721 for tokens that never move (EIP-5192, "soulbound"),
//! after OpenZeppelin's `Erc721`: balances and owners, `Transfer` on mint and burn,
//! ERC-165 ids, and the errors of ERC-6093. Transfers and approvals are refused by
//! the contract (`lib.rs`), which is the only code that mints and burns.

use alloc::{vec, vec::Vec};

use alloy_primitives::{Address, FixedBytes, U256};
use alloy_sol_types::sol;
use stylus_sdk::{
    prelude::*,
    storage::{StorageAddress, StorageMap, StorageU256},
};

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
}

/// ERC-165 interface id of ERC-165 itself.
pub const IERC165_ID: [u8; 4] = [0x01, 0xff, 0xc9, 0xa7];
/// ERC-165 interface id of ERC-721.
pub const IERC721_ID: [u8; 4] = [0x80, 0xac, 0x58, 0xcd];
/// ERC-165 interface id of EIP-5192 (`locked(uint256)`).
pub const IERC5192_ID: [u8; 4] = [0xb4, 0x5a, 0x3c, 0x0e];

/// Whether `interface_id` is one this token implements.
pub fn supports_interface(interface_id: FixedBytes<4>) -> bool {
    let id = interface_id.0;
    id == IERC165_ID || id == IERC721_ID || id == IERC5192_ID
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
