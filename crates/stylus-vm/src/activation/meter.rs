//! The ink meter (prover `programs/meter.rs`) and the dynamic meter for `memory.fill` and
//! `memory.copy` (`programs/dynamic.rs`), as operator-stream rewrites.

use wasmparser::{BlockType, FuncType, Operator};

use super::instrument::Globals;
use super::opcodes::{
    ends_basic_block, opcode_ink, INK_HEADER_COST, MEMORY_COPY_INK, MEMORY_FILL_INK,
};
use crate::Error;

/// Puts a header in front of every basic block that charges the block's ink (the sum of
/// its opcodes' prices plus the header's own) up front:
/// `if ink_left < cost { ink_status = 1; unreachable } ink_left -= cost`.
pub(crate) fn ink_meter<'a>(
    ops: Vec<Operator<'a>>,
    types: &[FuncType],
    g: &Globals,
) -> Vec<Operator<'a>> {
    let mut out = Vec::with_capacity(ops.len() + ops.len() / 2);
    let mut block = Vec::new();
    let mut cost: u64 = 0;
    for op in ops {
        let end = ends_basic_block(&op);
        cost = cost.saturating_add(opcode_ink(&op, types));
        block.push(op);
        if end {
            // Saturated costs wrap to -1, which no ink_left below u64::MAX can pay: nitro's
            // way of making unpriced (float) blocks unrunnable.
            let total = cost.saturating_add(INK_HEADER_COST) as i64;
            cost = 0;
            out.extend([
                Operator::GlobalGet {
                    global_index: g.ink,
                },
                Operator::I64Const { value: total },
                Operator::I64LtU,
                Operator::If {
                    blockty: BlockType::Empty,
                },
                Operator::I32Const { value: 1 },
                Operator::GlobalSet {
                    global_index: g.ink_status,
                },
                Operator::Unreachable,
                Operator::End,
                Operator::GlobalGet {
                    global_index: g.ink,
                },
                Operator::I64Const { value: total },
                Operator::I64Sub,
                Operator::GlobalSet {
                    global_index: g.ink,
                },
            ]);
            out.append(&mut block);
        }
    }
    // A valid body ends with `end`, which closes the last block.
    out.append(&mut block);
    out
}

/// Charges `memory.fill` and `memory.copy` per byte before they run, trapping with
/// `ink_status = 1` when the subtraction wraps; refuses the bulk-memory and table operators
/// nitro does not support.
pub(crate) fn dynamic_meter<'a>(
    ops: Vec<Operator<'a>>,
    g: &Globals,
) -> Result<Vec<Operator<'a>>, Error> {
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            Operator::MemoryFill { .. } => out.extend(linear_charge(MEMORY_FILL_INK, g)),
            Operator::MemoryCopy { .. } => out.extend(linear_charge(MEMORY_COPY_INK, g)),
            Operator::MemoryInit { .. }
            | Operator::DataDrop { .. }
            | Operator::ElemDrop { .. }
            | Operator::TableInit { .. }
            | Operator::TableCopy { .. }
            | Operator::TableFill { .. }
            | Operator::TableGet { .. }
            | Operator::TableSet { .. }
            | Operator::TableGrow { .. }
            | Operator::TableSize { .. } => {
                return Err(Error::UnsupportedOpcode(format!("{op:?}")));
            }
            _ => {}
        }
        out.push(op);
    }
    Ok(out)
}

/// With the byte count on top of the stack: ink -= count × `per_byte`, trap on wrap, leave
/// the count where it was.
fn linear_charge<'a>(per_byte: u64, g: &Globals) -> [Operator<'a>; 17] {
    [
        Operator::GlobalSet {
            global_index: g.scratch,
        },
        Operator::GlobalGet {
            global_index: g.ink,
        },
        Operator::GlobalGet {
            global_index: g.ink,
        },
        Operator::GlobalGet {
            global_index: g.scratch,
        },
        // count × per_byte cannot overflow: a u32 times 100.
        Operator::I64ExtendI32U,
        Operator::I64Const {
            value: per_byte as i64,
        },
        Operator::I64Mul,
        Operator::I64Sub,
        Operator::GlobalSet {
            global_index: g.ink,
        },
        Operator::GlobalGet {
            global_index: g.ink,
        },
        // old < new means the subtraction wrapped: out of ink.
        Operator::I64LtU,
        Operator::If {
            blockty: BlockType::Empty,
        },
        Operator::I32Const { value: 1 },
        Operator::GlobalSet {
            global_index: g.ink_status,
        },
        Operator::Unreachable,
        Operator::End,
        Operator::GlobalGet {
            global_index: g.scratch,
        },
    ]
}
