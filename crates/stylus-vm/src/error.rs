//! The crate's one error type.

/// Everything that can go wrong decoding, activating or running a Stylus program.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // -- program format and activation (program.rs, activation/) --
    /// The code does not start with a Stylus prefix (`EF F0 0x`).
    #[error("not a Stylus program: code does not start with EF F0 00")]
    NotStylusProgram,
    /// A fragment (`EF F0 01`) or fragmented root (`EF F0 02`) program (ArbOS 60 contract limit).
    #[error("fragmented programs are not supported by this devnode")]
    FragmentedProgram,
    /// The dictionary byte after `EF F0 00` names a dictionary this devnode cannot decompress.
    #[error("{}", crate::program::dictionary_message(.0))]
    UnsupportedDictionary(u8),
    /// The brotli stream after the prefix is corrupt or truncated.
    #[error("cannot decompress the Stylus program: {0}")]
    Decompression(String),
    /// The WASM (after decompression) is larger than `max_wasm_size`.
    #[error("the program's WASM exceeds {limit} bytes")]
    WasmTooLarge {
        /// The limit, `StylusParams::max_wasm_size`.
        limit: usize,
    },
    /// wasmparser rejected the module with the WASM features nitro enables.
    #[error("invalid WASM: {0}")]
    InvalidWasm(String),
    /// The module uses a WASM proposal nitro turns off.
    #[error("the module uses {0}, which Stylus does not support")]
    UnsupportedFeature(&'static str),
    /// A section nitro's parser does not accept.
    #[error("unsupported WASM section: {0}")]
    UnsupportedSection(String),
    /// The module has a start function.
    #[error("WASM start functions are not allowed in Stylus programs")]
    StartFunction,
    /// An import that is not a function (memory, table, global).
    #[error("import {module}.{name} is not a function; Stylus programs import functions only")]
    NonFunctionImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// An import from a module other than `vm_hooks` (or `console` in debug mode).
    #[error("import {module}.{name} is from a module other than vm_hooks{}", crate::activation::console_hint(.module))]
    ForeignImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// An import from `vm_hooks` (or `console`) that nitro does not provide.
    #[error("unknown hostio {module}.{name}")]
    UnknownHostio {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// A known hostio imported with the wrong signature.
    #[error("hostio {name} imported as {found}, but nitro provides {expected}")]
    HostioSignature {
        /// Hostio name.
        name: String,
        /// Nitro's signature.
        expected: String,
        /// The module's signature.
        found: String,
    },
    /// The same function imported twice with different signatures.
    #[error("inconsistent imports for {module}.{name}")]
    InconsistentImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// An export named like one of the module's imports.
    #[error("the module exports an import with the same name: {0}")]
    ReexportedImport(String),
    /// An import or export whose name starts with `stylus`, reserved for instrumentation.
    #[error("the module {kind} the reserved symbol {name} (names starting with \"stylus\" are reserved)")]
    ReservedName {
        /// "imports" or "exports".
        kind: &'static str,
        /// The offending name.
        name: String,
    },
    /// No `user_entrypoint` export.
    #[error("missing export user_entrypoint")]
    MissingEntrypoint,
    /// `user_entrypoint` is exported but is not a function of type `(i32) -> i32`.
    #[error("user_entrypoint must be a function (i32) -> i32, found {0}")]
    EntrypointSignature(String),
    /// The module defines no memory.
    #[error("missing memory with export name \"memory\"")]
    MissingMemory,
    /// The memory is not exported as `memory`.
    #[error("the module's memory is not exported as \"memory\"")]
    MemoryNotExported,
    /// More memory than the heap bound (nitro's compile config: 128 pages).
    #[error("memory size {pages} pages exceeds the heap bound of {bound} pages")]
    MemoryExceedsHeapBound {
        /// Initial pages.
        pages: u64,
        /// Bound in pages.
        bound: u64,
    },
    /// More initial memory than the page limit (`StylusParams::page_limit`).
    #[error("memory exceeds limit: {pages} > {limit} pages")]
    MemoryExceedsPageLimit {
        /// Initial pages.
        pages: u64,
        /// Limit in pages.
        limit: u16,
    },
    /// A growable memory without `vm_hooks.pay_for_memory_grow` to pay for the growth.
    #[error("memory can grow but the module does not import vm_hooks.pay_for_memory_grow")]
    MissingMemoryGrowImport,
    /// One of nitro's anti-DoS limits on module shape.
    #[error("too many wasm {what}: {count} > {limit}")]
    LimitExceeded {
        /// What is counted.
        what: &'static str,
        /// The module's count.
        count: u64,
        /// Nitro's limit.
        limit: u64,
    },
    /// An export or module name longer than 512 bytes.
    #[error("wasm {what} too long: {len} > 512")]
    NameTooLong {
        /// "name" or "module name".
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A global initialised by something other than one constant.
    #[error("non-constant global initializer")]
    NonConstantGlobal,
    /// A data or element segment whose offset is not an `i32.const`.
    #[error("non-constant {0} segment offset")]
    NonConstantOffset(&'static str),
    /// A data segment that does not fit in the initial memory.
    #[error("out-of-bounds data segment: offset {offset}, {len} bytes, memory of {memory} bytes")]
    DataOutOfBounds {
        /// Segment offset.
        offset: u64,
        /// Segment length.
        len: u64,
        /// Initial memory size in bytes.
        memory: u64,
    },
    /// An element segment that does not fit in its table, or uses expressions.
    #[error("invalid element segment: {0}")]
    InvalidElementSegment(String),
    /// An opcode nitro's instrumentation refuses (table ops, memory.init, data.drop...).
    #[error("opcode not supported by Stylus: {0}")]
    UnsupportedOpcode(String),
    /// A float operation nitro has no implementation for in user programs.
    #[error("no implementation for floating point operation {0} in Stylus programs")]
    FloatOperation(String),
    /// A function whose worst-case stack frame exceeds nitro's frame limit.
    #[error("function {func}: frame too large: {size} > {limit}-word limit")]
    FrameTooLarge {
        /// Function index (local functions, as nitro counts).
        func: u32,
        /// Frame size in words.
        size: u32,
        /// Limit in words.
        limit: u32,
    },
    /// A function with too many values on the stack at once.
    #[error("too many values on the stack at once in func {func}: {count} > {limit}")]
    StackContention {
        /// Function index (local functions).
        func: u32,
        /// Worst-case values on the stack.
        count: u32,
        /// Limit.
        limit: u32,
    },
    /// Init cost, cached init cost or asm estimate do not fit their integer types.
    #[error("{0} too high")]
    CostOverflow(&'static str),
    /// The instrumented module failed validation: a bug in this crate, not in the program.
    #[error("stylus-vm produced an invalid instrumented module (a bug): {0}")]
    Instrumentation(String),

    // -- execution (host/) --
    /// The WASM engine failed in a way that is the host's fault, not the program's.
    #[error("stylus host: {0}")]
    Host(String),
}
