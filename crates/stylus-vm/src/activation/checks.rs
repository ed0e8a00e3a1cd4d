//! Module-level rules nitro applies at activation beyond WASM validity: hostio imports
//! (prover `machine.rs`, `Module::from_binary`), memory (`programs/mod.rs` `memory_info`,
//! `programs/heap.rs`, `binary.rs` `parse_user`), the entry point (`check_func`), data and
//! element segments (`from_binary`) and the anti-DoS limits (`parse_user`).

use wasmparser::{ConstExpr, DataKind, ElementItems, ElementKind, ExternalKind, Operator};

use super::arbos_versions::ARBOS_VERSION_CHARGING_FIXES;
use super::heap::HEAP_BOUND_PAGES;
use super::hostio::{self, CONSOLE_MODULE, PAY_FOR_MEMORY_GROW, VM_HOOKS_MODULE};
use super::parse::{kind_name, ModuleInfo};
use crate::params::StylusParams;
use crate::Error;

/// The exported entry point every program has.
pub const ENTRYPOINT: &str = "user_entrypoint";
/// Bytes in a WASM page.
const PAGE_SIZE: u64 = 65_536;

/// Every import must be a hostio nitro provides, with nitro's exact signature: `vm_hooks`
/// always, `console` on debug chains.
pub(crate) fn check_imports(info: &ModuleInfo<'_>, debug: bool) -> Result<(), Error> {
    for import in &info.imports {
        let known_module =
            import.module == VM_HOOKS_MODULE || (debug && import.module == CONSOLE_MODULE);
        if !known_module {
            return Err(Error::ForeignImport {
                module: import.module.to_string(),
                name: import.name.to_string(),
            });
        }
        let Some(expected) = hostio::signature(import.module, import.name) else {
            return Err(Error::UnknownHostio {
                module: import.module.to_string(),
                name: import.name.to_string(),
            });
        };
        let found = info
            .types
            .get(import.type_index as usize)
            .ok_or_else(|| Error::InvalidWasm(format!("missing type {}", import.type_index)))?;
        if *found != expected {
            return Err(Error::HostioSignature {
                name: import.name.to_string(),
                expected: hostio::describe(&expected),
                found: hostio::describe(found),
            });
        }
    }
    Ok(())
}

/// The memory plan nitro derives: the footprint and, for a growable memory, the function
/// index of `pay_for_memory_grow`.
pub(crate) struct MemoryPlan {
    /// Initial pages.
    pub footprint: u16,
    /// `pay_for_memory_grow`'s function index, `None` when the memory cannot grow.
    pub pay_func: Option<u32>,
}

/// One memory, exported as `memory`, within the heap bound and the page limit; a growable
/// memory needs `pay_for_memory_grow`.
pub(crate) fn check_memory(
    info: &ModuleInfo<'_>,
    params: &StylusParams,
) -> Result<MemoryPlan, Error> {
    let memory = match info.memories.as_slice() {
        [] => return Err(Error::MissingMemory),
        [memory] => memory,
        many => {
            return Err(Error::LimitExceeded {
                what: "memories",
                count: many.len() as u64,
                limit: 1,
            })
        }
    };
    let exported = info
        .export("memory")
        .is_some_and(|e| e.kind == ExternalKind::Memory && e.index == 0);
    if !exported {
        return Err(Error::MemoryNotExported);
    }
    if memory.initial > HEAP_BOUND_PAGES {
        return Err(Error::MemoryExceedsHeapBound {
            pages: memory.initial,
            bound: HEAP_BOUND_PAGES,
        });
    }
    let pay_func = if memory.maximum == Some(memory.initial) {
        None
    } else {
        let index = info
            .import_index(VM_HOOKS_MODULE, PAY_FOR_MEMORY_GROW)
            .ok_or(Error::MissingMemoryGrowImport)?;
        Some(index)
    };
    // Nitro passes the page limit minus the pages already open in the transaction; a
    // standalone activation has none open.
    if memory.initial > u64::from(params.page_limit) {
        return Err(Error::MemoryExceedsPageLimit {
            pages: memory.initial,
            limit: params.page_limit,
        });
    }
    Ok(MemoryPlan {
        // At most 128 here.
        footprint: memory.initial as u16,
        pay_func,
    })
}

/// `user_entrypoint` must be an exported function `(i32) -> i32`.
pub(crate) fn check_entrypoint(info: &ModuleInfo<'_>) -> Result<(), Error> {
    let export = info.export(ENTRYPOINT).ok_or(Error::MissingEntrypoint)?;
    if export.kind != ExternalKind::Func {
        return Err(Error::EntrypointSignature(format!(
            "a {}",
            kind_name(export.kind)
        )));
    }
    let ty = info
        .func_type(export.index)
        .ok_or_else(|| Error::InvalidWasm(format!("missing function {}", export.index)))?;
    let wanted = wasmparser::FuncType::new([wasmparser::ValType::I32], [wasmparser::ValType::I32]);
    if *ty != wanted {
        return Err(Error::EntrypointSignature(hostio::describe(ty)));
    }
    Ok(())
}

/// Active data segments at constant offsets inside the initial memory; active element
/// segments of function indices at constant offsets inside their table. Passive segments are
/// skipped, as nitro does (the instructions that use them are refused).
pub(crate) fn check_segments(info: &ModuleInfo<'_>) -> Result<(), Error> {
    let memory_bytes = info.memories.first().map_or(0, |m| m.initial * PAGE_SIZE);
    for data in &info.datas {
        let DataKind::Active { offset_expr, .. } = &data.kind else {
            continue;
        };
        let offset = const_offset(offset_expr).ok_or(Error::NonConstantOffset("data"))?;
        let len = data.data.len() as u64;
        // A negative offset is a huge one for nitro (it converts with `as usize`).
        let fits = offset >= 0 && (offset as u64).saturating_add(len) <= memory_bytes;
        if !fits {
            return Err(Error::DataOutOfBounds {
                offset: offset as u32 as u64,
                len,
                memory: memory_bytes,
            });
        }
    }
    for element in &info.elements {
        let ElementKind::Active {
            table_index,
            offset_expr,
        } = &element.kind
        else {
            continue;
        };
        let offset = const_offset(offset_expr).ok_or(Error::NonConstantOffset("element"))?;
        let table_index = table_index.unwrap_or(0);
        let table = info.tables.get(table_index as usize).ok_or_else(|| {
            Error::InvalidElementSegment(format!("segment for missing table {table_index}"))
        })?;
        let ElementItems::Functions(items) = &element.items else {
            return Err(Error::InvalidElementSegment(
                "non-constant element initializers are not supported".into(),
            ));
        };
        let len = u64::from(items.count());
        let fits = offset >= 0 && (offset as u64).saturating_add(len) <= table.initial;
        if !fits {
            return Err(Error::InvalidElementSegment(format!(
                "out of bounds at offset {offset} and length {len} for a table of length {}",
                table.initial
            )));
        }
    }
    Ok(())
}

/// `i32.const N; end`, the only offset nitro accepts.
fn const_offset(expr: &ConstExpr<'_>) -> Option<i32> {
    let mut ops = expr.get_operators_reader();
    match (ops.read().ok()?, ops.read().ok()?, ops.eof()) {
        (Operator::I32Const { value }, Operator::End, true) => Some(value),
        _ => None,
    }
}

/// Nitro's anti-DoS limits on the instrumented module. `exports` are the names the
/// instrumented module exports; `globals` counts the instrumentation globals.
pub(crate) fn check_limits(
    info: &ModuleInfo<'_>,
    params: &StylusParams,
    exports: &[String],
    globals: u64,
) -> Result<(), Error> {
    let limit = |what: &'static str, count: u64, limit: u64| {
        if count > limit {
            Err(Error::LimitExceeded { what, count, limit })
        } else {
            Ok(())
        }
    };
    limit("datas", info.datas.len() as u64, 128)?;
    limit("elements", info.elements.len() as u64, 128)?;
    limit("exports", exports.len() as u64, 1024)?;
    limit("functions", info.bodies.len() as u64, 4096)?;
    limit("globals", globals, 32_768)?;
    if params.arbos_version >= ARBOS_VERSION_CHARGING_FIXES {
        limit("imports", info.imports.len() as u64, 513)?;
    }
    let table_entries = info
        .tables
        .iter()
        .fold(0u64, |sum, t| sum.saturating_add(t.initial));
    limit("table entries", table_entries, 4096)?;
    // Nitro sums each element segment's encoded size in bytes here, not its item count.
    let element_bytes = info.elements.iter().fold(0u64, |sum, e| {
        sum.saturating_add(e.range.end - e.range.start)
    });
    limit("element entries", element_bytes, 4096)?;
    if let Some(long) = exports.iter().find(|name| name.len() > 512) {
        return Err(Error::NameTooLong {
            what: "name",
            len: long.len(),
        });
    }
    if info.module_name.len() > 512 {
        return Err(Error::NameTooLong {
            what: "module name",
            len: info.module_name.len(),
        });
    }
    Ok(())
}
