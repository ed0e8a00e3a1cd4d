//! The chain's first state: nitro-devnode's dev account, generated accounts, ArbOS
//! precompile markers, the CREATE2 factory and the StylusDeployer.

use crate::evm::{ArbPrecompiles, CHAIN_OWNER};
use alloy_primitives::{address, b256, bytes, keccak256, Address, Bytes, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use revm::bytecode::Bytecode;
use revm::database::{CacheDB, EmptyDB};
use revm::state::AccountInfo;

/// nitro-devnode's prefunded dev key (public, for local chains only).
pub const DEV_KEY: B256 = b256!("b6b15c8cb491557369f3c7d2c287b053eb229daa9c22138887752191c9520659");
/// Its address: nitro-devnode's chain owner (and network fee account) is its dev account.
pub const DEV_ADDRESS: Address = CHAIN_OWNER;
/// The deterministic-deployment proxy nitro-devnode installs (CREATE2 factory).
pub const CREATE2_FACTORY: Address = address!("4e59b44847b379578588920cA78FbF26c0B4956C");
const CREATE2_FACTORY_CODE: Bytes = bytes!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// nitro-devnode's StylusDeployer, which `cargo stylus deploy` calls for every contract
/// with a constructor: it deploys, activates and calls `stylus_constructor` in one
/// transaction. nitro-devnode's run-dev-node.sh creates it through the CREATE2 factory
/// with salt 0, hence this address.
pub const STYLUS_DEPLOYER: Address = address!("cEcba2F1DC234f70Dd89F2041029807F8D03A990");
/// Its init code, as OffchainLabs/nitro-devnode ships it (`stylus-deployer-bytecode.txt`,
/// Apache-2.0), compiled from OffchainLabs/nitro-contracts `src/stylus/StylusDeployer.sol`
/// (MIT). The constructor only copies the runtime code that follows its 32 bytes
/// (`CODECOPY(0, 0x20, 0x8dd)`, no immutables).
const STYLUS_DEPLOYER_INIT_CODE: &str = include_str!("stylus_deployer.hex");
const STYLUS_DEPLOYER_CONSTRUCTOR_LEN: usize = 32;

fn stylus_deployer_runtime_code() -> Bytes {
    let init = alloy_primitives::hex::decode(STYLUS_DEPLOYER_INIT_CODE.trim())
        .expect("stylus_deployer.hex is hex");
    Bytes::copy_from_slice(&init[STYLUS_DEPLOYER_CONSTRUCTOR_LEN..])
}

/// A funded account the node can sign for.
#[derive(Clone)]
pub struct DevAccount {
    /// Its key, printed by `--print-keys`, for wallets and tests that sign.
    pub signer: PrivateKeySigner,
}

impl DevAccount {
    /// The account's address, derived from its key.
    pub fn address(&self) -> Address {
        self.signer.address()
    }
}

/// The dev account, then `extra` accounts whose keys derive from a fixed seed, so
/// that every start prints the same ones.
pub fn dev_accounts(extra: usize) -> Vec<DevAccount> {
    let mut keys = vec![DEV_KEY];
    keys.extend((0..extra).map(|i| keccak256(format!("careledger-devnode account {i}"))));
    keys.into_iter()
        .map(|k| DevAccount {
            signer: PrivateKeySigner::from_bytes(&k).expect("valid secp256k1 key"),
        })
        .collect()
}

/// Each dev account starts with 1,000,000 ETH.
pub fn genesis_balance() -> U256 {
    U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18))
}

/// Block 0's state: the funded `accounts`, `0xFE` at the ArbOS precompiles, the
/// CREATE2 factory and the StylusDeployer, as nitro-devnode starts.
pub fn genesis_state(accounts: &[DevAccount]) -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    for account in accounts {
        db.insert_account_info(
            account.address(),
            AccountInfo {
                balance: genesis_balance(),
                ..Default::default()
            },
        );
    }
    // "Solidity requires call targets have code": nitro gives precompiles 0xFE.
    for address in ArbPrecompiles::arbos_addresses() {
        let code = Bytecode::new_raw(Bytes::from_static(&[0xfe]));
        db.insert_account_info(
            address,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                nonce: 1,
                ..Default::default()
            },
        );
    }
    for (address, code) in [
        (CREATE2_FACTORY, CREATE2_FACTORY_CODE),
        (STYLUS_DEPLOYER, stylus_deployer_runtime_code()),
    ] {
        let code = Bytecode::new_raw(code);
        db.insert_account_info(
            address,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                nonce: 1,
                ..Default::default()
            },
        );
    }
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_key_signs_for_the_chain_owner() {
        assert_eq!(dev_accounts(0)[0].address(), DEV_ADDRESS);
    }

    #[test]
    fn stylus_deployer_is_what_nitro_devnode_deploys() {
        let init = alloy_primitives::hex::decode(STYLUS_DEPLOYER_INIT_CODE.trim()).unwrap();
        // run-dev-node.sh: CREATE2 factory, salt 0.
        assert_eq!(
            CREATE2_FACTORY.create2(B256::ZERO, keccak256(&init)),
            STYLUS_DEPLOYER
        );
        // The constructor returns exactly the bytes after it.
        let runtime = stylus_deployer_runtime_code();
        assert_eq!(
            &init[..STYLUS_DEPLOYER_CONSTRUCTOR_LEN],
            &bytes!("608060405234801561001057600080fd5b506108dd806100206000396000f3fe")[..]
        );
        assert_eq!(runtime.len(), 0x8dd);
        // deploy(bytes,bytes,uint256,bytes32) is in its dispatcher.
        let selector = &keccak256("deploy(bytes,bytes,uint256,bytes32)")[..4];
        assert!(runtime.windows(4).any(|w| w == selector));
    }
}
