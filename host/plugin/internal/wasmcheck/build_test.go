package wasmcheck

// Helpers that assemble WebAssembly binaries by hand, for tests.

import "bytes"

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		s := c & 0x40
		v >>= 7
		done := (v == 0 && s == 0) || (v == -1 && s != 0)
		if !done {
			c |= 0x80
		}
		b = append(b, c)
		if done {
			return b
		}
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// sec is a section: id, size, content.
func sec(id byte, content ...[]byte) []byte {
	body := cat(content...)
	return cat([]byte{id}, uleb(uint64(len(body))), body)
}

// vec is a vector: its count, then the items.
func vec(items ...[]byte) []byte { return cat(uleb(uint64(len(items))), cat(items...)) }

// rawVec is a vector with a declared count that need not match the items.
func rawVec(count uint64, items ...[]byte) []byte { return cat(uleb(count), cat(items...)) }

func str(s string) []byte { return cat(uleb(uint64(len(s))), []byte(s)) }

func module(sections ...[]byte) []byte {
	return cat([]byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}, cat(sections...))
}

func functype(params, results []byte) []byte {
	return cat([]byte{0x60}, uleb(uint64(len(params))), params, uleb(uint64(len(results))), results)
}

func repeat(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// body is a function body: size, local declarations, instructions.
func body(locals [][]byte, code ...byte) []byte {
	b := cat(vec(locals...), code)
	return cat(uleb(uint64(len(b))), b)
}

func local(n uint64, t byte) []byte { return cat(uleb(n), []byte{t}) }

func i32c(v int32) []byte { return cat([]byte{0x41}, sleb(int64(v)), []byte{0x0b}) }

// The sections of a small ABI v1 plugin, assembled by hand.
var (
	abiTypes = sec(1, vec(
		functype(nil, nil), // 0: () -> ()
		functype([]byte{0x7e, 0x7f, 0x7f}, []byte{0x7f}), // 1: (i64, i32, i32) -> i32
		functype([]byte{0x7f, 0x7f}, []byte{0x7f}),       // 2: (i32, i32) -> i32
	))
	abiImports = sec(2, vec(
		cat(str("wshost"), str("event_read"), []byte{0x00}, uleb(2)),
	))
	abiFuncs  = sec(3, vec(uleb(0), uleb(1)))
	abiMemory = sec(5, vec([]byte{0x01, 0x01, 0xd0, 0x0f})) // min 1, max 2000
	abiExport = sec(7, vec(
		cat(str("memory"), []byte{0x02, 0x00}),
		cat(str("wshost_abi_v1"), []byte{0x00, 0x01}),
		cat(str("on_message"), []byte{0x00, 0x02}),
	))
	abiCode = sec(10, vec(
		body(nil, 0x0b),
		// i32.const 0; local.get 1; call event_read; local.set 3; i32.const 0
		body([][]byte{local(1, 0x7f)}, 0x41, 0x00, 0x20, 0x01, 0x10, 0x00, 0x21, 0x03, 0x41, 0x00, 0x0b),
	))
	abiData = sec(11, vec(cat([]byte{0x00}, i32c(16), str("hello"))))
	abiName = sec(0, str("name"),
		sec(0, str("echo")),
		sec(1, vec(cat(uleb(1), str("abi")), cat(uleb(2), str("on_message")))),
		sec(2, vec(cat(uleb(2), vec(cat(uleb(0), str("conn")), cat(uleb(3), str("n")))))),
	)
)

func abiModule() []byte {
	return module(abiTypes, abiImports, abiFuncs, abiMemory, abiExport, abiCode, abiData, abiName)
}
