//! What a Stylus program needs from its call frame. A leaf, so that the program call that
//! fills it in and the EVM API that answers the program can both read it.

use alloy_primitives::{Address, Bytes, B256, U256};

/// Everything the program needs from its frame, copied out so that the frame stack
/// can be swapped for nested calls while the program runs.
pub(crate) struct ProgramFrame {
    pub codehash: B256,
    pub code: Bytes,
    pub input: Bytes,
    pub acting: Address,
    pub caller: Address,
    pub value: U256,
    pub is_static: bool,
    pub depth: usize,
    pub gas_limit: u64,
}
