// Package wasmcheck is a bounded pre-parser for WebAssembly binaries. The
// plugin loader runs [Check] on a file's bytes before it hands them to
// wazero.
//
// # Why this exists
//
// The Wasm binary format prefixes every vector with its length as a LEB128
// number: "4294967295 imports follow", "this name is 4 GiB long". wazero's
// decoder (internal/wasm/binary in v1.12.0) trusts those numbers. It does
// make([]wasm.Import, count), make([]byte, nameLen),
// make([]wasm.ValueType, 0, sumOfLocals) and so on before it has read a
// single entry. A file of a dozen bytes can therefore make the host try to
// allocate gigabytes and die. The plugin contract (abi-v1.md) says that
// loading is bounded: such a file must be refused without the host
// allocating for it.
//
// Check walks the whole module structure and checks every declared count
// and size against what is actually left in the enclosing section, and
// against configurable [Limits] (defaults mostly follow the limits browsers
// agreed on in the WebAssembly JS API, tightened where wazero keeps much more
// per entry than the entry takes in the file; and the host's memory limit).
// Nothing sized by a declared number is allocated before the number has
// passed both checks. When Check accepts a module, every vector wazero
// allocates has been parsed to its end, so what wazero allocates is
// proportional to the bytes actually present.
//
// Check also refuses a module whose declared minimum memory is above the
// host's memory limit, naming the problem. A declared maximum above the
// limit is not an error: the host caps it, and [Summary.Memory] reports it.
//
// # What Check does not do
//
// Check is not a validator. It does not type-check instruction bodies (it
// skips each function body by its declared size, which it bounds), nor does
// it check that constant expressions are well typed or that most indices
// refer to something; wazero validates all that after decoding. What Check
// does require, beyond bounds, is that the module is structurally well
// formed (section order, LEB128 encodings, UTF-8 names, a function for each
// body), so that wazero's decoder reads exactly the bytes Check read.
//
// wazero's compiler is the part Check does not bound. Its memory and time
// grow with the instructions of a function body: in wazero v1.12.0 about
// 2.7 KiB per br_table target and 1.4 KiB per byte of if/else, with
// compile time that grows faster than linearly (a 90 KB body of if/else
// takes seconds). Limits.MaxFunctionBytes and Limits.MaxFileBytes cap the
// bytes, not that ratio; bounding it would take an instruction-level scan.
//
// All the functions of this package are pure: they read their arguments,
// never modify them, and keep no state, so they are safe for concurrent use.
package wasmcheck
