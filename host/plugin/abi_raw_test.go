package plugin_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/wshost/wshost/host"
)

// The probe, built with the Go SDK, can only pass valid UTF-8 and, to
// broadcast, flags 0 or 1. rawModule is a module assembled here byte by byte
// that passes what the SDK never does: invalid UTF-8 text, to send,
// broadcast and close, and bad flags, to send and broadcast.

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func wasmVec(items ...[]byte) []byte { return cat(uleb(uint64(len(items))), cat(items...)) }

func wasmName(s string) []byte { return cat(uleb(uint64(len(s))), []byte(s)) }

func wasmSection(id byte, items ...[]byte) []byte {
	body := wasmVec(items...)
	return cat([]byte{id}, uleb(uint64(len(body))), body)
}

// The calls on_message makes, in order; each result is stored as one byte
// at resultsAt+i and the results are sent back as one binary message.
const (
	badUTF8At = 16 // "\xff\xfe": not UTF-8
	roomAt    = 32 // "r": a room name, a valid UTF-8 text
	resultsAt = 64
)

// rawCall is one host call of rawModule's on_message and its ABI result.
type rawCall struct {
	name string
	fn   byte   // import index: 0 send, 1 broadcast, 2 close, 3 join
	args []byte // instructions pushing the arguments
	want int8
}

func i32c(v int64) []byte { return cat([]byte{0x41}, sleb(v)) }
func i64c(v int64) []byte { return cat([]byte{0x42}, sleb(v)) }

var connArg = []byte{0x20, 0x00} // local.get 0: on_message's conn

func rawCalls() []rawCall {
	return []rawCall{
		{"send: invalid UTF-8 text", 0, cat(connArg, i32c(badUTF8At), i32c(2), i32c(0)), -2},
		{"send: invalid UTF-8 as binary", 0, cat(connArg, i32c(badUTF8At), i32c(2), i32c(1)), 0},
		{"send: flags 2", 0, cat(connArg, i32c(roomAt), i32c(1), i32c(2)), -2},
		{"send: flags 3", 0, cat(connArg, i32c(roomAt), i32c(1), i32c(3)), -2},
		{"send: flags 1<<31", 0, cat(connArg, i32c(roomAt), i32c(1), i32c(-1<<31)), -2},
		{"join r", 3, cat(connArg, i32c(roomAt), i32c(1)), 0},
		{"broadcast: invalid UTF-8 text", 1, cat(i32c(roomAt), i32c(1), i32c(badUTF8At), i32c(2), i32c(0), i64c(0)), -2},
		{"broadcast: flags 2", 1, cat(i32c(roomAt), i32c(1), i32c(roomAt), i32c(1), i32c(2), i64c(0)), -2},
		{"broadcast: flags 3", 1, cat(i32c(roomAt), i32c(1), i32c(roomAt), i32c(1), i32c(3), i64c(0)), -2},
		{"broadcast: invalid UTF-8 as binary, sender left out", 1, cat(i32c(roomAt), i32c(1), i32c(badUTF8At), i32c(2), i32c(1), connArg), 0},
		{"close: reason not UTF-8", 2, cat(connArg, i32c(1000), i32c(badUTF8At), i32c(2)), -2},
		{"close: reason a lone lead byte", 2, cat(connArg, i32c(4000), i32c(badUTF8At), i32c(1)), -2},
	}
}

// rawModule builds the module: imports send, broadcast, close and join;
// exports memory, wshost_abi_v1 and on_message, which makes rawCalls and
// sends their results to the sender as one binary message.
func rawModule() []byte {
	const i32, i64 = 0x7f, 0x7e
	functype := func(params, results []byte) []byte {
		return cat([]byte{0x60}, uleb(uint64(len(params))), params, uleb(uint64(len(results))), results)
	}
	importFunc := func(name string, typ byte) []byte {
		return cat(wasmName("wshost"), wasmName(name), []byte{0x00, typ})
	}
	var body []byte
	calls := rawCalls()
	for i, c := range calls {
		body = append(body, i32c(int64(resultsAt+i))...) // address for the store
		body = append(body, c.args...)
		body = append(body, 0x10, c.fn)       // call
		body = append(body, 0x3a, 0x00, 0x00) // i32.store8 align=0 offset=0
	}
	// send(conn, resultsAt, len(calls), binary); drop its result; return 0.
	body = cat(body, connArg, i32c(resultsAt), i32c(int64(len(calls))), i32c(1), []byte{0x10, 0x00, 0x1a}, i32c(0), []byte{0x0b})
	funcBody := func(expr []byte) []byte {
		b := cat([]byte{0x00}, expr) // no locals
		return cat(uleb(uint64(len(b))), b)
	}
	dataSeg := func(at int64, data string) []byte {
		return cat([]byte{0x00}, i32c(at), []byte{0x0b}, wasmName(data))
	}
	return cat(
		[]byte("\x00asm\x01\x00\x00\x00"),
		wasmSection(1, // types
			functype([]byte{i64, i32, i32, i32}, []byte{i32}),           // 0: send, close
			functype([]byte{i32, i32, i32, i32, i32, i64}, []byte{i32}), // 1: broadcast
			functype([]byte{i64, i32, i32}, []byte{i32}),                // 2: join, on_message
			functype(nil, nil), // 3: wshost_abi_v1
		),
		wasmSection(2, importFunc("send", 0), importFunc("broadcast", 1), importFunc("close", 0), importFunc("join", 2)),
		wasmSection(3, []byte{3}, []byte{2}), // functions 4 and 5
		wasmSection(5, []byte{0x00, 0x01}),   // memory: min 1 page
		wasmSection(7,
			cat(wasmName("memory"), []byte{0x02, 0x00}),
			cat(wasmName("wshost_abi_v1"), []byte{0x00, 0x04}),
			cat(wasmName("on_message"), []byte{0x00, 0x05}),
		),
		wasmSection(10, funcBody([]byte{0x0b}), funcBody(body)),
		wasmSection(11, dataSeg(badUTF8At, "\xff\xfe"), dataSeg(roomAt, "r")),
	)
}

// TestABIUTF8AndFlags: send, broadcast and close refuse text that is not
// UTF-8 and flags other than 0 and 1 with ERR_BAD_ARG; binary messages may
// hold any bytes.
func TestABIUTF8AndFlags(t *testing.T) {
	f := newFixture(t, host.Config{})
	if err := f.plugins.Install(context.Background(), "raw", rawModule(), nil); err != nil {
		t.Fatalf("install the raw module: %v", err)
	}
	c := f.Dial(t, "/ws/raw")
	c.Send("go")
	if got := readBinary(t, c); string(got) != "\xff\xfe" {
		t.Fatalf("binary send of invalid UTF-8: got %q, want \"\\xff\\xfe\"", got)
	}
	got := readBinary(t, c)
	calls := rawCalls()
	if len(got) != len(calls) {
		t.Fatalf("got %d results, want %d", len(got), len(calls))
	}
	for i, call := range calls {
		if int8(got[i]) != call.want {
			t.Errorf("%s: got %d, want %d", call.name, int8(got[i]), call.want)
		}
	}
	// Nothing reached c but what the calls returning 0 queued: the next
	// round starts the same way.
	c.Send("again")
	if got := readBinary(t, c); string(got) != "\xff\xfe" {
		t.Fatalf("second round: got %q first", got)
	}
}
