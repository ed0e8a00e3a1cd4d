//! The contracts' interfaces as `scripts/export-abi` writes them to abi/ (checked
//! up to date in CI), so the CLI never carries a hand-written selector.

alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IPatientRegistry.sol"
);
alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IAccessToken.sol"
);
alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IRecordRegistry.sol"
);

alloy::sol! {
    /// ArbWasm (0x71): activation of Stylus programs.
    #[sol(rpc)]
    #[derive(Debug)]
    interface ArbWasm {
        function activateProgram(address program) external payable returns (uint16 version, uint256 dataFee);
        function codehashVersion(bytes32 codehash) external view returns (uint16 version);
        error ProgramNotWasm();
        error ProgramNotActivated();
        error ProgramNeedsUpgrade(uint16 version, uint16 stylusVersion);
        error ProgramExpired(uint64 ageInSeconds);
        error ProgramUpToDate();
        error ProgramInsufficientValue(uint256 have, uint256 want);
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
