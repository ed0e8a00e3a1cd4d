//! From what clients send to what revm runs.

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::Typed2718;
use alloy_primitives::{Address, TxKind, U256};
use alloy_rpc_types_eth::TransactionRequest;
use revm::context::TxEnv;

/// Largest gas a call or estimate may use when the request names none (nitro's
/// per-transaction cap is 32M).
pub const CALL_GAS_CAP: u64 = 32_000_000;

/// revm's transaction environment for a signed transaction from `from`, the
/// sender already recovered.
pub fn tx_env_of_signed(tx: &TxEnvelope, from: Address) -> TxEnv {
    let is_1559 = tx.is_dynamic_fee();
    TxEnv {
        tx_type: tx.ty(),
        caller: from,
        gas_limit: tx.gas_limit(),
        gas_price: if is_1559 {
            tx.max_fee_per_gas()
        } else {
            tx.gas_price().unwrap_or_default()
        },
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: if is_1559 {
            tx.max_priority_fee_per_gas()
        } else {
            None
        },
        ..Default::default()
    }
}

/// An eth_call / eth_estimateGas request; fees are ignored (zero price) unless given.
pub fn tx_env_of_request(req: &TransactionRequest, chain_id: u64, nonce: u64, gas: u64) -> TxEnv {
    let price = req.max_fee_per_gas.or(req.gas_price).unwrap_or(0);
    TxEnv {
        tx_type: if req.max_fee_per_gas.is_some() { 2 } else { 0 },
        caller: req.from.unwrap_or_default(),
        gas_limit: gas,
        gas_price: price,
        kind: req.to.unwrap_or(TxKind::Create),
        value: req.value.unwrap_or(U256::ZERO),
        data: req.input.input().cloned().unwrap_or_default(),
        nonce: req.nonce.unwrap_or(nonce),
        chain_id: Some(chain_id),
        access_list: req.access_list.clone().unwrap_or_default(),
        gas_priority_fee: req.max_priority_fee_per_gas.filter(|_| price > 0),
        ..Default::default()
    }
}
