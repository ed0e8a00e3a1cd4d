//! The chain's records as the JSON-RPC types alloy expects.

use super::chain::{Chain, MinedBlockRecord, MinedTx};
use alloy_consensus::transaction::Recovered;
use alloy_consensus::{
    Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction as _, TxType,
};
use alloy_primitives::Bloom;
use alloy_rpc_types_eth::{Block, BlockTransactions, Header, Log, Transaction, TransactionReceipt};

/// A transaction's logs with their block, transaction and index fields filled in.
pub(crate) fn rpc_logs(chain: &Chain, tx: &MinedTx) -> Vec<Log> {
    let block = &chain.blocks[tx.block_number as usize];
    tx.logs
        .iter()
        .enumerate()
        .map(|(i, log)| Log {
            inner: log.clone(),
            block_hash: Some(block.hash),
            block_number: Some(tx.block_number),
            block_timestamp: Some(block.header.timestamp),
            transaction_hash: Some(tx.hash),
            transaction_index: Some(tx.index),
            log_index: Some(tx.first_log_index + i as u64),
            removed: false,
        })
        .collect()
}

/// eth_getTransactionReceipt's answer for a mined transaction.
pub(crate) fn receipt(chain: &Chain, tx: &MinedTx) -> TransactionReceipt {
    let logs = rpc_logs(chain, tx);
    let mut bloom = Bloom::ZERO;
    for log in &tx.logs {
        bloom.accrue_log(log);
    }
    let inner = ReceiptWithBloom {
        receipt: Receipt {
            status: Eip658Value::Eip658(tx.success),
            cumulative_gas_used: tx.cumulative_gas_used,
            logs,
        },
        logs_bloom: bloom,
    };
    let envelope = match tx.tx.tx_type() {
        TxType::Legacy => ReceiptEnvelope::Legacy(inner),
        TxType::Eip2930 => ReceiptEnvelope::Eip2930(inner),
        _ => ReceiptEnvelope::Eip1559(inner),
    };
    let block = &chain.blocks[tx.block_number as usize];
    TransactionReceipt {
        inner: envelope,
        transaction_hash: tx.hash,
        transaction_index: Some(tx.index),
        block_hash: Some(block.hash),
        block_number: Some(tx.block_number),
        gas_used: tx.gas_used,
        effective_gas_price: tx.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: tx.from,
        to: tx.tx.to(),
        contract_address: tx.contract_address,
    }
}

/// eth_getTransactionByHash's answer for a mined transaction.
pub(crate) fn transaction(chain: &Chain, tx: &MinedTx) -> Transaction {
    let block = &chain.blocks[tx.block_number as usize];
    Transaction {
        inner: Recovered::new_unchecked(tx.tx.clone(), tx.from),
        block_hash: Some(block.hash),
        block_number: Some(tx.block_number),
        transaction_index: Some(tx.index),
        effective_gas_price: Some(tx.effective_gas_price),
        block_timestamp: Some(block.header.timestamp),
    }
}

/// A block's RPC header: the consensus header and its hash.
pub(crate) fn header(record: &MinedBlockRecord) -> Header {
    Header {
        hash: record.hash,
        inner: record.header.clone(),
        total_difficulty: Some(alloy_primitives::U256::ZERO),
        size: None,
    }
}

/// eth_getBlockBy*'s answer: transactions as objects with `full`, else as hashes.
pub(crate) fn block(chain: &Chain, record: &MinedBlockRecord, full: bool) -> Block {
    let transactions = if full {
        BlockTransactions::Full(
            record
                .txs
                .iter()
                .filter_map(|h| chain.txs.get(h))
                .map(|t| transaction(chain, t))
                .collect(),
        )
    } else {
        BlockTransactions::Hashes(record.txs.clone())
    };
    Block {
        header: header(record),
        uncles: Vec::new(),
        transactions,
        withdrawals: None,
    }
}
