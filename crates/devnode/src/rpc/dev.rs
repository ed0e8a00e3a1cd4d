//! Test-chain controls in anvil's and hardhat's names: `evm_*`, `anvil_*`, `hardhat_mine`.

use std::sync::Arc;

use alloy_rpc_types_eth::BlockId;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

use super::backend::Backend;
use super::error::invalid_params;
use super::params::{MineParam, Quantity};

/// The most blocks one `evm_mine` / `anvil_mine` / `hardhat_mine` request mines.
/// Each block is kept (and, with a data dir, written and fsynced), so a count is
/// work and memory spent even after the client has gone: 10,000 empty blocks take
/// a few MiB and well under a second in memory (with a data dir, one fsync each).
/// More are refused, not truncated, so that a caller never believes it advanced
/// further than it did.
pub const MAX_BLOCKS_PER_REQUEST: u64 = 10_000;

/// Refuses a block count above [`MAX_BLOCKS_PER_REQUEST`].
fn check_count(method: &str, blocks: u64) -> RpcResult<()> {
    if blocks > MAX_BLOCKS_PER_REQUEST {
        return Err(invalid_params(format!(
            "{method} of {blocks} blocks refused: at most {MAX_BLOCKS_PER_REQUEST} blocks per \
             request (send several requests for more)"
        )));
    }
    Ok(())
}

/// Clock and mining controls.
#[rpc(server)]
pub trait DevApi {
    /// Moves the clock of the next blocks forward by `seconds`; returns the total
    /// offset in seconds as a JSON number (anvil and ganache do the same).
    #[method(name = "evm_increaseTime", blocking)]
    fn increase_time(&self, seconds: Quantity) -> RpcResult<u64>;
    /// Mines one block, at the given timestamp if any, or anvil's
    /// `{timestamp, blocks}`. Returns `"0x0"` like ganache and anvil.
    #[method(name = "evm_mine", blocking)]
    fn evm_mine(&self, param: Option<MineParam>) -> RpcResult<String>;
    /// Mines `blocks` blocks (default 1), `interval` seconds apart if given.
    #[method(name = "anvil_mine", aliases = ["hardhat_mine"], blocking)]
    fn anvil_mine(&self, blocks: Option<Quantity>, interval: Option<Quantity>) -> RpcResult<()>;
}

/// Serves [`DevApiServer`] from a [`Backend`].
pub struct DevRpc {
    backend: Arc<dyn Backend>,
}

impl DevRpc {
    /// Wraps the chain.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend }
    }

    fn latest_timestamp(&self) -> RpcResult<u64> {
        self.backend
            .block(BlockId::latest(), false)
            .map(|b| b.header.inner.timestamp)
            .ok_or_else(|| invalid_params("the chain has no latest block"))
    }
}

impl DevApiServer for DevRpc {
    fn increase_time(&self, seconds: Quantity) -> RpcResult<u64> {
        Ok(self.backend.increase_time(seconds.0)?)
    }

    fn evm_mine(&self, param: Option<MineParam>) -> RpcResult<String> {
        let (timestamp, blocks) = match param {
            None => (None, 1),
            Some(MineParam::Timestamp(t)) => (Some(t.0), 1),
            Some(MineParam::Options { timestamp, blocks }) => {
                (timestamp.map(|t| t.0), blocks.map_or(1, |b| b.0))
            }
        };
        check_count("evm_mine", blocks)?;
        for i in 0..blocks {
            // Only the first block takes the given time; the chain's clock moves on from it.
            self.backend.mine(if i == 0 { timestamp } else { None })?;
        }
        Ok("0x0".to_owned())
    }

    fn anvil_mine(&self, blocks: Option<Quantity>, interval: Option<Quantity>) -> RpcResult<()> {
        let blocks = blocks.map_or(1, |b| b.0);
        check_count("anvil_mine", blocks)?;
        let Some(Quantity(interval)) = interval else {
            for _ in 0..blocks {
                self.backend.mine(None)?;
            }
            return Ok(());
        };
        let mut timestamp = self.latest_timestamp()?;
        // Refused before the first block rather than half-way through.
        interval
            .checked_mul(blocks)
            .and_then(|span| timestamp.checked_add(span))
            .ok_or_else(|| {
                invalid_params(format!(
                    "anvil_mine of {blocks} blocks {interval} s apart would take block \
                     timestamps past 2^64 - 1"
                ))
            })?;
        for _ in 0..blocks {
            timestamp += interval;
            self.backend.mine(Some(timestamp))?;
        }
        Ok(())
    }
}
