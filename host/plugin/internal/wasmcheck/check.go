package wasmcheck

import (
	"bytes"
	"fmt"
)

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

var sectionNames = [...]string{
	secCustom:    "custom section",
	secType:      "type section",
	secImport:    "import section",
	secFunction:  "function section",
	secTable:     "table section",
	secMemory:    "memory section",
	secGlobal:    "global section",
	secExport:    "export section",
	secStart:     "start section",
	secElement:   "element section",
	secCode:      "code section",
	secData:      "data section",
	secDataCount: "data count section",
	secTag:       "tag section",
}

// sectionOrder ranks the non-custom sections in the order the binary format
// requires (the tag section of the exception-handling proposal goes between
// memory and global; data count between element and code).
var sectionOrder = [...]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5,
	secTag: 6, secGlobal: 7, secExport: 8, secStart: 9, secElement: 10,
	secDataCount: 11, secCode: 12, secData: 13,
}

var (
	wasmMagic   = []byte{0x00, 'a', 's', 'm'}
	wasmVersion = []byte{0x01, 0x00, 0x00, 0x00}
)

// Check walks the WebAssembly binary bin with explicit bounds and returns a
// summary of it, or an *Error wrapping ErrTooLarge, ErrMalformed, ErrLimit
// or ErrUnsupported. It allocates nothing sized by a number the file
// declares before checking that number against the bytes that are left and
// against lim, so its time and memory are linear in len(bin). bin is not
// modified nor retained. Check is a pure function, safe for concurrent use.
//
// When Check accepts bin, wazero's decoder reads the same structure and
// allocates in proportion to the bytes actually present; wazero still
// validates the module (instruction bodies, types, indices) when it
// compiles it.
func Check(bin []byte, lim Limits) (*Summary, error) {
	lim = lim.withDefaults()
	if len(bin) > lim.MaxFileBytes {
		return nil, &Error{Offset: 0, Err: ErrTooLarge,
			Msg: fmt.Sprintf("file is %d bytes, above the limit of %d bytes", len(bin), lim.MaxFileBytes)}
	}
	c := &checker{b: bin, end: len(bin), lim: lim, s: &Summary{Size: len(bin)}, window: "file"}
	if err := c.header(); err != nil {
		return nil, err
	}
	for c.pos < len(bin) {
		if err := c.section(); err != nil {
			return nil, err
		}
	}
	c.sec, c.item = "", ""
	if c.definedFuncs > 0 && !c.haveCode {
		return nil, c.errf(ErrMalformed, len(bin), "the function section declares %d functions but there is no code section", c.definedFuncs)
	}
	if c.haveDataCount && c.dataCount != uint32(c.s.DataSegments) {
		return nil, c.errf(ErrMalformed, len(bin), "the data count section says %d data segments but the module has %d", c.dataCount, c.s.DataSegments)
	}
	s := c.s
	s.Types = len(c.types)
	s.ImportedFunctions = int(c.importedFuncs)
	s.Functions = int(c.definedFuncs)
	s.ElemEntries = int(c.elemEntries)
	return s, nil
}

func (c *checker) header() error {
	b := c.b
	if len(b) < 8 {
		return &Error{Offset: 0, Err: ErrMalformed,
			Msg: fmt.Sprintf("file is %d bytes, too short for the 8-byte WebAssembly header", len(b))}
	}
	if !bytes.Equal(b[:4], wasmMagic) {
		return &Error{Offset: 0, Err: ErrMalformed,
			Msg: fmt.Sprintf("not a WebAssembly binary: it starts with % x, not 00 61 73 6d (\"\\0asm\")", b[:4])}
	}
	if !bytes.Equal(b[4:8], wasmVersion) {
		if b[6] == 0x01 && b[7] == 0x00 { // layer 1: a component
			return &Error{Offset: 4, Err: ErrUnsupported,
				Msg: "this is a WebAssembly component, not a core module"}
		}
		return &Error{Offset: 4, Err: ErrUnsupported,
			Msg: fmt.Sprintf("binary format version % x is not 01 00 00 00 (version 1)", b[4:8])}
	}
	c.pos = 8
	return nil
}

func (c *checker) section() error {
	start := c.pos
	c.end, c.window, c.sec, c.item = len(c.b), "file", "", ""
	id := c.b[c.pos]
	c.pos++
	if int(id) >= len(sectionNames) {
		return c.errf(ErrMalformed, start, "unknown section id %d", id)
	}
	c.sec = sectionNames[id]
	size, err := c.u32("the section size")
	if err != nil {
		return err
	}
	if uint64(size) > uint64(c.left()) {
		return c.errf(ErrMalformed, start, "the section declares %d bytes but only %d are left in the file", size, c.left())
	}
	if id != secCustom {
		rank := sectionOrder[id]
		if rank <= c.lastOrder {
			if rank == c.lastOrder {
				return c.errf(ErrMalformed, start, "the module has a second %s", sectionNames[id])
			}
			return c.errf(ErrMalformed, start, "the section is out of order")
		}
		c.lastOrder = rank
	}
	c.end, c.window = c.pos+int(size), "section"
	switch id {
	case secCustom:
		err = c.customSection()
	case secType:
		err = c.typeSection()
	case secImport:
		err = c.importSection()
	case secFunction:
		err = c.functionSection()
	case secTable:
		err = c.tableSection()
	case secMemory:
		err = c.memorySection()
	case secTag:
		err = c.tagSection()
	case secGlobal:
		err = c.globalSection()
	case secExport:
		err = c.exportSection()
	case secStart:
		err = c.startSection()
	case secElement:
		err = c.elementSection()
	case secDataCount:
		c.dataCount, err = c.u32("the data segment count")
		if err == nil && c.dataCount > c.lim.MaxDataSegments {
			err = c.errf(ErrLimit, start, "declares %d data segments, above the limit of %d", c.dataCount, c.lim.MaxDataSegments)
		}
		c.haveDataCount = true
	case secCode:
		err = c.codeSection()
	case secData:
		err = c.dataSection()
	}
	if err != nil {
		return err
	}
	c.item = ""
	if c.pos != c.end {
		return c.errf(ErrMalformed, c.pos, "%d bytes are left over after the last entry (the section declares %d bytes)", c.end-c.pos, size)
	}
	return nil
}

func (c *checker) customSection() error {
	if uint32(len(c.s.CustomSections)) >= c.lim.MaxCustomSections {
		return c.errf(ErrLimit, c.pos, "the module has more than %d custom sections", c.lim.MaxCustomSections)
	}
	name, err := c.name("the custom section name")
	if err != nil {
		return err
	}
	c.s.CustomSections = append(c.s.CustomSections, CustomSection{Name: name, Size: c.left()})
	if name != "name" {
		c.pos = c.end
		return nil
	}
	c.sec = `"name" section`
	if c.haveNameSec {
		return c.errf(ErrMalformed, c.pos, "the module has a second name section")
	}
	c.haveNameSec = true
	return c.nameSection()
}

// nameSection checks the subsections of the "name" custom section. wazero
// decodes the module name (0), function names (1) and local names (2), and
// skips the others by their size.
func (c *checker) nameSection() error {
	secEnd := c.end
	for c.pos < secEnd {
		c.end, c.window, c.item, c.sec = secEnd, "section", "", `"name" section`
		id, err := c.byte("the subsection id")
		if err != nil {
			return err
		}
		size, err := c.u32("the subsection size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(c.left()) {
			return c.errf(ErrMalformed, c.pos, "subsection %d declares %d bytes but only %d are left in the section", id, size, c.left())
		}
		c.end, c.window = c.pos+int(size), "subsection"
		switch id {
		case 0:
			c.sec = `"name" section, module name`
			b, err := c.nameBytes("the module name")
			if err != nil {
				return err
			}
			c.s.ModuleName = string(b)
		case 1:
			c.sec = `"name" section, function names`
			if err := c.nameMap("function names", satAdd(c.lim.MaxImports, c.lim.MaxFunctions)); err != nil {
				return err
			}
		case 2:
			c.sec = `"name" section, local names`
			n, err := c.vec("functions", satAdd(c.lim.MaxImports, c.lim.MaxFunctions))
			if err != nil {
				return err
			}
			for i := uint32(0); i < n; i++ {
				c.item, c.itemIdx = "entry", i
				if _, err := c.u32("a function index"); err != nil {
					return err
				}
				if err := c.nameMap("local names", satAdd(c.lim.MaxLocals, c.lim.MaxParams)); err != nil {
					return err
				}
			}
		default:
			c.pos = c.end
		}
		if c.pos != c.end {
			return c.errf(ErrMalformed, c.pos, "subsection %d has %d bytes left over after its last entry", id, c.end-c.pos)
		}
	}
	c.end, c.window, c.item, c.sec = secEnd, "section", "", `"name" section`
	return nil
}

// satAdd adds without wrapping around.
func satAdd(a, b uint32) uint32 {
	if a+b < a {
		return ^uint32(0)
	}
	return a + b
}

// nameMap checks a vector of (index, name) pairs without allocating.
func (c *checker) nameMap(unit string, max uint32) error {
	n, err := c.vec(unit, max)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if _, err := c.u32("an index in the ", unit); err != nil {
			return err
		}
		if _, err := c.nameBytes("a name"); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) typeSection() error {
	n, err := c.vec("types", c.lim.MaxTypes)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "entry", i
		if c.pos < c.end && c.b[c.pos] == 0x4e { // rec group (GC proposal), decoded by wazero
			c.pos++
			m, err := c.vec("types", c.lim.MaxTypes)
			if err != nil {
				return err
			}
			if uint64(len(c.types))+uint64(m) > uint64(c.lim.MaxTypes) {
				return c.errf(ErrLimit, c.pos, "the module declares more than %d types", c.lim.MaxTypes)
			}
			for j := uint32(0); j < m; j++ {
				if err := c.funcType(); err != nil {
					return err
				}
			}
			continue
		}
		if uint64(len(c.types)) >= uint64(c.lim.MaxTypes) {
			return c.errf(ErrLimit, c.pos, "the module declares more than %d types", c.lim.MaxTypes)
		}
		if err := c.funcType(); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) funcType() error {
	off := c.pos
	form, err := c.byte("the type form")
	if err != nil {
		return err
	}
	if form != 0x60 {
		switch form {
		case 0x5f, 0x5e, 0x50, 0x4f:
			return c.errf(ErrUnsupported, off, "struct, array and sub types (GC proposal, 0x%02x) are not supported", form)
		}
		return c.errf(ErrMalformed, off, "expected 0x60 (a function type), found 0x%02x", form)
	}
	var running, cost uint64 // see keyCost
	for k, unit := range [2]string{"params", "results"} {
		n, err := c.vec(unit, c.lim.MaxParams)
		if err != nil {
			return err
		}
		for j := uint32(0); j < n; j++ {
			v, err := c.valType("a value type")
			if err != nil {
				return err
			}
			running += uint64(keyNameLen(v))
			cost += running + running/8 + 8
		}
		switch {
		case k == 0 && n == 0:
			running += 2 // "v_"
		case k == 0:
			running++ // "_"
		case n == 0:
			running++ // "v"
		}
		cost += running + running/8 + 8
	}
	c.sigBytes += cost
	if c.sigBytes > c.lim.MaxSignatureBytes {
		return c.errf(ErrLimit, off, "the function types have too many params and results: wazero would allocate about %d bytes to index their signatures, above the limit of %d", c.sigBytes, c.lim.MaxSignatureBytes)
	}
	c.types = append(c.types, uint32(off))
	return nil
}

// keyNameLen is the length of the name wazero v1.12.0 gives a value type
// (wasm.ValueTypeName) when it builds a function type's string key.
//
// wazero's FunctionType.key concatenates these names one at a time
// (ret += name), so a type with n params and results allocates about
// n*n/2 times the average name length: 6 MiB for 1,000 params and 1,000
// results, in a type of 2 KiB. Check adds up that cost (the running length
// after each append, plus the allocator's rounding) and bounds the
// total with Limits.MaxSignatureBytes.
func keyNameLen(v ValType) int {
	switch v {
	case I32, I64, F32, F64:
		return 3
	case V128:
		return 4
	case FuncRef:
		return len("funcref")
	case ExternRef:
		return len("externref")
	case ExnRef:
		return len("exnref")
	}
	heap := int64(v>>8) << 31 >> 31
	nullable := byte(v) == refNullPrefix
	switch heap {
	case heapFunc:
		return len("(ref func)")
	case heapExtern:
		return len("(ref extern)")
	case heapExn:
		return len("(ref exn)")
	}
	n := len("(ref )") + len(fmt.Sprint(heap))
	if nullable {
		n += len("null ")
	}
	return n
}

// sig decodes function type idx (already checked) once, and caches it, so
// that what Check allocates for signatures is bounded by the type section.
func (c *checker) sig(idx uint32) *FuncType {
	if ft, ok := c.sigs[idx]; ok {
		return ft
	}
	r := &checker{b: c.b, pos: int(c.types[idx]) + 1, end: len(c.b), lim: c.lim}
	ft := &FuncType{}
	for k := 0; k < 2; k++ {
		n, _ := r.rawU32()
		vs := make([]ValType, 0, n) // n <= MaxParams, checked by funcType
		for j := uint32(0); j < n; j++ {
			v, _ := r.valType("")
			vs = append(vs, v)
		}
		if k == 0 {
			ft.Params = vs
		} else {
			ft.Results = vs
		}
	}
	if c.sigs == nil {
		c.sigs = make(map[uint32]*FuncType)
	}
	c.sigs[idx] = ft
	return ft
}

func (c *checker) typeIndex(what string) (uint32, error) {
	off := c.pos
	t, err := c.u32(what)
	if err != nil {
		return 0, err
	}
	if uint64(t) >= uint64(len(c.types)) {
		return 0, c.errf(ErrMalformed, off, "%s %d is out of range: the module has %d types", what, t, len(c.types))
	}
	return t, nil
}

func (c *checker) importSection() error {
	n, err := c.vec("imports", c.lim.MaxImports)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "import", i
		var imp Import
		if imp.Module, err = c.name("the module name"); err != nil {
			return err
		}
		if imp.Name, err = c.name("the import name"); err != nil {
			return err
		}
		off := c.pos
		kind, err := c.byte("the import kind")
		if err != nil {
			return err
		}
		imp.Kind = ExternKind(kind)
		switch imp.Kind {
		case KindFunc:
			t, err := c.typeIndex("type index")
			if err != nil {
				return err
			}
			imp.Func = c.sig(t)
			c.funcTypes = append(c.funcTypes, t)
			c.importedFuncs++
		case KindTable:
			if imp.Table, err = c.tableType(true); err != nil {
				return err
			}
		case KindMemory:
			if imp.Memory, err = c.memType(true); err != nil {
				return err
			}
		case KindGlobal:
			g, err := c.globalType()
			if err != nil {
				return err
			}
			imp.Global = &g
			c.globals = append(c.globals, g)
		case KindTag:
			t, err := c.tagType()
			if err != nil {
				return err
			}
			imp.Func = c.sig(t)
		default:
			return c.errf(ErrMalformed, off, "import kind 0x%02x is not func, table, memory, global or tag", kind)
		}
		c.s.Imports = append(c.s.Imports, imp)
	}
	return nil
}

func (c *checker) functionSection() error {
	n, err := c.vec("functions", c.lim.MaxFunctions)
	if err != nil {
		return err
	}
	c.definedFuncs = n
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "function", c.importedFuncs+i
		t, err := c.typeIndex("type index")
		if err != nil {
			return err
		}
		c.funcTypes = append(c.funcTypes, t)
	}
	return nil
}

func (c *checker) tableSection() error {
	n, err := c.vec("tables", c.lim.MaxTables)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "table", c.tables
		off := c.pos
		withInit := false
		if c.pos+1 < c.end && c.b[c.pos] == 0x40 { // table with an init expression
			if c.b[c.pos+1] != 0x00 {
				return c.errf(ErrMalformed, off, "expected 0x40 0x00 before a table with an initializer, found 0x40 0x%02x", c.b[c.pos+1])
			}
			c.pos += 2
			withInit = true
		}
		if _, err := c.tableType(false); err != nil {
			return err
		}
		if withInit {
			if err := c.constExpr("the table initializer"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) tableType(imported bool) (*TableType, error) {
	off := c.pos
	if c.tables >= c.lim.MaxTables {
		return nil, c.errf(ErrLimit, off, "the module has more than %d tables", c.lim.MaxTables)
	}
	b, err := c.byte("the table element type")
	if err != nil {
		return nil, err
	}
	var elem ValType
	switch ValType(b) {
	case FuncRef, ExternRef, ExnRef:
		elem = ValType(b)
	case refNullPrefix, refPrefix:
		ht, err := c.heapType("the table element type")
		if err != nil {
			return nil, err
		}
		elem = refType(b == refNullPrefix, ht)
	default:
		return nil, c.errf(ErrMalformed, off, "0x%02x is not a reference type for a table", b)
	}
	off = c.pos
	min, max, hasMax, shared, err := c.limits("the table")
	if err != nil {
		return nil, err
	}
	if shared {
		return nil, c.errf(ErrMalformed, off, "a table cannot be shared")
	}
	if hasMax && min > max {
		return nil, c.errf(ErrMalformed, off, "table minimum %d is above its maximum %d", min, max)
	}
	if min > c.lim.MaxTableElems {
		return nil, c.errf(ErrLimit, off, "table minimum %d elements is above the limit of %d", min, c.lim.MaxTableElems)
	}
	c.tableElems += uint64(min)
	if c.tableElems > uint64(c.lim.MaxTableElems) {
		return nil, c.errf(ErrLimit, off, "the tables' minimums add up to %d elements, above the limit of %d", c.tableElems, c.lim.MaxTableElems)
	}
	c.tables++
	t := &TableType{Elem: elem, Min: min, Max: max, HasMax: hasMax, Imported: imported}
	c.s.Tables = append(c.s.Tables, *t)
	return t, nil
}

func (c *checker) memorySection() error {
	n, err := c.vec("memories", 1<<16)
	if err != nil {
		return err
	}
	if n > 1 {
		return c.errf(ErrUnsupported, c.pos, "the module declares %d memories; wazero supports one (no multi-memory)", n)
	}
	if n == 1 {
		c.sec = "" // the messages name the memory
		_, err = c.memType(false)
		c.sec = sectionNames[secMemory]
	}
	return err
}

// memType checks a memory type against the spec and the host's limit.
func (c *checker) memType(imported bool) (*MemoryLimits, error) {
	off := c.pos
	if c.memories > 0 {
		return nil, c.errf(ErrUnsupported, off, "a second memory (multi-memory proposal) is not supported")
	}
	min, max, hasMax, shared, err := c.limits("the memory")
	if err != nil {
		return nil, err
	}
	switch {
	case min > MaxPages:
		return nil, c.errf(ErrMalformed, off, "memory minimum %d pages is above %d pages (4 GiB), the most wasm32 allows", min, MaxPages)
	case hasMax && max > MaxPages:
		return nil, c.errf(ErrMalformed, off, "memory maximum %d pages is above %d pages (4 GiB), the most wasm32 allows", max, MaxPages)
	case hasMax && min > max:
		return nil, c.errf(ErrMalformed, off, "memory minimum %d pages is above its maximum %d pages", min, max)
	case shared && !hasMax:
		return nil, c.errf(ErrMalformed, off, "a shared memory must declare a maximum")
	case min > c.lim.MaxMemoryPages:
		return nil, c.errf(ErrLimit, off, "memory minimum %d pages (%s) is above the limit of %d pages (%s)",
			min, pagesSize(min), c.lim.MaxMemoryPages, pagesSize(c.lim.MaxMemoryPages))
	}
	c.memories++
	m := &MemoryLimits{Min: min, Max: max, HasMax: hasMax, Shared: shared, Imported: imported,
		MaxAboveLimit: hasMax && max > c.lim.MaxMemoryPages}
	c.s.Memory = m
	return m, nil
}

// pagesSize formats a number of 64 KiB pages as bytes: "64 MiB", "4 GiB".
func pagesSize(pages uint32) string {
	kib := uint64(pages) * 64
	switch {
	case kib >= 1<<20 && kib%(1<<20) == 0:
		return fmt.Sprintf("%d GiB", kib>>20)
	case kib >= 1<<10 && kib%(1<<10) == 0:
		return fmt.Sprintf("%d MiB", kib>>10)
	}
	return fmt.Sprintf("%d KiB", kib)
}

func (c *checker) tagType() (uint32, error) {
	off := c.pos
	attr, err := c.byte("the tag attribute")
	if err != nil {
		return 0, err
	}
	if attr != 0 {
		return 0, c.errf(ErrMalformed, off, "tag attribute 0x%02x is not 0x00 (exception)", attr)
	}
	t, err := c.typeIndex("type index")
	if err != nil {
		return 0, err
	}
	c.tagTypes = append(c.tagTypes, t)
	return t, nil
}

func (c *checker) tagSection() error {
	n, err := c.vec("tags", c.lim.MaxTags)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "tag", uint32(len(c.tagTypes))
		if _, err := c.tagType(); err != nil {
			return err
		}
	}
	c.s.Tags = int(n)
	return nil
}

func (c *checker) globalType() (GlobalType, error) {
	t, err := c.valType("the global's type")
	if err != nil {
		return GlobalType{}, err
	}
	off := c.pos
	mut, err := c.byte("the global's mutability")
	if err != nil {
		return GlobalType{}, err
	}
	if mut > 1 {
		return GlobalType{}, c.errf(ErrMalformed, off, "global mutability 0x%02x is not 0x00 or 0x01", mut)
	}
	return GlobalType{Type: t, Mutable: mut == 1}, nil
}

func (c *checker) globalSection() error {
	n, err := c.vec("globals", c.lim.MaxGlobals)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "global", uint32(len(c.globals))
		g, err := c.globalType()
		if err != nil {
			return err
		}
		if err := c.constExpr("the initializer"); err != nil {
			return err
		}
		c.globals = append(c.globals, g)
	}
	c.s.Globals = int(n)
	return nil
}

func (c *checker) exportSection() error {
	n, err := c.vec("exports", c.lim.MaxExports)
	if err != nil {
		return err
	}
	seen := make(map[string]struct{})
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "export", i
		var e Export
		if e.Name, err = c.name("the export name"); err != nil {
			return err
		}
		if _, dup := seen[e.Name]; dup {
			return c.errf(ErrMalformed, c.pos, "the name %q is exported twice", e.Name)
		}
		seen[e.Name] = struct{}{}
		off := c.pos
		kind, err := c.byte("the export kind")
		if err != nil {
			return err
		}
		e.Kind = ExternKind(kind)
		if e.Index, err = c.u32("the export index"); err != nil {
			return err
		}
		var count int
		switch e.Kind {
		case KindFunc:
			count = len(c.funcTypes)
		case KindTable:
			count = int(c.tables)
		case KindMemory:
			count = int(c.memories)
		case KindGlobal:
			count = len(c.globals)
		case KindTag:
			count = len(c.tagTypes)
		default:
			return c.errf(ErrMalformed, off, "export kind 0x%02x is not func, table, memory, global or tag", kind)
		}
		if uint64(e.Index) >= uint64(count) {
			return c.errf(ErrMalformed, off, "export %q refers to %s %d but the module has %d", e.Name, e.Kind, e.Index, count)
		}
		switch e.Kind {
		case KindFunc:
			e.Func = c.sig(c.funcTypes[e.Index])
		case KindTag:
			e.Func = c.sig(c.tagTypes[e.Index])
		case KindGlobal:
			g := c.globals[e.Index]
			e.Global = &g
		}
		c.s.Exports = append(c.s.Exports, e)
	}
	return nil
}

func (c *checker) funcIndex(what string) (uint32, error) {
	off := c.pos
	f, err := c.u32(what)
	if err != nil {
		return 0, err
	}
	if uint64(f) >= uint64(len(c.funcTypes)) {
		return 0, c.errf(ErrMalformed, off, "%s %d is out of range: the module has %d functions", what, f, len(c.funcTypes))
	}
	return f, nil
}

func (c *checker) startSection() error {
	f, err := c.funcIndex("start function")
	if err != nil {
		return err
	}
	c.s.Start = &f
	return nil
}

func (c *checker) elementSection() error {
	n, err := c.vec("element segments", c.lim.MaxElemSegments)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "element segment", i
		if err := c.elemSegment(); err != nil {
			return err
		}
	}
	c.s.ElemSegments = int(n)
	return nil
}

// elemSegment checks one element segment in any of its eight encodings
// (flags 0-7, bulk-memory and reference-types proposals):
//
//	bit 0: passive or declarative (else active)
//	bit 1: active with a table index, or declarative (when bit 0 is set)
//	bit 2: entries are constant expressions (else function indices), and
//	       the segment has a reference type (else an element kind)
func (c *checker) elemSegment() error {
	off := c.pos
	flags, err := c.u32("the segment flags")
	if err != nil {
		return err
	}
	if flags > 7 {
		return c.errf(ErrMalformed, off, "segment flags %d are not 0 to 7", flags)
	}
	active := flags&1 == 0
	if active && flags&2 != 0 {
		if _, err := c.u32("the table index"); err != nil {
			return err
		}
	}
	if active {
		if err := c.constExpr("the offset expression"); err != nil {
			return err
		}
	}
	exprs := flags&4 != 0
	if flags != 0 && flags != 4 { // elemkind or reftype
		off := c.pos
		b, err := c.byte("the element type")
		if err != nil {
			return err
		}
		switch {
		case !exprs:
			if b != 0x00 {
				return c.errf(ErrMalformed, off, "element kind 0x%02x is not 0x00 (funcref)", b)
			}
		case ValType(b) == FuncRef || ValType(b) == ExternRef:
		case b == refNullPrefix || b == refPrefix:
			if _, err := c.heapType("the element type"); err != nil {
				return err
			}
		default:
			return c.errf(ErrMalformed, off, "0x%02x is not a reference type for an element segment", b)
		}
	}
	m, err := c.vec("entries", c.lim.MaxElemEntries)
	if err != nil {
		return err
	}
	c.elemEntries += uint64(m)
	if c.elemEntries > uint64(c.lim.MaxElemEntries) {
		return c.errf(ErrLimit, off, "element segments hold %d entries in total, above the limit of %d", c.elemEntries, c.lim.MaxElemEntries)
	}
	for j := uint32(0); j < m; j++ {
		if exprs {
			err = c.constExpr("an entry")
		} else {
			_, err = c.funcIndex("function index")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) codeSection() error {
	n, err := c.vec("function bodies", c.lim.MaxFunctions)
	if err != nil {
		return err
	}
	if n != c.definedFuncs {
		return c.errf(ErrMalformed, c.pos, "the section has %d function bodies but the function section declares %d functions", n, c.definedFuncs)
	}
	c.haveCode = true
	secEnd := c.end
	for i := uint32(0); i < n; i++ {
		c.end, c.window = secEnd, "section"
		c.item, c.itemIdx = "function", c.importedFuncs+i
		off := c.pos
		size, err := c.u32("the body size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(c.left()) {
			return c.errf(ErrMalformed, off, "the body declares %d bytes but only %d are left in the section", size, c.left())
		}
		if size > c.lim.MaxFunctionBytes {
			return c.errf(ErrLimit, off, "the body is %d bytes, above the limit of %d", size, c.lim.MaxFunctionBytes)
		}
		c.end, c.window = c.pos+int(size), "function body"
		if err := c.locals(); err != nil {
			return err
		}
		if c.pos >= c.end {
			return c.errf(ErrMalformed, c.pos, "the body has no instructions: it must end with 0x0b (end)")
		}
		if c.b[c.end-1] != 0x0b {
			return c.errf(ErrMalformed, c.end-1, "the body does not end with 0x0b (end)")
		}
		c.s.CodeBytes += int(size)
		c.pos = c.end
	}
	c.end, c.window = secEnd, "section"
	return nil
}

// locals checks a body's local declarations: wazero allocates one value
// type per declared local, so their sum is what must be bounded.
func (c *checker) locals() error {
	off := c.pos
	groups, err := c.vec("local declarations", ^uint32(0))
	if err != nil {
		return err
	}
	var sum uint64
	for g := uint32(0); g < groups; g++ {
		k, err := c.u32("a local count")
		if err != nil {
			return err
		}
		if _, err := c.valType("a local's type"); err != nil {
			return err
		}
		sum += uint64(k)
		if sum > uint64(c.lim.MaxLocals) {
			return c.errf(ErrLimit, off, "the function declares at least %d locals, above the limit of %d", sum, c.lim.MaxLocals)
		}
	}
	c.s.TotalLocals += sum
	if c.s.TotalLocals > c.lim.MaxTotalLocals {
		return c.errf(ErrLimit, off, "the functions declare at least %d locals in total, above the limit of %d", c.s.TotalLocals, c.lim.MaxTotalLocals)
	}
	if uint32(sum) > c.s.MaxFunctionLocals {
		c.s.MaxFunctionLocals = uint32(sum)
	}
	return nil
}

func (c *checker) dataSection() error {
	n, err := c.vec("data segments", c.lim.MaxDataSegments)
	if err != nil {
		return err
	}
	if c.haveDataCount && n != c.dataCount {
		return c.errf(ErrMalformed, c.pos, "the section has %d data segments but the data count section says %d", n, c.dataCount)
	}
	c.s.DataSegments = int(n)
	for i := uint32(0); i < n; i++ {
		c.item, c.itemIdx = "data segment", i
		off := c.pos
		flags, err := c.u32("the segment flags")
		if err != nil {
			return err
		}
		switch flags {
		case 0: // active, memory 0
		case 1: // passive
		case 2: // active, explicit memory index
			off := c.pos
			mem, err := c.u32("the memory index")
			if err != nil {
				return err
			}
			if mem != 0 {
				return c.errf(ErrUnsupported, off, "memory index %d: multiple memories are not supported", mem)
			}
		default:
			return c.errf(ErrMalformed, off, "segment flags %d are not 0, 1 or 2", flags)
		}
		if flags != 1 {
			if err := c.constExpr("the offset expression"); err != nil {
				return err
			}
		}
		off = c.pos
		size, err := c.u32("the data size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(c.left()) {
			return c.errf(ErrMalformed, off, "the segment declares %d bytes but only %d are left in the section", size, c.left())
		}
		c.pos += int(size)
		c.s.DataBytes += int(size)
	}
	return nil
}
