//! The functions a Stylus program may import: nitro's `vm_hooks` (the list and signatures of
//! `wasm-libraries/forward/lib.rs`, which activation checks imports against, identical to
//! `stylus/src/native.rs` and stylus-sdk-rs `hostio.rs`) and, on debug chains, `console`
//! (prover `host.rs`).

use wasmparser::{FuncType, ValType};

/// A hostio's signature in nitro's short form: parameters and results, `i`/`I`/`f`/`F` for
/// i32/i64/f32/f64.
struct Hostio {
    name: &'static str,
    params: &'static str,
    results: &'static str,
}

const fn h(name: &'static str, params: &'static str, results: &'static str) -> Hostio {
    Hostio {
        name,
        params,
        results,
    }
}

/// `vm_hooks`, in nitro's order.
const VM_HOOKS: [Hostio; 42] = [
    h("read_args", "i", ""),
    h("write_result", "ii", ""),
    h("exit_early", "i", ""),
    h("storage_load_bytes32", "ii", ""),
    h("storage_cache_bytes32", "ii", ""),
    h("storage_flush_cache", "i", ""),
    h("transient_load_bytes32", "ii", ""),
    h("transient_store_bytes32", "ii", ""),
    h("call_contract", "iiiiIi", "i"),
    h("delegate_call_contract", "iiiIi", "i"),
    h("static_call_contract", "iiiIi", "i"),
    h("create1", "iiiii", ""),
    h("create2", "iiiiii", ""),
    h("read_return_data", "iii", "i"),
    h("return_data_size", "", "i"),
    h("emit_log", "iii", ""),
    h("account_balance", "ii", ""),
    h("account_code", "iiii", "i"),
    h("account_code_size", "i", "i"),
    h("account_codehash", "ii", ""),
    h("evm_gas_left", "", "I"),
    h("evm_ink_left", "", "I"),
    h("block_basefee", "i", ""),
    h("chainid", "", "I"),
    h("block_coinbase", "i", ""),
    h("block_gas_limit", "", "I"),
    h("block_number", "", "I"),
    h("block_timestamp", "", "I"),
    h("contract_address", "i", ""),
    h("math_div", "ii", ""),
    h("math_mod", "ii", ""),
    h("math_pow", "ii", ""),
    h("math_add_mod", "iii", ""),
    h("math_mul_mod", "iii", ""),
    h("msg_reentrant", "", "i"),
    h("msg_sender", "i", ""),
    h("msg_value", "i", ""),
    h("native_keccak256", "iii", ""),
    h("tx_gas_price", "i", ""),
    h("tx_ink_price", "", "i"),
    h("tx_origin", "i", ""),
    h("pay_for_memory_grow", "i", ""),
];

/// `console`, debug chains only.
const CONSOLE: [Hostio; 9] = [
    h("log_txt", "ii", ""),
    h("log_i32", "i", ""),
    h("log_i64", "I", ""),
    h("log_f32", "f", ""),
    h("log_f64", "F", ""),
    h("tee_i32", "i", "i"),
    h("tee_i64", "I", "I"),
    h("tee_f32", "f", "f"),
    h("tee_f64", "F", "F"),
];

/// The module programs import hostios from.
pub const VM_HOOKS_MODULE: &str = "vm_hooks";
/// The debug-only logging module.
pub const CONSOLE_MODULE: &str = "console";
/// The hostio that pays for `memory.grow`, called by the heap-bound instrumentation.
pub const PAY_FOR_MEMORY_GROW: &str = "pay_for_memory_grow";

/// Names of every `vm_hooks` function, in nitro's order.
pub fn vm_hooks() -> impl Iterator<Item = &'static str> {
    VM_HOOKS.iter().map(|h| h.name)
}

/// The signature nitro gives `module.name`, or `None` when nitro has no such hostio.
/// `console` counts only when `debug`; callers tell "wrong module" from "unknown name".
pub fn signature(module: &str, name: &str) -> Option<FuncType> {
    let table: &[Hostio] = match module {
        VM_HOOKS_MODULE => &VM_HOOKS,
        CONSOLE_MODULE => &CONSOLE,
        _ => return None,
    };
    let hostio = table.iter().find(|h| h.name == name)?;
    Some(FuncType::new(
        hostio.params.chars().map(val_type),
        hostio.results.chars().map(val_type),
    ))
}

fn val_type(c: char) -> ValType {
    match c {
        'i' => ValType::I32,
        'I' => ValType::I64,
        'f' => ValType::F32,
        'F' => ValType::F64,
        _ => unreachable!("hostio table uses i, I, f, F"),
    }
}

/// `(i32, i64) -> i32` style text for error messages.
pub fn describe(ty: &FuncType) -> String {
    let list = |types: &[ValType]| {
        types
            .iter()
            .map(|t| format!("{t}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(ty.params()), list(ty.results()))
}
