//! The contracts' events and views as `scripts/export-abi` writes them to abi/.

alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IAccessToken.sol"
);
alloy::sol!(
    #[sol(rpc, all_derives)]
    "../../abi/IRecordRegistry.sol"
);
