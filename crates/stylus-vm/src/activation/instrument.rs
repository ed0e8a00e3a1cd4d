//! Rewrites one function body with nitro's passes, in nitro's order: ink meter, dynamic
//! meter, depth checker, heap bound (prover `binary.rs`, `WasmBinary::instrument`).

use wasmparser::{FuncType, FunctionBody, Operator, ValType};

use super::depth::{depth_check, DepthContext};
use super::heap::heap_bound;
use super::meter::{dynamic_meter, ink_meter};
use crate::Error;

/// Most declared locals per function (nitro's anti-DoS limit).
pub(crate) const MAX_LOCALS: u64 = 348;
/// Most operators per instrumented function body.
pub(crate) const MAX_OPCODES: u64 = 65_536;

/// Indices of the globals activation appends, in nitro's order. Exported as
/// `stylus_ink_left`, `stylus_ink_status`, `stylus_scratch_global`, `stylus_stack_left`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Globals {
    /// `stylus_ink_left` (i64): ink the program may still spend.
    pub ink: u32,
    /// `stylus_ink_status` (i32): set to 1 when the program ran out of ink.
    pub ink_status: u32,
    /// `stylus_scratch_global` (i32): a temporary for the dynamic meter and heap bound.
    pub scratch: u32,
    /// `stylus_stack_left` (i32): words of stack the program may still use.
    pub stack_left: u32,
}

impl Globals {
    /// The instrumentation globals of a module that defines `user_globals` globals (Stylus
    /// programs import none).
    pub(crate) fn after(user_globals: u32) -> Self {
        Self {
            ink: user_globals,
            ink_status: user_globals + 1,
            scratch: user_globals + 2,
            stack_left: user_globals + 3,
        }
    }
}

/// What every function's rewrite needs to know about the module.
pub(crate) struct ModuleContext<'m> {
    /// Every type, by type index.
    pub types: &'m [FuncType],
    /// Type index of every function, imports first.
    pub func_types: &'m [u32],
    /// The instrumentation globals.
    pub globals: Globals,
    /// Function index of `pay_for_memory_grow` when memory can grow.
    pub pay_func: Option<u32>,
}

/// An instrumented function body.
pub(crate) struct Instrumented<'a> {
    /// Declared locals, as (count, type) groups.
    pub locals: Vec<(u32, ValType)>,
    /// The rewritten operators, ending in the body's final `end`.
    pub ops: Vec<Operator<'a>>,
}

/// Instruments local function `func` (its index among local functions).
pub(crate) fn instrument_function<'a>(
    body: &FunctionBody<'a>,
    func: u32,
    cx: &ModuleContext<'_>,
) -> Result<Instrumented<'a>, Error> {
    let invalid = |e: wasmparser::BinaryReaderError| Error::InvalidWasm(e.to_string());
    let mut locals = Vec::new();
    let mut declared: u64 = 0;
    let mut reader = body.get_locals_reader().map_err(invalid)?;
    for _ in 0..reader.get_count() {
        let (count, ty) = reader.read().map_err(invalid)?;
        declared += u64::from(count);
        locals.push((count, ty));
    }
    if declared > MAX_LOCALS {
        return Err(Error::LimitExceeded {
            what: "locals",
            count: declared,
            limit: MAX_LOCALS,
        });
    }

    let mut ops = Vec::new();
    let mut reader = body.get_operators_reader().map_err(invalid)?;
    while !reader.eof() {
        let op = reader.read().map_err(invalid)?;
        if is_soft_float(&op) {
            return Err(Error::FloatOperation(format!("{op:?}")));
        }
        ops.push(op);
    }

    let g = &cx.globals;
    let ops = ink_meter(ops, cx.types, g);
    let ops = dynamic_meter(ops, g)?;
    let depth = DepthContext {
        types: cx.types,
        func_types: cx.func_types,
    };
    let ops = depth_check(ops, declared as u32, func, &depth, g)?;
    let ops = heap_bound(ops, cx.pay_func, g);

    if ops.len() as u64 > MAX_OPCODES {
        return Err(Error::LimitExceeded {
            what: "opcodes in func body",
            count: ops.len() as u64,
            limit: MAX_OPCODES,
        });
    }
    Ok(Instrumented { locals, ops })
}

/// Float operations nitro's prover implements in software and offers user programs no
/// implementation of (`wasm_to_wavm` with empty floating-point impls): activation fails.
/// Float loads, stores, constants and reinterpretations pass.
fn is_soft_float(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        F32Eq
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
            | F32Abs
            | F32Neg
            | F32Ceil
            | F32Floor
            | F32Trunc
            | F32Nearest
            | F32Sqrt
            | F32Add
            | F32Sub
            | F32Mul
            | F32Div
            | F32Min
            | F32Max
            | F32Copysign
            | F64Abs
            | F64Neg
            | F64Ceil
            | F64Floor
            | F64Trunc
            | F64Nearest
            | F64Sqrt
            | F64Add
            | F64Sub
            | F64Mul
            | F64Div
            | F64Min
            | F64Max
            | F64Copysign
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
            | I32TruncSatF32S
            | I32TruncSatF32U
            | I32TruncSatF64S
            | I32TruncSatF64U
            | I64TruncSatF32S
            | I64TruncSatF32U
            | I64TruncSatF64S
            | I64TruncSatF64U
    )
}
