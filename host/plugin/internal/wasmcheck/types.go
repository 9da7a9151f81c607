package wasmcheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error Check returns is an *[Error] that wraps exactly
// one of them; test with errors.Is.
var (
	// ErrTooLarge: the file is larger than [Limits.MaxFileBytes].
	ErrTooLarge = errors.New("file too large")
	// ErrMalformed: the bytes are not a well-formed WebAssembly module: a
	// truncated file, a count larger than the bytes that hold its entries, a
	// bad LEB128 number, sections out of order, an index out of range, ...
	ErrMalformed = errors.New("malformed module")
	// ErrLimit: the module is well formed but declares more than the host
	// allows (see [Limits]).
	ErrLimit = errors.New("exceeds a host limit")
	// ErrUnsupported: the module uses an encoding that is valid in some
	// WebAssembly proposal but that neither Check nor wazero v1.12.0
	// supports (memory64, multiple memories, GC struct types, components).
	ErrUnsupported = errors.New("unsupported by the host")
)

// Error is the error type Check returns. Its message names the problem and
// where it is, in plain words; Unwrap returns the sentinel (ErrMalformed,
// ErrLimit, ...). An Error is immutable and safe for concurrent use.
type Error struct {
	// Offset is the byte offset in the file where the problem was found.
	Offset int
	// Msg describes the problem, without the "wasmcheck: " prefix and the
	// sentinel's text.
	Msg string
	// Err is one of the package's sentinel errors.
	Err error
}

// Error implements error: "wasmcheck: " + Msg + ": " + Err.
func (e *Error) Error() string { return "wasmcheck: " + e.Msg + ": " + e.Err.Error() }

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// ValType is a WebAssembly value type. The numeric types and the abstract
// reference types are their one-byte binary encodings (I32 is 0x7f). A typed
// reference (ref $t) or (ref null $t), from the function-references proposal
// that wazero v1.12.0 decodes, keeps its prefix byte (0x63 nullable, 0x64 not
// nullable) in the low 8 bits and its heap type, as a 33-bit two's
// complement number, above. A ValType is a plain value: safe for concurrent
// use.
type ValType uint64

// The value types a plugin's signatures normally use.
const (
	I32       ValType = 0x7f
	I64       ValType = 0x7e
	F32       ValType = 0x7d
	F64       ValType = 0x7c
	V128      ValType = 0x7b
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6f
	ExnRef    ValType = 0x69
)

const (
	refNullPrefix = 0x63 // (ref null ht)
	refPrefix     = 0x64 // (ref ht)

	heapFunc   = -0x10 // s33 of 0x70
	heapExtern = -0x11 // s33 of 0x6f
	heapExn    = -0x17 // s33 of 0x69
)

func refType(nullable bool, heap int64) ValType {
	if nullable {
		switch heap {
		case heapFunc:
			return FuncRef
		case heapExtern:
			return ExternRef
		case heapExn:
			return ExnRef
		}
	}
	p := ValType(refPrefix)
	if nullable {
		p = refNullPrefix
	}
	return p | ValType(uint64(heap)&(1<<33-1))<<8
}

// String returns the text-format name: "i32", "funcref", "(ref null 3)".
func (v ValType) String() string {
	switch v {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	case ExnRef:
		return "exnref"
	}
	prefix := byte(v)
	if prefix != refNullPrefix && prefix != refPrefix {
		return fmt.Sprintf("valtype(0x%x)", uint64(v))
	}
	heap := int64(v>>8) << 31 >> 31 // sign-extend 33 bits
	var ht string
	switch heap {
	case heapFunc:
		ht = "func"
	case heapExtern:
		ht = "extern"
	case heapExn:
		ht = "exn"
	default:
		ht = strconv.FormatInt(heap, 10)
	}
	if prefix == refNullPrefix {
		return "(ref null " + ht + ")"
	}
	return "(ref " + ht + ")"
}

// FuncType is a function signature. The FuncTypes in a Summary may be shared
// between several imports and exports: treat them as read-only. Safe for
// concurrent reads.
type FuncType struct {
	Params  []ValType
	Results []ValType
}

// Equal reports whether f has exactly these params and results.
func (f *FuncType) Equal(params, results []ValType) bool {
	if f == nil || len(f.Params) != len(params) || len(f.Results) != len(results) {
		return false
	}
	for i, p := range params {
		if f.Params[i] != p {
			return false
		}
	}
	for i, r := range results {
		if f.Results[i] != r {
			return false
		}
	}
	return true
}

// String formats the signature as "(i64, i32) -> (i32)".
func (f *FuncType) String() string {
	if f == nil {
		return "<nil>"
	}
	var b strings.Builder
	list := func(vs []ValType) {
		b.WriteByte('(')
		for i, v := range vs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		b.WriteByte(')')
	}
	list(f.Params)
	b.WriteString(" -> ")
	list(f.Results)
	return b.String()
}

// ExternKind is the kind of an import or export. A plain value: safe for
// concurrent use.
type ExternKind byte

// The import and export kinds, with their binary encodings.
const (
	KindFunc   ExternKind = 0
	KindTable  ExternKind = 1
	KindMemory ExternKind = 2
	KindGlobal ExternKind = 3
	KindTag    ExternKind = 4
)

// String returns "func", "table", "memory", "global" or "tag".
func (k ExternKind) String() string {
	switch k {
	case KindFunc:
		return "func"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	case KindTag:
		return "tag"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// GlobalType is the type of a global. A plain value: safe for concurrent use.
type GlobalType struct {
	Type    ValType
	Mutable bool
}

// TableType describes a table, defined or imported. Read-only after Check
// returns; safe for concurrent reads.
type TableType struct {
	Elem     ValType
	Min      uint32
	Max      uint32 // meaningful when HasMax
	HasMax   bool
	Imported bool
}

// MemoryLimits describes the module's memory, defined or imported, in 64 KiB
// pages. Read-only after Check returns; safe for concurrent reads.
type MemoryLimits struct {
	Min      uint32
	Max      uint32 // meaningful when HasMax
	HasMax   bool
	Shared   bool // threads proposal; wazero needs CoreFeaturesThreads for it
	Imported bool
	// MaxAboveLimit is true when the module declares a maximum above
	// Limits.MaxMemoryPages: not an error, the host caps the maximum.
	MaxAboveLimit bool
}

// Import is one entry of the import section. Exactly one of Func, Table,
// Memory and Global is set, according to Kind (Func also holds a tag's
// type). Read-only after Check returns; safe for concurrent reads.
type Import struct {
	Module string
	Name   string
	Kind   ExternKind
	Func   *FuncType
	Table  *TableType
	Memory *MemoryLimits
	Global *GlobalType
}

// Export is one entry of the export section. Func is set for function and
// tag exports, Global for global exports. Read-only after Check returns;
// safe for concurrent reads.
type Export struct {
	Name  string
	Kind  ExternKind
	Index uint32
	Func  *FuncType
	// Global is set when Kind is KindGlobal.
	Global *GlobalType
}

// CustomSection names a custom section and gives its size in bytes
// (without its name). A plain value: safe for concurrent use.
type CustomSection struct {
	Name string
	Size int
}

// Summary is what Check learned about an accepted module: enough for a
// `wshost check FILE.wasm` command and for checking the plugin ABI. It is
// built by Check and never modified afterwards: safe for concurrent reads.
type Summary struct {
	// Size is the file's size in bytes.
	Size int

	Imports []Import
	Exports []Export
	// Memory is nil when the module neither defines nor imports a memory.
	Memory *MemoryLimits
	// Tables lists imported tables, then defined ones.
	Tables []TableType
	// Start is the index of the start function, or nil.
	Start *uint32

	Types             int // function types, rec group members included
	ImportedFunctions int
	Functions         int // defined functions (with a body)
	Globals           int // defined globals
	Tags              int // defined tags (exception handling)
	ElemSegments      int
	ElemEntries       int // entries across all element segments
	DataSegments      int
	DataBytes         int // bytes across all data segments
	CodeBytes         int // bytes of all function bodies, locals included
	// MaxFunctionLocals is the largest number of locals one function
	// declares (parameters not included); TotalLocals sums them all.
	MaxFunctionLocals uint32
	TotalLocals       uint64

	// ModuleName is the module name from the "name" custom section, if any.
	ModuleName     string
	CustomSections []CustomSection
}

// Export returns the export with this name.
func (s *Summary) Export(name string) (Export, bool) {
	for _, e := range s.Exports {
		if e.Name == name {
			return e, true
		}
	}
	return Export{}, false
}
