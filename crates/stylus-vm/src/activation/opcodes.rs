//! Nitro's opcode prices for Stylus versions 1 and 2 (prover `programs/meter.rs`,
//! `pricing_v1`) and where basic blocks end (arbutil `operator.rs`, `ends_basic_block`).

use wasmparser::{FuncType, Operator};

/// Ink the meter's per-block header itself costs (`ink_header_cost`, `config.rs`).
pub const INK_HEADER_COST: u64 = 2_450;
/// Ink per byte of `memory.fill` (`memory_fill_ink` = 800 / 8).
pub const MEMORY_FILL_INK: u64 = 100;
/// Ink per byte of `memory.copy` (`memory_copy_ink` = 800 / 8).
pub const MEMORY_COPY_INK: u64 = 100;

/// True for the operators after which nitro's meter closes a basic block. `block` and
/// `unreachable` do not end one.
pub(crate) fn ends_basic_block(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        End | Else
            | Return
            | Loop { .. }
            | Br { .. }
            | BrTable { .. }
            | BrIf { .. }
            | If { .. }
            | Call { .. }
            | CallIndirect { .. }
    )
}

/// Ink for one operator. Anything nitro does not price (floats among them: loads, stores and
/// constants pass activation but cost `u64::MAX`, so a block holding one never runs) costs
/// `u64::MAX`.
pub fn opcode_ink(op: &Operator<'_>, types: &[FuncType]) -> u64 {
    use Operator::*;
    match op {
        Unreachable | Return | Nop | I32Const { .. } | I64Const { .. } => 1,
        // Could be 1; nitro prices it higher to limit op counts in BOLD proofs.
        Drop => 9,
        Block { .. } | Loop { .. } | Else | End => 1,
        Br { .. } | BrIf { .. } | If { .. } => 765,
        Select => 1_250,
        Call { .. } => 3_800,
        LocalGet { .. } | LocalTee { .. } => 75,
        LocalSet { .. } => 210,
        GlobalGet { .. } => 225,
        GlobalSet { .. } => 575,
        I32Load { .. }
        | I32Load8S { .. }
        | I32Load8U { .. }
        | I32Load16S { .. }
        | I32Load16U { .. } => 670,
        I64Load { .. }
        | I64Load8S { .. }
        | I64Load8U { .. }
        | I64Load16S { .. }
        | I64Load16U { .. }
        | I64Load32S { .. }
        | I64Load32U { .. } => 680,
        I32Store { .. } | I32Store8 { .. } | I32Store16 { .. } => 825,
        I64Store { .. } | I64Store8 { .. } | I64Store16 { .. } | I64Store32 { .. } => 950,
        MemorySize { .. } => 3_000,
        // The rest of a grow is paid through pay_for_memory_grow.
        MemoryGrow { .. } => 8_050,

        I32Eqz | I32Eq | I32Ne | I32LtS | I32LtU | I32GtS | I32GtU | I32LeS | I32LeU | I32GeS
        | I32GeU => 170,
        I64Eqz | I64Eq | I64Ne | I64LtS | I64LtU | I64GtS | I64GtU | I64LeS | I64LeU | I64GeS
        | I64GeU => 225,

        I32Clz | I32Ctz => 210,
        I32Add | I32Sub => 70,
        I32Mul => 160,
        I32DivS | I32DivU | I32RemS | I32RemU => 1_120,
        I32And | I32Or | I32Xor | I32Shl | I32ShrS | I32ShrU | I32Rotl | I32Rotr => 70,

        I64Clz | I64Ctz => 210,
        I64Add | I64Sub => 100,
        I64Mul => 160,
        I64DivS | I64DivU | I64RemS | I64RemU => 1_270,
        I64And | I64Or | I64Xor | I64Shl | I64ShrS | I64ShrU | I64Rotl | I64Rotr => 100,

        // Slow on ARM, fast on x86.
        I32Popcnt => 2_650,
        I64Popcnt => 6_000,

        I32WrapI64 | I64ExtendI32S | I64ExtendI32U => 100,
        I32Extend8S | I32Extend16S | I64Extend8S | I64Extend16S | I64Extend32S => 100,
        MemoryCopy { .. } | MemoryFill { .. } => 950,

        BrTable { targets } => 2_400 + 325 * u64::from(targets.len()),
        CallIndirect { type_index, .. } => {
            let inputs = types
                .get(*type_index as usize)
                .map_or(0, |ty| ty.params().len() as u64);
            13_610 + 650 * inputs
        }
        _ => u64::MAX,
    }
}
