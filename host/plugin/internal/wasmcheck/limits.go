package wasmcheck

// Limits bounds what Check accepts. A zero field takes its default (see
// DefaultLimits); the zero Limits is the default set. Limits is a plain
// value: safe for concurrent use.
//
// The defaults for counts follow the implementation limits that browsers
// agreed on in the WebAssembly JS API (functions, imports, exports, globals,
// data and element segments, params and results, locals per function,
// function body size), so no module a browser runs is refused for those
// counts. The others (file size, memory, tables, types, total locals,
// element entries, signature keys, custom sections) bound what wazero
// allocates per module and per instance; each was measured against wazero
// v1.12.0 so that what wazero allocates to decode and index a module Check
// accepts stays within about 64 bytes per byte of the file plus a few tens
// of MiB. Compiling instruction bodies is not covered: see the package
// documentation.
type Limits struct {
	// MaxFileBytes is the largest file accepted. Default 64 MiB.
	MaxFileBytes int
	// MaxMemoryPages is the host's memory limit in 64 KiB pages: a declared
	// minimum above it is refused; a declared maximum above it is reported
	// (Summary.Memory.MaxAboveLimit) and capped by the host. Default 1024
	// (64 MiB); at most 65536 (4 GiB), the most wasm32 can address.
	MaxMemoryPages uint32
	// MaxTableElems bounds each table's minimum and the sum of the minimums
	// of all tables (what an instance allocates). Default 1<<20.
	MaxTableElems uint32
	// MaxElemEntries bounds the entries of all element segments together.
	// wazero allocates a constant expression, about 72 bytes, for each
	// entry, which can take 1 byte in the file. Default 1<<18.
	MaxElemEntries uint32
	// MaxLocals bounds the locals one function declares (the sum of its
	// local declarations' counts; parameters not included). Default 50,000.
	MaxLocals uint32
	// MaxTotalLocals bounds the locals declared by all functions together.
	// Default 1<<20 (wazero allocates about 10 bytes per local to compile).
	MaxTotalLocals uint64
	// MaxSignatureBytes bounds what wazero allocates to index the function
	// types: it builds each type's string key by appending the names of its
	// params and results one at a time, which costs about 1.5*n*n bytes
	// for n i32 params and results (6 MiB for a type of 1,000 params and
	// 1,000 results, 2 KiB in the file). Default 16 MiB; ordinary modules
	// need a few KiB.
	MaxSignatureBytes uint64
	// MaxFunctionBytes bounds one function body's size. Default 7,654,321.
	MaxFunctionBytes uint32
	// MaxParams bounds the params, and separately the results, of one
	// function type. Default 1,000.
	MaxParams uint32

	// MaxTypes bounds the function types, rec group members included.
	// Default 65,536, below the JS API's 1,000,000: wazero keeps about 500
	// bytes for each type, which takes 3 bytes in the file.
	MaxTypes uint32

	MaxFunctions      uint32 // defined functions; default 1,000,000
	MaxImports        uint32 // default 100,000
	MaxExports        uint32 // default 100,000
	MaxGlobals        uint32 // defined globals; default 1,000,000
	MaxTables         uint32 // imported and defined; default 100,000
	MaxTags           uint32 // defined tags; default 1,000,000
	MaxDataSegments   uint32 // default 100,000
	MaxElemSegments   uint32 // default 100,000
	MaxCustomSections uint32 // default 1,000
}

// MaxPages is the most pages a wasm32 memory can have: 65536 (4 GiB).
const MaxPages = 65536

// DefaultLimits returns the limits Check uses for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes:      64 << 20,
		MaxMemoryPages:    1024,
		MaxTableElems:     1 << 20,
		MaxElemEntries:    1 << 18,
		MaxLocals:         50_000,
		MaxTotalLocals:    1 << 20,
		MaxSignatureBytes: 16 << 20,
		MaxFunctionBytes:  7_654_321,
		MaxParams:         1_000,
		MaxTypes:          1 << 16,
		MaxFunctions:      1_000_000,
		MaxImports:        100_000,
		MaxExports:        100_000,
		MaxGlobals:        1_000_000,
		MaxTables:         100_000,
		MaxTags:           1_000_000,
		MaxDataSegments:   100_000,
		MaxElemSegments:   100_000,
		MaxCustomSections: 1_000,
	}
}

// withDefaults fills zero fields from DefaultLimits and clamps the memory
// limit to what wasm32 can address.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	u32 := func(p *uint32, def uint32) {
		if *p == 0 {
			*p = def
		}
	}
	u32(&l.MaxMemoryPages, d.MaxMemoryPages)
	u32(&l.MaxTableElems, d.MaxTableElems)
	u32(&l.MaxElemEntries, d.MaxElemEntries)
	u32(&l.MaxLocals, d.MaxLocals)
	if l.MaxTotalLocals == 0 {
		l.MaxTotalLocals = d.MaxTotalLocals
	}
	if l.MaxSignatureBytes == 0 {
		l.MaxSignatureBytes = d.MaxSignatureBytes
	}
	u32(&l.MaxFunctionBytes, d.MaxFunctionBytes)
	u32(&l.MaxParams, d.MaxParams)
	u32(&l.MaxTypes, d.MaxTypes)
	u32(&l.MaxFunctions, d.MaxFunctions)
	u32(&l.MaxImports, d.MaxImports)
	u32(&l.MaxExports, d.MaxExports)
	u32(&l.MaxGlobals, d.MaxGlobals)
	u32(&l.MaxTables, d.MaxTables)
	u32(&l.MaxTags, d.MaxTags)
	u32(&l.MaxDataSegments, d.MaxDataSegments)
	u32(&l.MaxElemSegments, d.MaxElemSegments)
	u32(&l.MaxCustomSections, d.MaxCustomSections)
	if l.MaxMemoryPages > MaxPages {
		l.MaxMemoryPages = MaxPages
	}
	return l
}
