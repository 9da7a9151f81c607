package wasmcheck

import (
	"fmt"
	"unicode/utf8"
)

// checker walks one module. It reads c.b[c.pos:c.end]; c.end is the end of
// the innermost enclosing window (file, section, subsection, function body),
// so no read can cross it. It is used by one goroutine, for one Check call.
type checker struct {
	b   []byte
	pos int
	end int
	lim Limits
	s   *Summary

	// Where we are, for error messages; formatted only when there is one.
	sec     string // "import section"; "" outside sections
	window  string // what c.end closes: "file", "section", "function body", ...
	item    string // "import"; "" between entries
	itemIdx uint32

	lastOrder int // order rank of the last non-custom section

	types      []uint32 // file offset of each function type's 0x60 byte
	sigs       map[uint32]*FuncType
	funcTypes  []uint32 // type index of every function, imported first
	globals    []GlobalType
	tagTypes   []uint32
	tables     uint32
	tableElems uint64
	memories   uint32

	importedFuncs uint32
	definedFuncs  uint32
	haveCode      bool
	dataCount     uint32
	haveDataCount bool
	haveData      bool
	elemEntries   uint64
	sigBytes      uint64 // wazero's cost of indexing the function types
	haveNameSec   bool
}

// where names the current place: "import section, import 3".
func (c *checker) where() string {
	w := c.sec
	if c.item != "" {
		if w != "" {
			w += ", "
		}
		w += fmt.Sprintf("%s %d", c.item, c.itemIdx)
	}
	return w
}

// errf returns an *Error at offset off, prefixed with where we are.
func (c *checker) errf(kind error, off int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if w := c.where(); w != "" {
		msg = w + ": " + msg
	}
	return &Error{Offset: off, Msg: msg, Err: kind}
}

func (c *checker) eof(what string) error {
	w := c.window
	if w == "" {
		w = "file"
	}
	return c.errf(ErrMalformed, c.pos, "%s runs past the end of the %s (byte %d)", what, w, c.end)
}

func (c *checker) left() int { return c.end - c.pos }

func (c *checker) byte(what string) (byte, error) {
	if c.pos >= c.end {
		return 0, c.eof(what)
	}
	b := c.b[c.pos]
	c.pos++
	return b, nil
}

func (c *checker) skip(n int, what string) error {
	if n < 0 || n > c.left() {
		return c.eof(what)
	}
	c.pos += n
	return nil
}

// lebProblem says why a LEB128 number could not be read. A plain value.
type lebProblem byte

const (
	lebOK       lebProblem = iota
	lebEOF                 // the window ends inside the number
	lebTooLong             // more bytes than the type allows
	lebOverflow            // the last byte's unused bits are wrong
)

// leb reads the bytes of one LEB128 number of at most maxBytes bytes and
// returns its raw value (the low 7 bits of each byte, little end first), its
// last byte and its length. Unused bits of the last byte are the caller's
// business. On a problem c.pos is left at the number's start.
func (c *checker) leb(maxBytes int) (v uint64, last byte, n int, p lebProblem) {
	start := c.pos
	for i := 0; i < maxBytes; i++ {
		if c.pos >= c.end {
			c.pos = start
			return 0, 0, 0, lebEOF
		}
		b := c.b[c.pos]
		c.pos++
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			return v, b, i + 1, lebOK
		}
	}
	c.pos = start
	return 0, 0, 0, lebTooLong
}

// lebErr turns a lebProblem into an error about what (what + what2).
func (c *checker) lebErr(p lebProblem, bits int, what, what2 string) error {
	what += what2
	switch p {
	case lebEOF:
		return c.eof(what)
	case lebTooLong:
		return c.errf(ErrMalformed, c.pos, "bad LEB128 for %s: longer than %d bytes", what, (bits+6)/7)
	}
	return c.errf(ErrMalformed, c.pos, "bad LEB128 for %s: overflows %d bits", what, bits)
}

// rawU32 reads an unsigned LEB128 number of at most 32 bits (5 bytes).
func (c *checker) rawU32() (uint32, lebProblem) {
	start := c.pos
	v, last, n, p := c.leb(5)
	if p != lebOK {
		return 0, p
	}
	if n == 5 && last&0x70 != 0 {
		c.pos = start
		return 0, lebOverflow
	}
	return uint32(v), lebOK
}

// u32 reads an unsigned 32-bit LEB128 number; what (what + what2) names it
// in errors. The two parts are joined only on error.
func (c *checker) u32(what string, what2 ...string) (uint32, error) {
	v, p := c.rawU32()
	if p != lebOK {
		w2 := ""
		if len(what2) > 0 {
			w2 = what2[0]
		}
		return 0, c.lebErr(p, 32, what, w2)
	}
	return v, nil
}

// signed reads a signed LEB128 number of at most bits bits.
func (c *checker) signed(bits int, what string) (int64, error) {
	maxBytes := (bits + 6) / 7
	start := c.pos
	v, last, n, p := c.leb(maxBytes)
	if p != lebOK {
		return 0, c.lebErr(p, bits, what, "")
	}
	if n == maxBytes {
		// The last byte holds bits-7*(maxBytes-1) significant bits; the
		// bits above them, up to bit 6, must repeat the sign bit.
		used := uint(bits - 7*(maxBytes-1))
		unused := byte(0x7f) &^ (1<<used - 1)
		sign := last&(1<<(used-1)) != 0
		if (sign && last&unused != unused) || (!sign && last&unused != 0) {
			c.pos = start
			return 0, c.lebErr(lebOverflow, bits, what, "")
		}
	}
	shift := uint(7 * n)
	if shift < 64 && last&0x40 != 0 {
		v |= ^uint64(0) << shift
	}
	return int64(v), nil
}

// vec reads a vector's count and refuses it, before anything is allocated
// for it, when it is larger than the bytes left in the window (every entry
// takes at least one byte) or than max.
func (c *checker) vec(unit string, max uint32) (uint32, error) {
	start := c.pos
	n, p := c.rawU32()
	if p != lebOK {
		return 0, c.lebErr(p, 32, "the number of ", unit)
	}
	if left := c.left(); uint64(n) > uint64(left) {
		return 0, &Error{Offset: start, Err: ErrMalformed,
			Msg: fmt.Sprintf("%s declares %d %s in %d bytes", c.where(), n, unit, left)}
	}
	if n > max {
		return 0, &Error{Offset: start, Err: ErrLimit,
			Msg: fmt.Sprintf("%s declares %d %s, above the limit of %d", c.where(), n, unit, max)}
	}
	return n, nil
}

// nameBytes reads a length-prefixed UTF-8 name and returns its bytes, a
// slice of the file: nothing is allocated.
func (c *checker) nameBytes(what string) ([]byte, error) {
	start := c.pos
	n, err := c.u32(what, " length")
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(c.left()) {
		return nil, c.errf(ErrMalformed, start, "%s declares %d bytes but only %d are left in the %s", what, n, c.left(), c.window)
	}
	b := c.b[c.pos : c.pos+int(n)]
	if !utf8.Valid(b) {
		return nil, c.errf(ErrMalformed, start, "%s is not valid UTF-8", what)
	}
	c.pos += int(n)
	return b, nil
}

// name is nameBytes as a string (a copy, as large as the bytes read).
func (c *checker) name(what string) (string, error) {
	b, err := c.nameBytes(what)
	return string(b), err
}

// valType reads a value type, as wazero v1.12.0 decodes it: a one-byte
// numeric, vector or abstract reference type, or 0x63/0x64 and a heap type.
func (c *checker) valType(what string) (ValType, error) {
	off := c.pos
	b, err := c.byte(what)
	if err != nil {
		return 0, err
	}
	switch ValType(b) {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef, ExnRef:
		return ValType(b), nil
	}
	if b == refNullPrefix || b == refPrefix {
		ht, err := c.heapType(what)
		if err != nil {
			return 0, err
		}
		return refType(b == refNullPrefix, ht), nil
	}
	return 0, c.errf(ErrMalformed, off, "%s: 0x%02x is not a value type", what, b)
}

// heapType reads the s33 heap type of a typed reference: a type index, or
// func, extern or exn (the abstract heap types wazero v1.12.0 knows).
func (c *checker) heapType(what string) (int64, error) {
	off := c.pos
	ht, err := c.signed(33, what)
	if err != nil {
		return 0, err
	}
	if ht < 0 && ht != heapFunc && ht != heapExtern && ht != heapExn {
		return 0, c.errf(ErrUnsupported, off, "%s: abstract heap type %d (GC proposal) is not supported", what, ht)
	}
	return ht, nil
}

// constExpr skips a constant expression, instruction by instruction, the
// way wazero v1.12.0's decodeConstantExpression reads it.
func (c *checker) constExpr(what string) error {
	for {
		off := c.pos
		op, err := c.byte(what)
		if err != nil {
			return err
		}
		switch op {
		case 0x0b: // end
			return nil
		case 0x41: // i32.const
			_, err = c.signed(32, what)
		case 0x42: // i64.const
			_, err = c.signed(64, what)
		case 0x43: // f32.const
			err = c.skip(4, what)
		case 0x44: // f64.const
			err = c.skip(8, what)
		case 0x23, 0xd2: // global.get, ref.func
			_, err = c.u32(what)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const i32/i64 add, sub, mul
		case 0xd0: // ref.null
			var t byte
			if t, err = c.byte(what); err != nil {
				return err
			}
			switch ValType(t) {
			case FuncRef, ExternRef, ExnRef:
			default: // a type index, read by wazero as a u32
				c.pos--
				_, err = c.u32(what)
			}
		case 0xfd: // v128.const
			var sub byte
			if sub, err = c.byte(what); err != nil {
				return err
			}
			if sub != 0x0c {
				return c.errf(ErrMalformed, off, "%s: vector instruction 0xfd 0x%02x is not allowed in a constant expression", what, sub)
			}
			err = c.skip(16, what)
		default:
			return c.errf(ErrMalformed, off, "%s: opcode 0x%02x is not allowed in a constant expression", what, op)
		}
		if err != nil {
			return err
		}
	}
}

// limits reads a limits structure: flags, minimum, optional maximum.
func (c *checker) limits(what string) (min, max uint32, hasMax, shared bool, err error) {
	off := c.pos
	flags, err := c.byte(what)
	if err != nil {
		return
	}
	switch flags {
	case 0x00, 0x01, 0x02, 0x03:
	case 0x04, 0x05, 0x06, 0x07:
		err = c.errf(ErrUnsupported, off, "%s has 64-bit limits (flags 0x%02x, memory64 proposal), which are not supported", what, flags)
		return
	default:
		if flags&0x08 != 0 && flags < 0x10 {
			err = c.errf(ErrUnsupported, off, "%s has a custom page size (flags 0x%02x), which is not supported", what, flags)
			return
		}
		err = c.errf(ErrMalformed, off, "%s has invalid limits flags 0x%02x", what, flags)
		return
	}
	hasMax = flags&1 != 0
	shared = flags&2 != 0
	if min, err = c.u32(what, " minimum"); err != nil {
		return
	}
	if hasMax {
		max, err = c.u32(what, " maximum")
	}
	return
}
