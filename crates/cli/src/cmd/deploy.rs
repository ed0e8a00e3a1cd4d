//! `careledger deploy`: the three programs created, activated and constructed
//! through the StylusDeployer in one transaction each, as `cargo stylus deploy`
//! does, then linked; the addresses go to the deployment file.

use crate::abi::{ArbWasm, IAccessToken, StylusDeployer};
use crate::chain::{event, send};
use crate::context::Ctx;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::output::{steps, Report};
use alloy::network::TransactionBuilder;
use alloy::primitives::{address, keccak256, Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::state::{AccountOverride, StateOverride};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolValue};
use serde_json::json;
use std::path::Path;

const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");
/// Where nitro-devnode and Arbitrum chains have the StylusDeployer.
pub const STYLUS_DEPLOYER: Address = address!("cEcba2F1DC234f70Dd89F2041029807F8D03A990");
const CONTRACTS: [&str; 3] = ["patient-registry", "access-token", "record-registry"];

/// `deploy`: deploys and activates the three contracts from `dir`, links them and
/// saves the deployment file; the deployment is returned for in-process callers.
pub async fn run(ctx: &Ctx, dir: &Path) -> Result<(Deployment, Report)> {
    let wasms = CONTRACTS
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.wasm"));
            std::fs::read(&path).map_err(|source| Error::NoContracts {
                path: path.display().to_string(),
                source,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let me = ctx.me()?;
    let chain_id = ctx.chain_id().await?;
    let deploy_block = ctx.rpc(ctx.provider.get_block_number()).await? + 1;
    let bar = steps(ctx.progress, 4, "deploy");

    let registry = deploy_one(ctx, &wasms[0], me, (me,).abi_encode_params()).await?;
    bar.inc(1);
    bar.set_message(format!("PatientRegistry {registry}"));
    let token = deploy_one(ctx, &wasms[1], me, (registry,).abi_encode_params()).await?;
    bar.inc(1);
    bar.set_message(format!("AccessToken {token}"));
    let records = deploy_one(ctx, &wasms[2], me, (registry, token).abi_encode_params()).await?;
    bar.inc(1);
    bar.set_message(format!("RecordRegistry {records}"));
    let link = IAccessToken::linkRecordRegistryCall {
        record_registry: records,
    };
    ctx.transact(token, link).await?;
    bar.inc(1);
    bar.finish_and_clear();

    let d = Deployment {
        chain_id,
        patient_registry: registry,
        access_token: token,
        record_registry: records,
        deploy_block,
    };
    crate::deployment::save(&d, &ctx.deployment_path)?;
    let report = Report::new(json!({
        "chainId": chain_id,
        "patientRegistry": registry,
        "accessToken": token,
        "recordRegistry": records,
        "deployBlock": deploy_block,
        "owner": me,
        "deploymentFile": ctx.deployment_path.display().to_string(),
    }))
    .line(format!("PatientRegistry  {registry}"))
    .line(format!("AccessToken      {token}"))
    .line(format!("RecordRegistry   {records}"))
    .line(format!(
        "owner {me} on chain {chain_id}; addresses saved to {}",
        ctx.deployment_path.display()
    ));
    Ok((d, report))
}

/// Init code returning `runtime`: cargo-stylus's 43-byte prelude (PUSH32 len,
/// DUP1, PUSH1 43, PUSH1 0, CODECOPY, PUSH1 0, RETURN, STOP).
fn init_code(runtime: &[u8]) -> Vec<u8> {
    let mut code = vec![0x7f];
    code.extend_from_slice(&U256::from(runtime.len()).to_be_bytes::<32>());
    code.extend_from_slice(&[0x80, 0x60, 0x2b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, 0x00]);
    code.extend_from_slice(runtime);
    code
}

/// The calldata of the SDK's constructor entry point.
fn constructor(args: Vec<u8>) -> Bytes {
    let mut data = keccak256("stylus_constructor()")[..4].to_vec();
    data.extend_from_slice(&args);
    data.into()
}

async fn deploy_one(ctx: &Ctx, wasm: &[u8], me: Address, args: Vec<u8>) -> Result<Address> {
    let runtime = stylus_vm::program::encode_program(wasm);
    // The same program deployed before (by anyone) is activated already: the
    // deployer then skips activation, and ArbWasm would refuse a second one.
    let fee = if already_active(ctx, &runtime).await {
        U256::ZERO
    } else {
        data_fee(ctx, &runtime, me).await?
    };
    // cargo stylus bumps the estimate by 20 %; the deployer refunds the excess.
    let value = fee + fee / U256::from(5);
    let call = StylusDeployer::deployCall {
        bytecode: init_code(&runtime).into(),
        initData: constructor(args),
        initValue: U256::ZERO,
        salt: B256::ZERO,
    };
    let receipt = send(
        &ctx.provider,
        &ctx.url,
        STYLUS_DEPLOYER,
        call.abi_encode().into(),
        value,
    )
    .await?;
    Ok(event::<StylusDeployer::ContractDeployed>(&receipt)?.deployedContract)
}

/// Whether ArbWasm holds an activation of this code at the current Stylus version
/// that has not expired (`codehashVersion` answers only then).
async fn already_active(ctx: &Ctx, runtime: &[u8]) -> bool {
    ArbWasm::new(ARB_WASM, &ctx.provider)
        .codehashVersion(keccak256(runtime))
        .call()
        .await
        .is_ok()
}

/// The activation data fee, asked of ArbWasm in an `eth_call` with the program's
/// code put at a scratch address by a state override (what cargo stylus does).
async fn data_fee(ctx: &Ctx, runtime: &[u8], me: Address) -> Result<U256> {
    let scratch = Address::from_slice(&keccak256(runtime)[12..]);
    let mut overrides = StateOverride::default();
    overrides.insert(
        scratch,
        AccountOverride::default().with_code(Bytes::copy_from_slice(runtime)),
    );
    let rich = U256::from(10u64).pow(U256::from(21));
    overrides.insert(me, AccountOverride::default().with_balance(rich));
    let call = ArbWasm::activateProgramCall { program: scratch };
    let tx = TransactionRequest::default()
        .with_from(me)
        .with_to(ARB_WASM)
        .with_input(call.abi_encode())
        .with_value(rich / U256::from(2));
    let out = ctx.rpc(ctx.provider.call(tx).overrides(overrides)).await?;
    let ret = ArbWasm::activateProgramCall::abi_decode_returns(&out)
        .map_err(|e| Error::Rpc(format!("ArbWasm answered {out}: {e}")))?;
    Ok(ret.dataFee)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: missing contracts are a file that cannot be read, with the hint
    /// how to build them; not a usage error. Found before any call to the node.
    #[tokio::test]
    async fn missing_contracts_are_reported_as_files_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = crate::context::offline(dir.path(), None);
        let e = run(&ctx, &dir.path().join("none")).await.unwrap_err();
        let Error::NoContracts { source, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        let text = e.to_string();
        assert!(text.contains("patient-registry.wasm"), "{text}");
        assert!(text.contains("scripts/build-contracts"), "{text}");
    }
}
