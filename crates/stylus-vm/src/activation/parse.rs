//! Reads a validated module into the pieces activation needs, rejecting what nitro's parser
//! rejects (prover `binary.rs`, `parse_with_version`): unknown sections (including the data
//! count section), non-function imports, non-constant globals, inconsistent imports, exports
//! shadowing imports and names reserved for instrumentation.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use wasmparser::{
    Data, Element, Export, ExternalKind, FuncType, FunctionBody, Imports, MemoryType, Name,
    NameSectionReader, Operator, Parser, Payload, TableType, TypeRef, ValType,
};

use crate::Error;

/// A function import (nitro accepts no other kind).
#[derive(Debug, Clone)]
pub(crate) struct FuncImport<'a> {
    /// Import module.
    pub module: &'a str,
    /// Import name.
    pub name: &'a str,
    /// Index into the type section.
    pub type_index: u32,
}

/// A global: its type and constant initial value, re-encoded as is.
#[derive(Debug, Clone)]
pub(crate) struct Global {
    /// Value type.
    pub ty: ValType,
    /// Mutability.
    pub mutable: bool,
    /// The initializer, an `*.const` (nitro accepts no other).
    pub init: GlobalInit,
}

/// A constant global initializer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum GlobalInit {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const` (bits).
    F32(u32),
    /// `f64.const` (bits).
    F64(u64),
}

/// The parts of a module activation reads and rewrites.
#[derive(Default)]
pub(crate) struct ModuleInfo<'a> {
    /// Function types, by type index.
    pub types: Vec<FuncType>,
    /// Function imports, by function index.
    pub imports: Vec<FuncImport<'a>>,
    /// Type index of each local function.
    pub functions: Vec<u32>,
    /// Tables.
    pub tables: Vec<TableType>,
    /// Memories (validation allows at most one).
    pub memories: Vec<MemoryType>,
    /// Globals defined by the module.
    pub globals: Vec<Global>,
    /// Exports, in module order.
    pub exports: Vec<Export<'a>>,
    /// Start function, if any.
    pub start: Option<u32>,
    /// Element segments.
    pub elements: Vec<Element<'a>>,
    /// Data segments.
    pub datas: Vec<Data<'a>>,
    /// Function bodies, by local function index.
    pub bodies: Vec<FunctionBody<'a>>,
    /// Module name from the `name` section, if any.
    pub module_name: String,
    /// The `name` custom section, kept in debug mode.
    pub name_section: Option<&'a [u8]>,
    /// Sections copied unchanged into the instrumented module: (id, contents range).
    pub raw_sections: Vec<(u8, Range<usize>)>,
}

impl<'a> ModuleInfo<'a> {
    /// The type of function `index` (imports first, then local functions).
    pub(crate) fn func_type(&self, index: u32) -> Option<&FuncType> {
        let index = index as usize;
        let type_index = match self.imports.get(index) {
            Some(import) => import.type_index,
            None => *self.functions.get(index - self.imports.len())?,
        };
        self.types.get(type_index as usize)
    }

    /// The export named `name`, if any.
    pub(crate) fn export(&self, name: &str) -> Option<&Export<'a>> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// Function index of `module.name` among the imports.
    pub(crate) fn import_index(&self, module: &str, name: &str) -> Option<u32> {
        self.imports
            .iter()
            .position(|i| i.module == module && i.name == name)
            .map(|i| i as u32)
    }
}

/// Reads `wasm` (already validated) section by section.
pub(crate) fn parse(wasm: &[u8]) -> Result<ModuleInfo<'_>, Error> {
    let mut info = ModuleInfo::default();
    let invalid = |e: wasmparser::BinaryReaderError| Error::InvalidWasm(e.to_string());
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(invalid)?;
        match payload {
            Payload::Version { .. } | Payload::End(_) | Payload::CodeSectionStart { .. } => {}
            Payload::TypeSection(reader) => {
                info.raw_sections.push((1, to_usize(reader.range())));
                for ty in reader.into_iter_err_on_gc_types() {
                    info.types.push(ty.map_err(invalid)?);
                }
            }
            Payload::ImportSection(reader) => {
                info.raw_sections.push((2, to_usize(reader.range())));
                for group in reader {
                    let Imports::Single(_, import) = group.map_err(invalid)? else {
                        return Err(Error::UnsupportedFeature("compact imports"));
                    };
                    let TypeRef::Func(type_index) = import.ty else {
                        return Err(Error::NonFunctionImport {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                        });
                    };
                    info.imports.push(FuncImport {
                        module: import.module,
                        name: import.name,
                        type_index,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                info.raw_sections.push((3, to_usize(reader.range())));
                for f in reader {
                    info.functions.push(f.map_err(invalid)?);
                }
            }
            Payload::TableSection(reader) => {
                info.raw_sections.push((4, to_usize(reader.range())));
                for table in reader {
                    info.tables.push(table.map_err(invalid)?.ty);
                }
            }
            Payload::MemorySection(reader) => {
                info.raw_sections.push((5, to_usize(reader.range())));
                for memory in reader {
                    info.memories.push(memory.map_err(invalid)?);
                }
            }
            Payload::GlobalSection(reader) => {
                // Re-encoded with the instrumentation globals appended, not copied.
                for global in reader {
                    let global = global.map_err(invalid)?;
                    info.globals.push(Global {
                        ty: global.ty.content_type,
                        mutable: global.ty.mutable,
                        init: constant(global.init_expr.get_operators_reader())?,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    info.exports.push(export.map_err(invalid)?);
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(reader) => {
                info.raw_sections.push((9, to_usize(reader.range())));
                for element in reader {
                    info.elements.push(element.map_err(invalid)?);
                }
            }
            Payload::DataSection(reader) => {
                info.raw_sections.push((11, to_usize(reader.range())));
                for data in reader {
                    info.datas.push(data.map_err(invalid)?);
                }
            }
            Payload::CodeSectionEntry(body) => info.bodies.push(body),
            Payload::CustomSection(reader) => {
                if reader.name() == "name" {
                    info.name_section = Some(reader.data());
                    read_module_name(&mut info.module_name, &reader)?;
                }
            }
            // Nitro's parser has no arm for the data count section: modules that carry one
            // (wasm-opt writes it whenever bulk memory is enabled) fail activation.
            Payload::DataCountSection { .. } => {
                return Err(Error::UnsupportedSection(
                    "data count section (nitro rejects it; wasm-opt adds it when bulk memory \
                     is enabled)"
                        .to_string(),
                ))
            }
            other => {
                return Err(Error::UnsupportedSection(format!("{other:?}")));
            }
        }
    }
    check_names(&info)?;
    Ok(info)
}

/// Nitro reads the `name` section's module name (and function names, which it then drops);
/// a malformed name section fails activation.
fn read_module_name(
    module_name: &mut String,
    reader: &wasmparser::CustomSectionReader<'_>,
) -> Result<(), Error> {
    let names = NameSectionReader::new(wasmparser::BinaryReader::new(
        reader.data(),
        reader.data_offset(),
    ));
    for name in names {
        let name = name.map_err(|e| Error::InvalidWasm(format!("name section: {e}")))?;
        match name {
            Name::Module { name, .. } => *module_name = name.to_string(),
            Name::Function(map) => {
                for naming in map {
                    naming.map_err(|e| Error::InvalidWasm(format!("name section: {e}")))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A global initializer must be exactly one `*.const` then `end` (nitro's `op_as_const`).
fn constant(mut ops: wasmparser::OperatorsReader<'_>) -> Result<GlobalInit, Error> {
    let first = ops.read().map_err(|_| Error::NonConstantGlobal)?;
    let second = ops.read().map_err(|_| Error::NonConstantGlobal)?;
    if !matches!(second, Operator::End) || !ops.eof() {
        return Err(Error::NonConstantGlobal);
    }
    match first {
        Operator::I32Const { value } => Ok(GlobalInit::I32(value)),
        Operator::I64Const { value } => Ok(GlobalInit::I64(value)),
        Operator::F32Const { value } => Ok(GlobalInit::F32(value.bits())),
        Operator::F64Const { value } => Ok(GlobalInit::F64(value.bits())),
        _ => Err(Error::NonConstantGlobal),
    }
}

/// Nitro's name rules, in its order: one signature per imported name, no export named like
/// an import (comparing the part after the last `__`), nothing starting with `stylus`.
fn check_names(info: &ModuleInfo<'_>) -> Result<(), Error> {
    let mut seen = HashMap::new();
    for import in &info.imports {
        if let Some(prior) = seen.insert((import.module, import.name), import.type_index) {
            // Nitro compares type indices, so two equal types at different indices conflict.
            if prior != import.type_index {
                return Err(Error::InconsistentImport {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                });
            }
        }
    }
    let export_tails: HashSet<&str> = info
        .exports
        .iter()
        .filter_map(|e| e.name.rsplit("__").next())
        .collect();
    if let Some(import) = info.imports.iter().find(|i| export_tails.contains(i.name)) {
        return Err(Error::ReexportedImport(import.name.to_string()));
    }
    let reserved = |name: &&str| name.starts_with("stylus");
    if let Some(name) = export_tails.iter().copied().find(reserved) {
        return Err(Error::ReservedName {
            kind: "exports",
            name: name.to_string(),
        });
    }
    if let Some(name) = info.imports.iter().map(|i| i.name).find(reserved) {
        return Err(Error::ReservedName {
            kind: "imports",
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Section ranges are `u64` offsets into a slice we hold, so they fit `usize`.
fn to_usize(range: Range<u64>) -> Range<usize> {
    range.start as usize..range.end as usize
}

/// The export kind as nitro prints it.
pub(crate) fn kind_name(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => "function",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}
