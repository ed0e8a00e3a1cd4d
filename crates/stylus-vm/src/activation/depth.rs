//! The depth checker (prover `programs/depth.rs`): each function charges its worst-case
//! frame against `stylus_stack_left` on entry and credits it back before returning, so stack
//! overflow is deterministic and engine-independent.
//!
//! The frame is estimated on the stream the ink meter and dynamic meter produced (as in
//! nitro, whose depth pass runs after them): worst-case operand stack + declared locals + 4.

use wasmparser::{BlockType, FuncType, Operator};

use super::instrument::Globals;
use crate::Error;

/// Largest frame, in words (`max_frame_size` of compile config versions 1 and 2).
pub const MAX_FRAME_SIZE: u32 = 10 * 1024;
/// Most values on the operand stack at once (`max_frame_contention`).
pub const MAX_FRAME_CONTENTION: u32 = 4096;

/// What the depth checker needs to know about the module.
pub(crate) struct DepthContext<'m> {
    /// Every type, by type index.
    pub types: &'m [FuncType],
    /// The type index of every function, imports first.
    pub func_types: &'m [u32],
}

impl DepthContext<'_> {
    fn func_type(&self, index: u32) -> Option<&FuncType> {
        let type_index = *self.func_types.get(index as usize)?;
        self.types.get(type_index as usize)
    }
}

/// Wraps a function body (`ops`, ending in its final `end`) with the stack accounting:
/// `if stack_left <= size { stack_left = 0; unreachable } stack_left -= size` on entry and
/// `stack_left += size` before every `return`, plus a `return` before the final `end`.
/// `func` is the local function index (for messages), `locals` its declared locals.
pub(crate) fn depth_check<'a>(
    ops: Vec<Operator<'a>>,
    locals: u32,
    func: u32,
    cx: &DepthContext<'_>,
    g: &Globals,
) -> Result<Vec<Operator<'a>>, Error> {
    let worst = worst_case_depth(&ops, cx)?;
    if worst > MAX_FRAME_CONTENTION {
        return Err(Error::StackContention {
            func,
            count: worst,
            limit: MAX_FRAME_CONTENTION,
        });
    }
    let size = worst.saturating_add(locals).saturating_add(4);
    if size > MAX_FRAME_SIZE {
        return Err(Error::FrameTooLarge {
            func,
            size,
            limit: MAX_FRAME_SIZE,
        });
    }
    let size = size as i32;
    let stack = g.stack_left;
    let mut out = Vec::with_capacity(ops.len() + 24);
    out.extend([
        Operator::GlobalGet {
            global_index: stack,
        },
        Operator::I32Const { value: size },
        Operator::I32LeU,
        Operator::If {
            blockty: BlockType::Empty,
        },
        Operator::I32Const { value: 0 },
        Operator::GlobalSet {
            global_index: stack,
        },
        Operator::Unreachable,
        Operator::End,
        Operator::GlobalGet {
            global_index: stack,
        },
        Operator::I32Const { value: size },
        Operator::I32Sub,
        Operator::GlobalSet {
            global_index: stack,
        },
    ]);
    let mut ops = ops;
    let last = ops.pop().unwrap_or(Operator::End);
    // Nitro adds a return before the final end (to match its prover), so falling off the
    // end also credits the frame back. A `br` to the function's outermost label skips it,
    // as in nitro.
    ops.push(Operator::Return);
    ops.push(last);
    for op in ops {
        if matches!(op, Operator::Return) {
            out.extend([
                Operator::GlobalGet {
                    global_index: stack,
                },
                Operator::I32Const { value: size },
                Operator::I32Add,
                Operator::GlobalSet {
                    global_index: stack,
                },
            ]);
        }
        out.push(op);
    }
    Ok(out)
}

/// Nitro's estimate of the most operand-stack slots a body uses at once. Block results count
/// as pushed when the block opens; `unreachable` code is not treated specially.
fn worst_case_depth(ops: &[Operator<'_>], cx: &DepthContext<'_>) -> Result<u32, Error> {
    use Operator::*;

    let mut worst: u32 = 0;
    let mut stack: u32 = 0;
    let mut scopes: Vec<u32> = vec![0];

    let push = |stack: &mut u32, worst: &mut u32, n: u32| {
        *stack = stack.saturating_add(n);
        *worst = (*worst).max(*stack);
    };
    let pop = |stack: &mut u32, n: u32| *stack = stack.saturating_sub(n);
    let ins_and_outs = |stack: &mut u32, worst: &mut u32, ty: &FuncType| {
        push(stack, worst, ty.results().len() as u32);
        pop(stack, ty.params().len() as u32);
    };
    let block_type = |stack: &mut u32, worst: &mut u32, ty: &BlockType| -> Result<(), Error> {
        match ty {
            BlockType::Empty => {}
            BlockType::Type(_) => push(stack, worst, 1),
            BlockType::FuncType(id) => {
                let ty = cx
                    .types
                    .get(*id as usize)
                    .ok_or_else(|| Error::InvalidWasm(format!("missing type {id} for a block")))?;
                ins_and_outs(stack, worst, ty);
            }
        }
        Ok(())
    };

    for op in ops {
        match op {
            Block { blockty } | Loop { blockty } => {
                block_type(&mut stack, &mut worst, blockty)?;
                scopes.push(stack);
            }
            If { blockty } => {
                pop(&mut stack, 1);
                block_type(&mut stack, &mut worst, blockty)?;
                scopes.push(stack);
            }
            Else => {
                stack = *scopes
                    .last()
                    .ok_or_else(|| Error::InvalidWasm("malformed if-else scope".into()))?;
            }
            End => {
                stack = scopes
                    .pop()
                    .ok_or_else(|| Error::InvalidWasm("malformed scoping".into()))?;
            }
            Call { function_index } => {
                let ty = cx.func_type(*function_index).ok_or_else(|| {
                    Error::InvalidWasm(format!("missing type for func {function_index}"))
                })?;
                ins_and_outs(&mut stack, &mut worst, ty);
            }
            CallIndirect { type_index, .. } => {
                let ty = cx.types.get(*type_index as usize).ok_or_else(|| {
                    Error::InvalidWasm(format!("missing type for signature {type_index}"))
                })?;
                ins_and_outs(&mut stack, &mut worst, ty);
                pop(&mut stack, 1); // the table index
            }
            // Nitro prices these as its internal (i32, i32, i32) -> () functions.
            MemoryFill { .. } | MemoryCopy { .. } => pop(&mut stack, 3),

            Nop
            | Unreachable
            | I32Eqz
            | I64Eqz
            | I32Clz
            | I32Ctz
            | I32Popcnt
            | I64Clz
            | I64Ctz
            | I64Popcnt
            | Br { .. }
            | Return
            | LocalTee { .. }
            | MemoryGrow { .. }
            | I32Load { .. }
            | I64Load { .. }
            | F32Load { .. }
            | F64Load { .. }
            | I32Load8S { .. }
            | I32Load8U { .. }
            | I32Load16S { .. }
            | I32Load16U { .. }
            | I64Load8S { .. }
            | I64Load8U { .. }
            | I64Load16S { .. }
            | I64Load16U { .. }
            | I64Load32S { .. }
            | I64Load32U { .. }
            | I32WrapI64
            | I64ExtendI32S
            | I64ExtendI32U
            | I32Extend8S
            | I32Extend16S
            | I64Extend8S
            | I64Extend16S
            | I64Extend32S
            | F32Abs
            | F32Neg
            | F32Ceil
            | F32Floor
            | F32Trunc
            | F32Nearest
            | F32Sqrt
            | F64Abs
            | F64Neg
            | F64Ceil
            | F64Floor
            | F64Trunc
            | F64Nearest
            | F64Sqrt
            | I32TruncF32S
            | I32TruncF32U
            | I32TruncF64S
            | I32TruncF64U
            | I64TruncF32S
            | I64TruncF32U
            | I64TruncF64S
            | I64TruncF64U
            | F32ConvertI32S
            | F32ConvertI32U
            | F32ConvertI64S
            | F32ConvertI64U
            | F32DemoteF64
            | F64ConvertI32S
            | F64ConvertI32U
            | F64ConvertI64S
            | F64ConvertI64U
            | F64PromoteF32
            | I32ReinterpretF32
            | I64ReinterpretF64
            | F32ReinterpretI32
            | F64ReinterpretI64
            | I32TruncSatF32S
            | I32TruncSatF32U
            | I32TruncSatF64S
            | I32TruncSatF64U
            | I64TruncSatF32S
            | I64TruncSatF32U
            | I64TruncSatF64S
            | I64TruncSatF64U => {}

            LocalGet { .. }
            | GlobalGet { .. }
            | MemorySize { .. }
            | I32Const { .. }
            | I64Const { .. }
            | F32Const { .. }
            | F64Const { .. } => push(&mut stack, &mut worst, 1),

            Drop
            | I32Eq
            | I32Ne
            | I32LtS
            | I32LtU
            | I32GtS
            | I32GtU
            | I32LeS
            | I32LeU
            | I32GeS
            | I32GeU
            | I64Eq
            | I64Ne
            | I64LtS
            | I64LtU
            | I64GtS
            | I64GtU
            | I64LeS
            | I64LeU
            | I64GeS
            | I64GeU
            | F32Eq
            | F32Ne
            | F32Lt
            | F32Gt
            | F32Le
            | F32Ge
            | F64Eq
            | F64Ne
            | F64Lt
            | F64Gt
            | F64Le
            | F64Ge
            | I32Add
            | I32Sub
            | I32Mul
            | I32DivS
            | I32DivU
            | I32RemS
            | I32RemU
            | I64Add
            | I64Sub
            | I64Mul
            | I64DivS
            | I64DivU
            | I64RemS
            | I64RemU
            | I32And
            | I32Or
            | I32Xor
            | I32Shl
            | I32ShrS
            | I32ShrU
            | I32Rotl
            | I32Rotr
            | I64And
            | I64Or
            | I64Xor
            | I64Shl
            | I64ShrS
            | I64ShrU
            | I64Rotl
            | I64Rotr
            | F32Add
            | F32Sub
            | F32Mul
            | F32Div
            | F32Min
            | F32Max
            | F32Copysign
            | F64Add
            | F64Sub
            | F64Mul
            | F64Div
            | F64Min
            | F64Max
            | F64Copysign
            | BrIf { .. }
            | BrTable { .. }
            | LocalSet { .. }
            | GlobalSet { .. } => pop(&mut stack, 1),

            Select
            | I32Store { .. }
            | I64Store { .. }
            | F32Store { .. }
            | F64Store { .. }
            | I32Store8 { .. }
            | I32Store16 { .. }
            | I64Store8 { .. }
            | I64Store16 { .. }
            | I64Store32 { .. } => pop(&mut stack, 2),

            other => return Err(Error::UnsupportedOpcode(format!("{other:?}"))),
        }
    }
    Ok(worst)
}
