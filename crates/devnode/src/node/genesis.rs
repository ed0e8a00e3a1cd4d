//! The chain's first state: nitro-devnode's dev account, generated accounts, ArbOS
//! precompile markers and the CREATE2 factory.

use crate::evm::ArbPrecompiles;
use alloy_primitives::{address, b256, bytes, keccak256, Address, Bytes, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use revm::bytecode::Bytecode;
use revm::database::{CacheDB, EmptyDB};
use revm::state::AccountInfo;

/// nitro-devnode's prefunded dev key (public, for local chains only).
pub const DEV_KEY: B256 = b256!("b6b15c8cb491557369f3c7d2c287b053eb229daa9c22138887752191c9520659");
/// Its address.
pub const DEV_ADDRESS: Address = address!("3f1Eae7D46d88F08fc2F8ed27FCb2AB183EB2d0E");
/// The deterministic-deployment proxy nitro-devnode installs (CREATE2 factory).
pub const CREATE2_FACTORY: Address = address!("4e59b44847b379578588920cA78FbF26c0B4956C");
const CREATE2_FACTORY_CODE: Bytes = bytes!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// A funded account the node can sign for.
#[derive(Clone)]
pub struct DevAccount {
    pub signer: PrivateKeySigner,
}

impl DevAccount {
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
    let factory = Bytecode::new_raw(CREATE2_FACTORY_CODE);
    db.insert_account_info(
        CREATE2_FACTORY,
        AccountInfo {
            code_hash: factory.hash_slow(),
            code: Some(factory),
            nonce: 1,
            ..Default::default()
        },
    );
    db
}
