//! Writes the instrumented module: the original sections copied byte for byte, except the
//! globals (the four instrumentation globals appended), the exports (nitro's whitelist
//! outside debug mode, plus the instrumentation globals) and the code (rewritten bodies).
//! Custom sections are dropped, except `name` in debug mode.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, CustomSection, ExportKind, ExportSection, Function, GlobalSection,
    GlobalType, Ieee32, Ieee64, Module, RawSection, ValType,
};
use wasmparser::ExternalKind;

use super::instrument::{Globals, Instrumented};
use super::parse::{GlobalInit, ModuleInfo};
use crate::Error;

/// Export names of the instrumentation globals.
pub const STYLUS_INK_LEFT: &str = "stylus_ink_left";
/// Set to 1 when the program runs out of ink.
pub const STYLUS_INK_STATUS: &str = "stylus_ink_status";
/// Scratch space of the dynamic meter and heap bound.
pub const STYLUS_SCRATCH_GLOBAL: &str = "stylus_scratch_global";
/// Stack words left.
pub const STYLUS_STACK_LEFT: &str = "stylus_stack_left";

/// An export of the instrumented module.
pub(crate) struct OutExport {
    /// Export name.
    pub name: String,
    /// Export kind.
    pub kind: ExportKind,
    /// Index in its index space.
    pub index: u32,
}

/// The exports of the instrumented module: outside debug mode only `user_entrypoint` (as a
/// function) and `memory` (as a memory) survive, as nitro's start mover leaves them; then the
/// instrumentation globals.
pub(crate) fn exports(info: &ModuleInfo<'_>, globals: &Globals, debug: bool) -> Vec<OutExport> {
    let mut out: Vec<OutExport> = info
        .exports
        .iter()
        .filter(|e| {
            debug
                || (e.name == super::checks::ENTRYPOINT && e.kind == ExternalKind::Func)
                || (e.name == "memory" && e.kind == ExternalKind::Memory)
        })
        .map(|e| OutExport {
            name: e.name.to_string(),
            kind: export_kind(e.kind),
            index: e.index,
        })
        .collect();
    for (name, index) in [
        (STYLUS_INK_LEFT, globals.ink),
        (STYLUS_INK_STATUS, globals.ink_status),
        (STYLUS_SCRATCH_GLOBAL, globals.scratch),
        (STYLUS_STACK_LEFT, globals.stack_left),
    ] {
        out.push(OutExport {
            name: name.to_string(),
            kind: ExportKind::Global,
            index,
        });
    }
    out
}

fn export_kind(kind: ExternalKind) -> ExportKind {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
        ExternalKind::Table => ExportKind::Table,
        ExternalKind::Memory => ExportKind::Memory,
        ExternalKind::Global => ExportKind::Global,
        ExternalKind::Tag => ExportKind::Tag,
    }
}

/// Section ids in the order the binary format requires.
const SECTION_ORDER: [u8; 13] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
const GLOBAL_ID: u8 = 6;
const EXPORT_ID: u8 = 7;
const CODE_ID: u8 = 10;

fn rank(id: u8) -> usize {
    SECTION_ORDER
        .iter()
        .position(|&x| x == id)
        .unwrap_or(SECTION_ORDER.len())
}

/// Encodes the instrumented module.
pub(crate) fn encode(
    wasm: &[u8],
    info: &ModuleInfo<'_>,
    bodies: Vec<Instrumented<'_>>,
    exports: &[OutExport],
    debug: bool,
) -> Result<Vec<u8>, Error> {
    let mut reencoder = RoundtripReencoder;
    let bug = |e: wasm_encoder::reencode::Error| Error::Instrumentation(format!("{e:?}"));

    let mut global_section = GlobalSection::new();
    for global in &info.globals {
        let ty = GlobalType {
            val_type: reencoder.val_type(global.ty).map_err(bug)?,
            mutable: global.mutable,
            shared: false,
        };
        let init = match global.init {
            GlobalInit::I32(v) => ConstExpr::i32_const(v),
            GlobalInit::I64(v) => ConstExpr::i64_const(v),
            GlobalInit::F32(bits) => ConstExpr::f32_const(Ieee32::new(bits)),
            GlobalInit::F64(bits) => ConstExpr::f64_const(Ieee64::new(bits)),
        };
        global_section.global(ty, &init);
    }
    for val_type in [ValType::I64, ValType::I32, ValType::I32, ValType::I32] {
        let init = match val_type {
            ValType::I64 => ConstExpr::i64_const(0),
            _ => ConstExpr::i32_const(0),
        };
        let ty = GlobalType {
            val_type,
            mutable: true,
            shared: false,
        };
        global_section.global(ty, &init);
    }

    let mut export_section = ExportSection::new();
    for export in exports {
        export_section.export(&export.name, export.kind, export.index);
    }

    let mut code_section = CodeSection::new();
    for body in bodies {
        let mut locals = Vec::with_capacity(body.locals.len());
        for (count, ty) in body.locals {
            locals.push((count, reencoder.val_type(ty).map_err(bug)?));
        }
        let mut function = Function::new(locals);
        for op in body.ops {
            function.instruction(&reencoder.instruction(op).map_err(bug)?);
        }
        code_section.function(&function);
    }

    enum Piece<'s> {
        Raw(u8, &'s [u8]),
        Globals,
        Exports,
        Code,
    }
    let mut pieces: Vec<(usize, Piece<'_>)> = info
        .raw_sections
        .iter()
        .map(|(id, range)| (rank(*id), Piece::Raw(*id, &wasm[range.clone()])))
        .collect();
    pieces.push((rank(GLOBAL_ID), Piece::Globals));
    pieces.push((rank(EXPORT_ID), Piece::Exports));
    if !info.bodies.is_empty() {
        pieces.push((rank(CODE_ID), Piece::Code));
    }
    pieces.sort_by_key(|(rank, _)| *rank);

    let mut module = Module::new();
    for (_, piece) in &pieces {
        match piece {
            Piece::Raw(id, data) => module.section(&RawSection { id: *id, data }),
            Piece::Globals => module.section(&global_section),
            Piece::Exports => module.section(&export_section),
            Piece::Code => module.section(&code_section),
        };
    }
    if debug {
        if let Some(data) = info.name_section {
            module.section(&CustomSection {
                name: "name".into(),
                data: data.into(),
            });
        }
    }
    Ok(module.finish())
}
