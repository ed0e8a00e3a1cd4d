//! Activation tests: each rejection, and the instrumented module run under wasmi with ink,
//! stack and memory figures computed by hand from nitro's prices.

use proptest::prelude::*;
use wasmi::{Caller, Engine, Linker, Module, Store, Val};

use super::*;

fn wat(src: &str) -> Vec<u8> {
    wat::parse_str(src).expect("test WAT parses")
}

fn activate_wat(src: &str) -> Result<ActivationInfo, Error> {
    activate(&wat(src), &StylusParams::default(), false)
}

fn rejects(src: &str) -> Error {
    match activate_wat(src) {
        Ok(_) => panic!("activation accepted:\n{src}"),
        Err(e) => e,
    }
}

/// A program around `body`: fixed one-page memory, the entry point, `extra` items.
fn program(extra: &str, body: &str) -> String {
    format!(
        r#"(module
            {extra}
            (memory (export "memory") 1 1)
            (func (export "user_entrypoint") (param i32) (result i32) {body}))"#
    )
}

const OK_BODY: &str = "i32.const 0";

#[test]
fn minimal_program_activates() {
    let info = activate_wat(&program("", OK_BODY)).unwrap();
    assert_eq!(info.footprint, 1);
    assert_eq!(info.stats.functions, 1);
    assert_eq!(info.stats.globals, 4);
    // One function of type (i32) -> i32 (type_len 2), four globals, one page; each term
    // rounds down: funcs × 8.252 = 8, type_len × 1.059 = 2, globals × 1.628 = 6,
    // pages × 5 = 5, funcs × 996.829 = 996, type_len × 11.416 = 22, the rest 0.
    let wasm_len = info.stats.wasm_len;
    assert_eq!(u64::from(info.init_cost), 8 + 2 + wasm_len * 1_286 / 10_000);
    assert_eq!(
        u64::from(info.cached_init_cost),
        wasm_len * 122 / 100_000 + 6 + 5
    );
    assert_eq!(
        u64::from(info.asm_estimate),
        512_000 + 996 + 22 + wasm_len * 62_628 / 10_000
    );
    let mut exports = exports_of(&info.module);
    exports.sort();
    assert_eq!(
        exports,
        [
            "memory",
            STYLUS_INK_LEFT,
            STYLUS_INK_STATUS,
            STYLUS_SCRATCH_GLOBAL,
            STYLUS_STACK_LEFT,
            "user_entrypoint",
        ]
    );
}

fn exports_of(module: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::ExportSection(reader) = payload.unwrap() {
            for export in reader {
                names.push(export.unwrap().name.to_string());
            }
        }
    }
    names
}

#[test]
fn other_exports_are_dropped_except_in_debug() {
    let src = program(r#"(func (export "helper"))"#, OK_BODY);
    let info = activate_wat(&src).unwrap();
    assert!(!exports_of(&info.module).contains(&"helper".to_string()));
    let info = activate(&wat(&src), &StylusParams::default(), true).unwrap();
    assert!(exports_of(&info.module).contains(&"helper".to_string()));
}

#[test]
fn rejects_invalid_and_oversized_wasm() {
    let err = activate(b"not wasm", &StylusParams::default(), false).unwrap_err();
    assert!(matches!(err, Error::InvalidWasm(_)), "{err}");
    let params = StylusParams {
        max_wasm_size: 10,
        ..StylusParams::default()
    };
    let err = activate(&wat(&program("", OK_BODY)), &params, false).unwrap_err();
    assert!(matches!(err, Error::WasmTooLarge { limit: 10 }), "{err}");
}

#[test]
fn rejects_disabled_proposals() {
    let cases = [
        (
            program("", "ref.null func drop i32.const 0"),
            "reference types",
        ),
        (
            program("", "v128.const i32x4 0 0 0 0 drop i32.const 0"),
            "SIMD",
        ),
        (
            r#"(module (memory (export "memory") 1 1 shared)
                (func (export "user_entrypoint") (param i32) (result i32) i32.const 0))"#
                .to_string(),
            "threads (shared memory or atomics)",
        ),
        (program("(memory 1 1)", OK_BODY), "multiple memories"),
        (
            program("(func $f (result i32) i32.const 0)", "return_call $f"),
            "tail calls",
        ),
        (
            program("(func (result i32 i32) i32.const 0 i32.const 0)", OK_BODY),
            "multi-value (rejected from ArbOS 60)",
        ),
    ];
    for (src, feature) in cases {
        match rejects(&src) {
            Error::UnsupportedFeature(name) => assert_eq!(name, feature, "{src}"),
            other => panic!("{src}: expected {feature}, got {other}"),
        }
    }
    // Before ArbOS 60 multi-value passes.
    let src = program("(func (result i32 i32) i32.const 0 i32.const 0)", OK_BODY);
    activate(&wat(&src), &StylusParams::for_arbos(50), false).unwrap();
}

#[test]
fn floats_pass_validation_but_arithmetic_does_not() {
    activate_wat(&program(
        "(global f64 (f64.const 1.5))",
        "f32.const 1 drop i32.const 0",
    ))
    .unwrap();
    let err = rejects(&program(
        "",
        "f32.const 1 f32.const 2 f32.add drop i32.const 0",
    ));
    assert!(matches!(err, Error::FloatOperation(_)), "{err}");
}

#[test]
fn rejects_start_function() {
    let err = rejects(&program("(func $s) (start $s)", OK_BODY));
    assert!(matches!(err, Error::StartFunction), "{err}");
}

#[test]
fn rejects_bad_imports() {
    let err = rejects(&program(
        r#"(import "vm_hooks" "mem" (global i32))"#,
        OK_BODY,
    ));
    assert!(matches!(err, Error::NonFunctionImport { .. }), "{err}");

    let err = rejects(&program(r#"(import "env" "abort" (func))"#, OK_BODY));
    assert!(matches!(err, Error::ForeignImport { .. }), "{err}");

    let console = program(
        r#"(import "console" "log_i32" (func (param i32)))"#,
        OK_BODY,
    );
    let err = rejects(&console);
    assert!(err.to_string().contains("debug chains"), "{err}");
    activate(&wat(&console), &StylusParams::default(), true).unwrap();

    let err = rejects(&program(
        r#"(import "vm_hooks" "launch_rockets" (func))"#,
        OK_BODY,
    ));
    assert!(matches!(err, Error::UnknownHostio { .. }), "{err}");

    let err = rejects(&program(
        r#"(import "vm_hooks" "read_args" (func (param i64)))"#,
        OK_BODY,
    ));
    assert!(matches!(err, Error::HostioSignature { .. }), "{err}");
    assert!(err.to_string().contains("(i32) -> ()"), "{err}");

    let err = rejects(&program(
        r#"(type $a (func (param i32))) (type $b (func (param i32)))
           (import "vm_hooks" "read_args" (func (type $a)))
           (import "vm_hooks" "read_args" (func (type $b)))"#,
        OK_BODY,
    ));
    assert!(matches!(err, Error::InconsistentImport { .. }), "{err}");

    let err = rejects(&program(
        r#"(import "vm_hooks" "read_args" (func (param i32)))
           (func (export "read_args"))"#,
        OK_BODY,
    ));
    assert!(matches!(err, Error::ReexportedImport(_)), "{err}");
}

#[test]
fn rejects_reserved_names() {
    let err = rejects(&program(r#"(func (export "stylus_ink_left"))"#, OK_BODY));
    assert!(
        matches!(
            err,
            Error::ReservedName {
                kind: "exports",
                ..
            }
        ),
        "{err}"
    );
    let err = rejects(&program(r#"(func (export "my__stylusish"))"#, OK_BODY));
    assert!(matches!(err, Error::ReservedName { .. }), "{err}");
    let err = rejects(&program(
        r#"(import "vm_hooks" "stylus_x" (func))"#,
        OK_BODY,
    ));
    assert!(
        matches!(
            err,
            Error::ReservedName {
                kind: "imports",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rejects_bad_entrypoints() {
    let err = rejects(
        r#"(module (memory (export "memory") 1 1) (func (export "main") (param i32) (result i32) i32.const 0))"#,
    );
    assert!(matches!(err, Error::MissingEntrypoint), "{err}");
    let err = rejects(
        r#"(module (memory (export "memory") 1 1) (func (export "user_entrypoint") (param i64) (result i32) i32.const 0))"#,
    );
    assert!(matches!(err, Error::EntrypointSignature(_)), "{err}");
    let err = rejects(
        r#"(module (memory (export "memory") 1 1) (global (export "user_entrypoint") i32 (i32.const 0)))"#,
    );
    assert!(matches!(err, Error::EntrypointSignature(_)), "{err}");
}

#[test]
fn rejects_bad_memories() {
    let entry = r#"(func (export "user_entrypoint") (param i32) (result i32) i32.const 0)"#;
    let err = rejects(&format!("(module {entry})"));
    assert!(matches!(err, Error::MissingMemory), "{err}");
    let err = rejects(&format!(r#"(module (memory (export "mem") 1 1) {entry})"#));
    assert!(matches!(err, Error::MemoryNotExported), "{err}");
    let err = rejects(&format!(
        r#"(module (memory (export "memory") 129 129) {entry})"#
    ));
    assert!(
        matches!(err, Error::MemoryExceedsHeapBound { pages: 129, .. }),
        "{err}"
    );
    let err = rejects(&format!(r#"(module (memory (export "memory") 1) {entry})"#));
    assert!(matches!(err, Error::MissingMemoryGrowImport), "{err}");
    let params = StylusParams {
        page_limit: 4,
        ..StylusParams::default()
    };
    let src = format!(r#"(module (memory (export "memory") 5 5) {entry})"#);
    let err = activate(&wat(&src), &params, false).unwrap_err();
    assert!(
        matches!(err, Error::MemoryExceedsPageLimit { pages: 5, limit: 4 }),
        "{err}"
    );
}

#[test]
fn rejects_bad_segments() {
    let err = rejects(&program(r#"(data (i32.const 65535) "ab")"#, OK_BODY));
    assert!(matches!(err, Error::DataOutOfBounds { .. }), "{err}");
    let err = rejects(&program(
        "(table 1 funcref) (func $f) (elem (i32.const 1) func $f)",
        OK_BODY,
    ));
    assert!(matches!(err, Error::InvalidElementSegment(_)), "{err}");
    // In bounds is fine.
    activate_wat(&program(
        r#"(table 1 funcref) (func $f) (elem (i32.const 0) func $f) (data (i32.const 65534) "ab")"#,
        OK_BODY,
    ))
    .unwrap();
}

#[test]
fn rejects_unsupported_opcodes_and_sections() {
    let err = rejects(&program(
        "(func $f) (elem func $f)",
        "elem.drop 0 i32.const 0",
    ));
    assert!(matches!(err, Error::UnsupportedOpcode(_)), "{err}");
    // memory.init makes wat emit a data count section, which nitro's parser refuses.
    let err = rejects(&program(
        r#"(data "x")"#,
        "i32.const 0 i32.const 0 i32.const 1 memory.init 0 i32.const 0",
    ));
    assert!(matches!(err, Error::UnsupportedSection(_)), "{err}");
    assert!(err.to_string().contains("data count"), "{err}");
}

#[test]
fn rejects_over_limits() {
    let locals = "(local i32)".repeat(349);
    let err = rejects(&program(&format!("(func {locals})"), OK_BODY));
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                what: "locals",
                count: 349,
                limit: 348
            }
        ),
        "{err}"
    );
    let datas = r#"(data (i32.const 0) "x")"#.repeat(129);
    let err = rejects(&program(&datas, OK_BODY));
    assert!(
        matches!(err, Error::LimitExceeded { what: "datas", .. }),
        "{err}"
    );
    let pushes = "i32.const 1 ".repeat(4097);
    let drops = "drop ".repeat(4097);
    let err = rejects(&program("", &format!("{pushes} {drops} i32.const 0")));
    assert!(matches!(err, Error::StackContention { .. }), "{err}");
    let name = "m".repeat(513);
    let err = rejects(&format!(
        r#"(module ${name} (memory (export "memory") 1 1)
            (func (export "user_entrypoint") (param i32) (result i32) i32.const 0))"#
    ));
    assert!(
        matches!(
            err,
            Error::NameTooLong {
                what: "module name",
                len: 513
            }
        ),
        "{err}"
    );
}

#[test]
fn rejects_cost_overflow() {
    // 0.75244 cached-cost units per data byte: 90,000 bytes exceed a u16.
    let data = "\\00".repeat(90_000);
    let err = rejects(&format!(
        r#"(module (memory (export "memory") 2 2) (data (i32.const 0) "{data}")
            (func (export "user_entrypoint") (param i32) (result i32) i32.const 0))"#
    ));
    assert!(matches!(err, Error::CostOverflow("cached cost")), "{err}");
}

// -- running instrumented modules --

struct Run {
    result: Result<i32, wasmi::Error>,
    ink_left: u64,
    ink_status: i32,
    stack_left: i32,
    grows: Vec<i32>,
}

/// Instantiates the instrumented module under wasmi, sets ink and stack, calls the entry point.
fn execute(info: &ActivationInfo, ink: u64, stack: u32, arg: i32) -> Run {
    let engine = Engine::default();
    let module = Module::new(&engine, &info.module).unwrap();
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker = Linker::<Vec<i32>>::new(&engine);
    linker
        .func_wrap(
            "vm_hooks",
            "pay_for_memory_grow",
            |mut caller: Caller<'_, Vec<i32>>, pages: i32| caller.data_mut().push(pages),
        )
        .unwrap();
    linker
        .func_wrap("vm_hooks", "read_args", |_: i32| {})
        .unwrap();
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let global = |store: &Store<Vec<i32>>, name| instance.get_global(store, name).unwrap();
    global(&store, STYLUS_INK_LEFT)
        .set(&mut store, Val::I64(ink as i64))
        .unwrap();
    global(&store, STYLUS_STACK_LEFT)
        .set(&mut store, Val::I32(stack as i32))
        .unwrap();
    let entry = instance
        .get_typed_func::<i32, i32>(&store, ENTRYPOINT)
        .unwrap();
    let result = entry.call(&mut store, arg);
    Run {
        result,
        ink_left: global(&store, STYLUS_INK_LEFT).get(&store).i64().unwrap() as u64,
        ink_status: global(&store, STYLUS_INK_STATUS).get(&store).i32().unwrap(),
        stack_left: global(&store, STYLUS_STACK_LEFT).get(&store).i32().unwrap(),
        grows: store.data().clone(),
    }
}

const COUNTDOWN: &str = r#"
    (loop $l
      local.get 0
      i32.const 1
      i32.sub
      local.tee 0
      br_if $l)
    i32.const 7"#;

/// Ink of `COUNTDOWN` for `n` iterations, by nitro's table: blocks end at loop, br_if, end.
///   [loop]                                   1 + header
///   [local.get i32.const i32.sub local.tee br_if]  75 + 1 + 70 + 75 + 765 + header, n times
///   [end]                                    1 + header
///   [i32.const end]                          1 + 1 + header
fn countdown_ink(n: u64) -> u64 {
    let header = INK_HEADER_COST;
    (1 + header) + n * (75 + 1 + 70 + 75 + 765 + header) + (1 + header) + (2 + header)
}

#[test]
fn ink_matches_nitros_prices() {
    let info = activate_wat(&program("", COUNTDOWN)).unwrap();
    for n in [1, 10, 100] {
        let start = 10_000_000;
        let run = execute(&info, start, 1_000, n);
        assert_eq!(run.result.unwrap(), 7);
        assert_eq!(run.ink_status, 0);
        assert_eq!(start - run.ink_left, countdown_ink(n as u64), "n = {n}");
    }
    assert_eq!(countdown_ink(10), 41_714);
}

#[test]
fn running_out_of_ink_traps_with_status_one() {
    let info = activate_wat(&program("", COUNTDOWN)).unwrap();
    // Enough for the first block and two iterations, not for the third.
    let ink = (1 + INK_HEADER_COST) + 2 * 3_436 + 100;
    let run = execute(&info, ink, 1_000, 1_000);
    assert!(run.result.is_err());
    assert_eq!(run.ink_status, 1);
}

#[test]
fn memory_fill_is_charged_per_byte() {
    let body = "i32.const 0 i32.const 0 i32.const 100 memory.fill i32.const 0";
    let info = activate_wat(&program("", body)).unwrap();
    let run = execute(&info, 1_000_000, 1_000, 0);
    run.result.unwrap();
    // One block: 3 × i32.const + memory.fill + i32.const + end, header, 100 bytes × 100.
    assert_eq!(
        1_000_000 - run.ink_left,
        3 + 950 + 1 + 1 + INK_HEADER_COST + 100 * 100
    );
    // A fill larger than the ink left wraps the subtraction and traps.
    let body = "i32.const 0 i32.const 0 i32.const 65536 memory.fill i32.const 0";
    let info = activate_wat(&program("", body)).unwrap();
    let run = execute(&info, 1_000_000, 1_000, 0);
    assert!(run.result.is_err());
    assert_eq!(run.ink_status, 1);
}

#[test]
fn float_blocks_never_run() {
    let info = activate_wat(&program("", "f32.const 1 drop i32.const 0")).unwrap();
    let run = execute(&info, 1 << 60, 1_000, 0);
    assert!(run.result.is_err());
    assert_eq!(run.ink_status, 1);
}

#[test]
fn stack_frames_are_charged_and_credited_back() {
    // Body [i32.const 0, end] after the meter header: worst stack 2, no locals: 2 + 0 + 4.
    let info = activate_wat(&program("", OK_BODY)).unwrap();
    let run_ok = execute(&info, 1_000_000, 7, 0);
    assert_eq!(run_ok.result.unwrap(), 0);
    assert_eq!(run_ok.stack_left, 7);
    let run_short = execute(&info, 1_000_000, 6, 0);
    assert!(run_short.result.is_err());
    assert_eq!(run_short.stack_left, 0);
    assert_eq!(run_short.ink_status, 0);
}

#[test]
fn deep_recursion_traps_on_the_depth_checker() {
    let src = program(
        "(func $rec (param i32) (result i32) local.get 0 call $rec)",
        "local.get 0 call $rec",
    );
    let info = activate_wat(&src).unwrap();
    // About 285 frames of 7 words: within wasmi's own recursion limit.
    let run = execute(&info, u64::MAX / 2, 2_000, 0);
    assert!(run.result.is_err());
    assert_eq!(run.stack_left, 0);
    assert_eq!(run.ink_status, 0);
}

#[test]
fn memory_grow_pays_first() {
    let src = r#"(module
        (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
        (memory (export "memory") 1)
        (func (export "user_entrypoint") (param i32) (result i32)
          i32.const 3 memory.grow))"#;
    let info = activate_wat(src).unwrap();
    let run = execute(&info, 1_000_000, 1_000, 0);
    assert_eq!(run.result.unwrap(), 1);
    assert_eq!(run.grows, [3]);
}

#[test]
fn activation_gas_and_fee_figures() {
    let info = activate_wat(&program("", OK_BODY)).unwrap();
    let params = StylusParams::default();
    let gas = info.activation_gas(&params);
    assert!(gas > ACTIVATION_FIXED_GAS + ACTIVATION_STATE_GAS);
    // memory: 1 page × 2,217 µs × 28 gas.
    assert!(compile_gas(&info.stats, 60) >= 2_217 * 28);
    let mut pricer = DataPricer::default();
    assert!(pricer.update(info.asm_estimate, 1_700_000_000) > alloy_primitives::U256::ZERO);
}

/// A module with a bit of everything, to mutate.
const RICH: &str = r#"(module
    (import "vm_hooks" "read_args" (func $read (param i32)))
    (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
    (memory (export "memory") 1 4)
    (table 2 funcref)
    (global $g (mut i32) (i32.const 8))
    (func $a (param i32) (result i32) local.get 0 i32.const 1 i32.add)
    (elem (i32.const 0) func $a $a)
    (data (i32.const 16) "hello")
    (func (export "user_entrypoint") (param i32) (result i32) (local i64)
      local.get 0 call $read
      block (result i32)
        local.get 0
        i32.const 0
        call_indirect (param i32) (result i32)
        i32.const 0
        br_table 0 0
      end
      i32.const 0 i32.const 0 i32.const 4 memory.copy
      i32.const 1 memory.grow drop
      global.get $g
      i32.add))"#;

#[test]
fn rich_module_activates_and_runs() {
    let info = activate_wat(RICH).unwrap();
    let run = execute(&info, 1 << 40, 22_000, 5);
    assert_eq!(run.result.unwrap(), 6 + 8);
    assert_eq!(run.grows, [1]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = activate(&bytes, &StylusParams::default(), false);
        let mut with_header = b"\0asm\x01\0\0\0".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = activate(&with_header, &StylusParams::default(), true);
    }

    #[test]
    fn mutated_modules_never_panic(
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6)
    ) {
        let mut wasm = wat(RICH);
        for (index, byte) in flips {
            let at = index.index(wasm.len());
            wasm[at] = byte;
        }
        if let Ok(info) = activate(&wasm, &StylusParams::default(), false) {
            // Whatever activation accepts, wasmi can load.
            let engine = Engine::default();
            prop_assert!(Module::new(&engine, &info.module).is_ok());
        }
    }
}
