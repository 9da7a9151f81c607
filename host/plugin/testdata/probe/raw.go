package main

import "unsafe"

// Raw imports of the wshost module, for the commands that must pass what the
// SDK never passes (arbitrary flags, addresses outside memory, short
// buffers). They duplicate some of the SDK's imports; the linker emits one
// import entry per name.

//go:wasmimport wshost send
//go:noescape
func rawSend(conn uint64, ptr unsafe.Pointer, n uint32, flags uint32) int32

//go:wasmimport wshost event_read
//go:noescape
func rawEventRead(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport wshost conn_info
//go:noescape
func rawConnInfo(conn uint64, keyPtr unsafe.Pointer, keyLen uint32, bufPtr unsafe.Pointer, bufLen uint32) int32

//go:wasmimport wshost state_set
//go:noescape
func rawStateSet(keyPtr unsafe.Pointer, keyLen uint32, valPtr unsafe.Pointer, valLen uint32) int32

//go:wasmimport wshost state_add
//go:noescape
func rawStateAdd(keyPtr unsafe.Pointer, keyLen uint32, delta int64, outPtr unsafe.Pointer) int32

// outside is an address past the end of any linear memory the host allows
// (the limit is far below 4 GiB): host functions must answer ERR_BAD_ARG,
// and a load from it traps.
const outside = 0xFFFFFF00

func addr(a uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(nil), a) }

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

func sptr(s string) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

// trap executes a WebAssembly trap by loading from outside linear memory. (A
// Go panic traps too, with "unreachable" in runtime.abort, after printing the
// panic to stderr; the panic command does that.)
func trap() {
	sinkByte = *(*byte)(addr(outside + 0xF0))
}

var sinkByte byte
