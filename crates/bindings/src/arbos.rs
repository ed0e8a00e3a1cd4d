//! The ArbOS precompiles and the StylusDeployer that tools deploying Stylus
//! programs call, as nitro's `precompiles/*.sol` and nitro-contracts declare them.

use alloy::primitives::{address, Address};

/// ArbWasm's address (`0x…71`).
pub const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");
/// ArbWasmCache's address (`0x…72`).
pub const ARB_WASM_CACHE: Address = address!("0000000000000000000000000000000000000072");

alloy::sol! {
    /// ArbWasm (0x71): activation of Stylus programs, as cargo-stylus declares it.
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    interface ArbWasm {
        function activateProgram(address program) external payable returns (uint16 version, uint256 dataFee);
        function stylusVersion() external view returns (uint16 version);
        function codehashVersion(bytes32 codehash) external view returns (uint16 version);
        function programVersion(address program) external view returns (uint16 version);
        function programInitGas(address program) external view returns (uint64 gas, uint64 gasWhenCached);
        event ProgramActivated(bytes32 indexed codehash, bytes32 moduleHash, address program, uint256 dataFee, uint16 version);
        error ProgramNotWasm();
        error ProgramNotActivated();
        error ProgramNeedsUpgrade(uint16 version, uint16 stylusVersion);
        error ProgramExpired(uint64 ageInSeconds);
        error ProgramUpToDate();
        error ProgramInsufficientValue(uint256 have, uint256 want);
    }

    /// ArbWasmCache (0x72), nitro's `precompiles/ArbWasmCache.sol`.
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    interface ArbWasmCache {
        function isCacheManager(address manager) external view returns (bool);
        function cacheProgram(address addr) external;
        function evictCodehash(bytes32 codehash) external;
        function codehashIsCached(bytes32 codehash) external view returns (bool);
        event UpdateProgramCache(address indexed manager, bytes32 indexed codehash, bool cached);
    }

    /// The StylusDeployer that `cargo stylus deploy` uses (nitro-contracts
    /// `src/stylus/StylusDeployer.sol`): create, activate and construct in one
    /// transaction, so nobody can call a constructor between them.
    #[sol(rpc)]
    #[derive(Debug)]
    interface StylusDeployer {
        function deploy(bytes calldata bytecode, bytes calldata initData, uint256 initValue, bytes32 salt) external payable returns (address);
        event ContractDeployed(address deployedContract);
        error ContractDeploymentError(bytes bytecode);
        error ContractInitializationError(address newContract, bytes data);
        error RefundExcessValueError(uint256 excessValue);
        error EmptyBytecode();
        error InitNotPayable();
        error InitValueButNotInitData();
    }
}
