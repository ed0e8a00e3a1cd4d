//! The heap bound (prover `programs/heap.rs`): a program whose memory can grow must import
//! `vm_hooks.pay_for_memory_grow`, and every `memory.grow` first calls it with the page count
//! so the host charges nitro's memory model before the engine grows.

use wasmparser::Operator;

use super::instrument::Globals;

/// Largest initial memory, in pages (`heap_bound` of compile config versions 1 and 2: 8 MiB).
pub const HEAP_BOUND_PAGES: u64 = 128;

/// Puts `pay_for_memory_grow(pages)` before each `memory.grow`, keeping `pages` on the stack
/// (through the scratch global). `pay_func` is `None` for fixed-size memories, which need no
/// payment: then the body is left alone.
pub(crate) fn heap_bound<'a>(
    ops: Vec<Operator<'a>>,
    pay_func: Option<u32>,
    g: &Globals,
) -> Vec<Operator<'a>> {
    let Some(function_index) = pay_func else {
        return ops;
    };
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        if matches!(op, Operator::MemoryGrow { .. }) {
            out.extend([
                Operator::GlobalSet {
                    global_index: g.scratch,
                },
                Operator::GlobalGet {
                    global_index: g.scratch,
                },
                Operator::GlobalGet {
                    global_index: g.scratch,
                },
                Operator::Call { function_index },
            ]);
        }
        out.push(op);
    }
    out
}
