package wasmcheck

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// sinkWasm is testdata/sink.wat built with wat2wasm 1.0.32 (--debug-names):
// imports of every kind but tags, two tables, globals with every kind of
// constant expression, a start function, the eight element segment
// encodings, a data count section, passive data, and a name section.
var sinkWasm = mustHex(`
0061736d0100000001150460000060037e7f7f017f60037f7f7f006000017f023704067773686f7374036c6f67000206
7773686f737403746162017001010a067773686f73740167037f00067773686f737402676d037e010304030001030408
027000046f0102080505010102b817064c087f0141070b7e00428080808080808080807f0b7d00430000c03f0b7c0044
00000000000002c00b7000d2010b6f00d06f0b7f0023000b7b00fd0c010000000200000003000000040000000b073806
066d656d6f727902000d7773686f73745f6162695f763100010a6f6e5f6d657373616765000202743001010267310302
046c6f673200000801010940080041000b0201020100020102020141010b000101030001030441000b02d0700bd2010b
057002d0700bd2020b060241000b6f01d06f0b077002d0700bd2030b0c01030a540302000b4803017f017e017d410121
03d2031a024020010e020000000b200104400105010b410041004101fc080100fc09014100110001fd0c000000000000
000000000000000000001a41000b0601017b41010b0b1c030041100b0568656c6c6f0107706173736976650041200b03
0001020074046e616d6500050473696e6b010f0400036c6f670101610201620301630209040000010002000300040702
00017601016d050d0300026974010274300202743106060100036d656d072a0a00026967010369676d02026731030267
32040267330502673406026735070267360802673709026738`)

// featWasm is testdata/feat.wat built with wat2wasm 1.0.32 --enable-all: a
// tag import, an imported shared memory, a tag section and export,
// extended-const, an atomic instruction.
var featWasm = mustHex(`
0061736d01000000010a0260017f0060017f017f02190203656e76046574616704000003656e76036d656d0203010203
0201010d03010000060c017f004101410241036c6a0b07090201740401016600000a0c010a0041002000fe1e02000b`)

var featConfig = wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2 |
	experimental.CoreFeaturesThreads | experimental.CoreFeaturesExceptionHandling |
	experimental.CoreFeaturesExtendedConst)

// wazeroCompile compiles bin with wazero, as the host will.
func wazeroCompile(bin []byte, cfg wazero.RuntimeConfig) error {
	ctx := context.Background()
	if cfg == nil {
		cfg = wazero.NewRuntimeConfig()
	}
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	defer r.Close(ctx)
	_, err := r.CompileModule(ctx, bin)
	return err
}

func TestValidModules(t *testing.T) {
	for _, tc := range []struct {
		name string
		bin  []byte
		cfg  wazero.RuntimeConfig
	}{
		{"empty", module(), nil},
		{"abi", abiModule(), nil},
		{"sink", sinkWasm, nil},
		{"feat", featWasm, featConfig},
		{"custom sections everywhere", module(
			sec(0, str("a")), abiTypes, sec(0, str("b"), []byte{1, 2, 3}), abiImports, abiFuncs,
			sec(0, str("")), abiMemory, abiExport, abiCode, sec(0, str("c")), abiData, sec(0, str("d"), []byte{0})), nil},
		{"data segment flags 2", module(
			sec(5, vec([]byte{0, 1})),
			sec(11, vec(cat([]byte{0x02, 0x00}, i32c(0), str("x")), cat([]byte{0x01}, str("yz")))),
		), nil},
		{"table with initializer", module(
			sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))),
			sec(4, vec(cat([]byte{0x40, 0x00, 0x70, 0x00, 0x02}, []byte{0xd2, 0x00, 0x0b}))),
			sec(10, vec(body(nil, 0x0b))),
		), nil},
		{"padded LEB128", module(
			sec(1, []byte{0x81, 0x80, 0x80, 0x80, 0x00}, functype(nil, nil)),
			sec(3, []byte{0x81, 0x00, 0x80, 0x00}),
			sec(10, vec(body(nil, 0x0b))),
		), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Check(tc.bin, Limits{})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if s.Size != len(tc.bin) {
				t.Errorf("Size = %d, want %d", s.Size, len(tc.bin))
			}
			if err := wazeroCompile(tc.bin, tc.cfg); err != nil {
				t.Fatalf("wazero refuses the fixture: %v", err)
			}
		})
	}
}

func TestSummaryABI(t *testing.T) {
	s, err := Check(abiModule(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Imports) != 1 || s.Imports[0].Module != "wshost" || s.Imports[0].Name != "event_read" ||
		s.Imports[0].Kind != KindFunc || !s.Imports[0].Func.Equal([]ValType{I32, I32}, []ValType{I32}) {
		t.Errorf("imports = %+v", s.Imports)
	}
	msg, ok := s.Export("on_message")
	if !ok || msg.Kind != KindFunc || msg.Index != 2 || msg.Func.String() != "(i64, i32, i32) -> (i32)" {
		t.Errorf("on_message = %+v %v", msg, msg.Func)
	}
	if m, ok := s.Export("memory"); !ok || m.Kind != KindMemory {
		t.Errorf("memory export = %+v", m)
	}
	if abi, _ := s.Export("wshost_abi_v1"); !abi.Func.Equal(nil, nil) {
		t.Errorf("wshost_abi_v1 = %v", abi.Func)
	}
	want := MemoryLimits{Min: 1, Max: 2000, HasMax: true, MaxAboveLimit: true}
	if s.Memory == nil || *s.Memory != want {
		t.Errorf("memory = %+v, want %+v", s.Memory, want)
	}
	if s.Types != 3 || s.ImportedFunctions != 1 || s.Functions != 2 || s.TotalLocals != 1 ||
		s.MaxFunctionLocals != 1 || s.DataSegments != 1 || s.DataBytes != 5 || s.ModuleName != "echo" {
		t.Errorf("summary = %+v", s)
	}
	if len(s.CustomSections) != 1 || s.CustomSections[0].Name != "name" {
		t.Errorf("custom sections = %+v", s.CustomSections)
	}
	// With a higher limit the maximum is no longer above it.
	s, err = Check(abiModule(), Limits{MaxMemoryPages: 4096})
	if err != nil || s.Memory.MaxAboveLimit {
		t.Errorf("MaxMemoryPages 4096: %v %+v", err, s.Memory)
	}
}

func TestSummarySink(t *testing.T) {
	s, err := Check(sinkWasm, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if s.ElemSegments != 8 || s.ElemEntries != 13 || s.DataSegments != 3 || s.Globals != 8 ||
		s.Start == nil || *s.Start != 1 || len(s.Tables) != 3 || s.ModuleName != "sink" {
		t.Errorf("summary = %+v", s)
	}
	wantTables := []TableType{
		{Elem: FuncRef, Min: 1, Max: 10, HasMax: true, Imported: true},
		{Elem: FuncRef, Min: 4},
		{Elem: ExternRef, Min: 2, Max: 8, HasMax: true},
	}
	for i, w := range wantTables {
		if s.Tables[i] != w {
			t.Errorf("table %d = %+v, want %+v", i, s.Tables[i], w)
		}
	}
	if g, _ := s.Export("g1"); g.Global == nil || *g.Global != (GlobalType{I32, true}) {
		t.Errorf("g1 = %+v", g)
	}
	if l, _ := s.Export("log2"); l.Func.String() != "(i32, i32, i32) -> ()" {
		t.Errorf("log2 = %v", l.Func)
	}
	if s.Imports[3].Global == nil || *s.Imports[3].Global != (GlobalType{I64, true}) {
		t.Errorf("import 3 = %+v", s.Imports[3])
	}
	if s.Memory.Min != 2 || s.Memory.Max != 3000 || !s.Memory.MaxAboveLimit {
		t.Errorf("memory = %+v", s.Memory)
	}
}

func TestSummaryFeat(t *testing.T) {
	s, err := Check(featWasm, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (MemoryLimits{Min: 1, Max: 2, HasMax: true, Shared: true, Imported: true}); *s.Memory != want {
		t.Errorf("memory = %+v", s.Memory)
	}
	if tag, ok := s.Export("t"); !ok || tag.Kind != KindTag || tag.Func.String() != "(i32) -> ()" {
		t.Errorf("tag export = %+v", tag)
	}
	if s.Tags != 1 || s.Imports[0].Kind != KindTag {
		t.Errorf("summary = %+v", s)
	}
}

func TestValTypeString(t *testing.T) {
	for v, want := range map[ValType]string{
		I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128",
		FuncRef: "funcref", ExternRef: "externref", ExnRef: "exnref",
		refType(true, 3): "(ref null 3)", refType(false, 0): "(ref 0)",
		refType(false, heapFunc): "(ref func)", refType(true, heapExtern): "externref",
		ValType(0x42): "valtype(0x42)",
	} {
		if got := v.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", uint64(v), got, want)
		}
	}
}

// errCase is a module Check must refuse with err, its message containing msg.
type errCase struct {
	name string
	bin  []byte
	lim  Limits
	err  error
	msg  string
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Check(tc.bin, tc.lim)
			if err == nil {
				t.Fatalf("Check accepted it: %+v", s)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("error %q is not %v", err, tc.err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(tc.bin) {
				t.Errorf("error %#v is not an *Error with an offset in the file", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "wasmcheck: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

const huge = 0xffffffff

var (
	t0     = sec(1, vec(functype(nil, nil)))
	f1     = sec(3, vec(uleb(0)))
	c1     = sec(10, vec(body(nil, 0x0b)))
	mem1   = sec(5, vec([]byte{0, 1}))
	table1 = sec(4, vec([]byte{0x70, 0x00, 0x01}))
)

// TestDeclaredCounts covers every vector count: one that cannot fit in its
// section (malformed), and one that fits but is above its limit.
func TestDeclaredCounts(t *testing.T) {
	small := Limits{MaxTypes: 2, MaxParams: 2, MaxImports: 2, MaxFunctions: 2, MaxTables: 2,
		MaxGlobals: 2, MaxExports: 2, MaxTags: 2, MaxElemSegments: 2, MaxElemEntries: 2,
		MaxDataSegments: 2, MaxLocals: 2, MaxTotalLocals: 3, MaxCustomSections: 2}
	imp := func(i int) []byte { return cat(str("m"), str(string(rune('a'+i))), []byte{0x00, 0x00}) }
	glob := cat([]byte{0x7f, 0x00}, i32c(0))
	exp := func(i int) []byte { return cat(str(string(rune('a'+i))), []byte{0x00, 0x00}) }
	elem0 := cat([]byte{0x00}, i32c(0), vec())
	data0 := cat([]byte{0x01}, str(""))
	runErrCases(t, []errCase{
		{"types", module(sec(1, rawVec(huge))), Limits{}, ErrMalformed, "type section declares 4294967295 types in 0 bytes"},
		{"types limit", module(sec(1, vec(repeat(functype(nil, nil), 3)...))), small, ErrLimit, "type section declares 3 types, above the limit of 2"},
		{"rec group", module(sec(1, vec([]byte{0x4e, 0xff, 0xff, 0xff, 0xff, 0x0f}))), Limits{}, ErrMalformed, "declares 4294967295 types in 0 bytes"},
		{"rec group limit", module(sec(1, vec(functype(nil, nil), cat([]byte{0x4e}, vec(functype(nil, nil), functype(nil, nil)))))), small, ErrLimit, "more than 2 types"},
		{"params", module(sec(1, vec(cat([]byte{0x60}, rawVec(huge))))), Limits{}, ErrMalformed, "type section, entry 0 declares 4294967295 params"},
		{"params limit", module(sec(1, vec(functype([]byte{0x7f, 0x7f, 0x7f}, nil)))), small, ErrLimit, "declares 3 params, above the limit of 2"},
		{"results", module(sec(1, vec(cat([]byte{0x60, 0x00}, rawVec(1<<20, []byte{0x7f}))))), Limits{}, ErrMalformed, "declares 1048576 results in 1 bytes"},
		{"results limit", module(sec(1, vec(functype(nil, []byte{0x7f, 0x7f, 0x7f})))), small, ErrLimit, "declares 3 results, above the limit of 2"},
		{"imports", module(sec(2, rawVec(huge))), Limits{}, ErrMalformed, "import section declares 4294967295 imports in 0 bytes"},
		{"imports limit", module(t0, sec(2, vec(imp(0), imp(1), imp(2)))), small, ErrLimit, "import section declares 3 imports, above the limit of 2"},
		{"functions", module(t0, sec(3, rawVec(huge))), Limits{}, ErrMalformed, "function section declares 4294967295 functions"},
		{"functions limit", module(t0, sec(3, vec(uleb(0), uleb(0), uleb(0)))), small, ErrLimit, "declares 3 functions, above the limit of 2"},
		{"tables", module(sec(4, rawVec(huge))), Limits{}, ErrMalformed, "table section declares 4294967295 tables"},
		{"tables limit", module(sec(4, vec(repeat([]byte{0x70, 0x00, 0x00}, 3)...))), small, ErrLimit, "declares 3 tables, above the limit of 2"},
		{"tables limit with imports", module(sec(2, vec(cat(str("m"), str("t"), []byte{0x01, 0x70, 0x00, 0x00}))), sec(4, vec(repeat([]byte{0x70, 0x00, 0x00}, 2)...))), small, ErrLimit, "more than 2 tables"},
		{"memories", module(sec(5, rawVec(huge))), Limits{}, ErrMalformed, "memory section declares 4294967295 memories"},
		{"tags", module(t0, sec(13, rawVec(huge))), Limits{}, ErrMalformed, "tag section declares 4294967295 tags"},
		{"tags limit", module(t0, sec(13, vec(repeat([]byte{0x00, 0x00}, 3)...))), small, ErrLimit, "declares 3 tags, above the limit of 2"},
		{"globals", module(sec(6, rawVec(huge))), Limits{}, ErrMalformed, "global section declares 4294967295 globals"},
		{"globals limit", module(sec(6, vec(glob, glob, glob))), small, ErrLimit, "declares 3 globals, above the limit of 2"},
		{"exports", module(sec(7, rawVec(huge))), Limits{}, ErrMalformed, "export section declares 4294967295 exports"},
		{"exports limit", module(t0, sec(3, vec(uleb(0))), sec(7, vec(exp(0), exp(1), exp(2))), c1), small, ErrLimit, "declares 3 exports, above the limit of 2"},
		{"element segments", module(sec(9, rawVec(huge))), Limits{}, ErrMalformed, "element section declares 4294967295 element segments"},
		{"element segments limit", module(table1, sec(9, vec(elem0, elem0, elem0))), small, ErrLimit, "declares 3 element segments, above the limit of 2"},
		{"element entries", module(table1, sec(9, vec(cat([]byte{0x00}, i32c(0), rawVec(huge))))), Limits{}, ErrMalformed, "element segment 0 declares 4294967295 entries in 0 bytes"},
		{"element expr entries", module(table1, sec(9, vec(cat([]byte{0x05, 0x70}, rawVec(huge))))), Limits{}, ErrMalformed, "declares 4294967295 entries"},
		{"element entries limit", module(t0, f1, table1, sec(9, vec(cat([]byte{0x00}, i32c(0), vec(uleb(0), uleb(0), uleb(0))))), c1), small, ErrLimit, "declares 3 entries, above the limit of 2"},
		{"element entries total", module(t0, f1, table1, sec(9, vec(cat([]byte{0x00}, i32c(0), vec(uleb(0), uleb(0))), cat([]byte{0x01, 0x00}, vec(uleb(0))))), c1), small, ErrLimit, "3 entries in total, above the limit of 2"},
		{"data segments", module(sec(11, rawVec(huge))), Limits{}, ErrMalformed, "data section declares 4294967295 data segments"},
		{"data segments limit", module(sec(11, vec(data0, data0, data0))), small, ErrLimit, "declares 3 data segments, above the limit of 2"},
		{"data count limit", module(sec(12, uleb(3))), small, ErrLimit, "declares 3 data segments, above the limit of 2"},
		{"data bytes", module(mem1, sec(11, vec(cat([]byte{0x00}, i32c(0), uleb(huge))))), Limits{}, ErrMalformed, "the segment declares 4294967295 bytes but only 0 are left"},
		{"code bodies", module(t0, f1, sec(10, rawVec(huge))), Limits{}, ErrMalformed, "code section declares 4294967295 function bodies"},
		{"code bodies limit", module(t0, sec(10, vec(repeat(body(nil, 0x0b), 3)...))), small, ErrLimit, "declares 3 function bodies, above the limit of 2"},
		{"body size", module(t0, f1, sec(10, vec(uleb(huge)))), Limits{}, ErrMalformed, "function 0: the body declares 4294967295 bytes but only 0 are left"},
		{"body size limit", module(t0, f1, sec(10, vec(body(nil, 0x01, 0x01, 0x01, 0x0b)))), Limits{MaxFunctionBytes: 4}, ErrLimit, "the body is 5 bytes, above the limit of 4"},
		{"local declarations", module(t0, f1, sec(10, vec(cat(uleb(6), rawVec(huge), []byte{0x0b})))), Limits{}, ErrMalformed, "function 0 declares 4294967295 local declarations in 1 bytes"},
		{"locals", module(t0, f1, sec(10, vec(body([][]byte{local(huge, 0x7f)}, 0x0b)))), Limits{}, ErrLimit, "declares at least 4294967295 locals, above the limit of 50000"},
		{"locals summed", module(t0, f1, sec(10, vec(body([][]byte{local(30000, 0x7f), local(30000, 0x7e)}, 0x0b)))), Limits{}, ErrLimit, "declares at least 60000 locals, above the limit of 50000"},
		{"locals small limit", module(t0, f1, sec(10, vec(body([][]byte{local(2, 0x7f), local(1, 0x7e)}, 0x0b)))), small, ErrLimit, "function 0: the function declares at least 3 locals, above the limit of 2"},
		{"total locals", module(t0, sec(3, vec(uleb(0), uleb(0))), sec(10, vec(repeat(body([][]byte{local(2, 0x7f)}, 0x0b), 2)...))), small, ErrLimit, "at least 4 locals in total, above the limit of 3"},
		{"total locals default", module(t0, sec(3, vec(repeat(uleb(0), 21)...)), sec(10, vec(repeat(body([][]byte{local(50000, 0x7f)}, 0x0b), 21)...))), Limits{}, ErrLimit, "locals in total, above the limit of 1048576"},
		{"signature bytes", module(sec(1, vec(repeat(functype(bytes.Repeat([]byte{0x7f}, 1000), bytes.Repeat([]byte{0x7f}, 1000)), 3)...))), Limits{}, ErrLimit, "type section, entry 2: the function types have too many params and results: wazero would allocate about 20339304 bytes to index their signatures, above the limit of 16777216"},
		{"signature bytes, own limit", module(sec(1, vec(functype([]byte{0x7f, 0x7f}, nil)))), Limits{MaxSignatureBytes: 10}, ErrLimit, "entry 0: the function types have too many params"},
		{"custom sections limit", module(sec(0, str("a")), sec(0, str("b")), sec(0, str("c"))), small, ErrLimit, "more than 2 custom sections"},
		{"name: function names", module(sec(0, str("name"), sec(1, rawVec(huge)))), Limits{}, ErrMalformed, `"name" section, function names declares 4294967295 function names in 0 bytes`},
		{"name: function names limit", module(sec(0, str("name"), sec(1, vec(cat(uleb(0), str("a")), cat(uleb(1), str("b")), cat(uleb(2), str("c")), cat(uleb(3), str("d)")), cat(uleb(4), str("e")))))), small, ErrLimit, "declares 5 function names, above the limit of 4"},
		{"name: local names functions", module(sec(0, str("name"), sec(2, rawVec(huge)))), Limits{}, ErrMalformed, "local names declares 4294967295 functions"},
		{"name: local names", module(sec(0, str("name"), sec(2, vec(cat(uleb(0), rawVec(huge)))))), Limits{}, ErrMalformed, "local names, entry 0 declares 4294967295 local names in 0 bytes"},
		{"name: local names limit", module(sec(0, str("name"), sec(2, vec(cat(uleb(0), vec(repeat(cat(uleb(0), str("")), 5)...)))))), small, ErrLimit, "declares 5 local names, above the limit of 4"},
	})
}

// TestSizes covers every declared byte size: section, subsection, name,
// body, data.
func TestSizes(t *testing.T) {
	runErrCases(t, []errCase{
		{"section", module([]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}), Limits{}, ErrMalformed, "type section: the section declares 4294967295 bytes but only 0 are left in the file"},
		{"custom section", module([]byte{0x00, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00}), Limits{}, ErrMalformed, "declares 268435456 bytes but only 1 are left"},
		{"custom section name", module(sec(0, uleb(huge))), Limits{}, ErrMalformed, "the custom section name declares 4294967295 bytes but only 0 are left in the section"},
		{"custom name past section", module(sec(0, uleb(3), []byte("ab")), []byte("c")), Limits{}, ErrMalformed, "declares 3 bytes but only 2 are left"},
		{"import module name", module(sec(2, vec(uleb(huge)))), Limits{}, ErrMalformed, "import section, import 0: the module name declares 4294967295 bytes"},
		{"import name", module(sec(2, vec(cat(str("m"), uleb(1<<30))))), Limits{}, ErrMalformed, "the import name declares 1073741824 bytes"},
		{"export name", module(sec(7, vec(uleb(huge)))), Limits{}, ErrMalformed, "export section, export 0: the export name declares 4294967295 bytes"},
		{"name subsection", module(sec(0, str("name"), []byte{0x01}, uleb(huge))), Limits{}, ErrMalformed, "subsection 1 declares 4294967295 bytes but only 0 are left"},
		{"unknown name subsection", module(sec(0, str("name"), []byte{0x07}, uleb(100), []byte{1})), Limits{}, ErrMalformed, "subsection 7 declares 100 bytes"},
		{"module name", module(sec(0, str("name"), sec(0, uleb(huge)))), Limits{}, ErrMalformed, "the module name declares 4294967295 bytes"},
		{"function name", module(sec(0, str("name"), sec(1, vec(cat(uleb(0), uleb(huge)))))), Limits{}, ErrMalformed, "a name declares 4294967295 bytes"},
		{"name subsection too long", module(sec(0, str("name"), sec(0, str("ab"), []byte{0}))), Limits{}, ErrMalformed, "subsection 0 has 1 bytes left over"},
		{"name subsection too short", module(sec(0, str("name"), []byte{0x00, 0x01}, str("abc"))), Limits{}, ErrMalformed, "the module name declares 3 bytes but only 0 are left in the subsection"},
		{"section too long", module(sec(1, vec(functype(nil, nil)), []byte{0x00})), Limits{}, ErrMalformed, "type section: 1 bytes are left over after the last entry"},
		{"entry past section", module(sec(1, rawVec(2, functype(nil, nil), []byte{0x60})), []byte{0x00, 0x00}), Limits{}, ErrMalformed, "runs past the end of the section"},
		{"body past section", module(t0, f1, sec(10, []byte{0x01, 0x05, 0x00, 0x0b}), []byte{0x0b, 0x0b, 0x0b}), Limits{}, ErrMalformed, "the body declares 5 bytes but only 2 are left in the section"},
		{"locals past body", module(t0, f1, sec(10, vec([]byte{0x02, 0x01, 0x05}), []byte{0x7f, 0x0b})), Limits{}, ErrMalformed, "a local's type runs past the end of the function body"},
		{"file too large", make([]byte, 100), Limits{MaxFileBytes: 99}, ErrTooLarge, "file is 100 bytes, above the limit of 99 bytes"},
		{"default file limit", make([]byte, 64<<20+1), Limits{}, ErrTooLarge, "above the limit of 67108864 bytes"},
	})
}

func TestMemoryAndTables(t *testing.T) {
	memImport := func(lim ...byte) []byte { return sec(2, vec(cat(str("env"), str("mem"), []byte{0x02}, lim))) }
	runErrCases(t, []errCase{
		{"memory minimum", module(sec(5, vec(cat([]byte{0x00}, uleb(2000))))), Limits{}, ErrLimit, "wasmcheck: memory minimum 2000 pages (125 MiB) is above the limit of 1024 pages (64 MiB): exceeds a host limit"},
		{"memory minimum, own limit", module(sec(5, vec([]byte{0x01, 0x03, 0x04}))), Limits{MaxMemoryPages: 2}, ErrLimit, "memory minimum 3 pages (192 KiB) is above the limit of 2 pages (128 KiB)"},
		{"memory minimum 4 GiB", module(sec(5, vec(cat([]byte{0x00}, uleb(65536))))), Limits{}, ErrLimit, "memory minimum 65536 pages (4 GiB) is above the limit of 1024 pages (64 MiB)"},
		{"memory minimum above wasm32", module(sec(5, vec(cat([]byte{0x00}, uleb(65537))))), Limits{}, ErrMalformed, "memory minimum 65537 pages is above 65536 pages"},
		{"memory maximum above wasm32", module(sec(5, vec(cat([]byte{0x01, 0x00}, uleb(65537))))), Limits{}, ErrMalformed, "memory maximum 65537 pages is above 65536 pages"},
		{"memory min above max", module(sec(5, vec([]byte{0x01, 0x03, 0x02}))), Limits{}, ErrMalformed, "memory minimum 3 pages is above its maximum 2 pages"},
		{"shared without maximum", module(sec(5, vec([]byte{0x02, 0x01}))), Limits{}, ErrMalformed, "a shared memory must declare a maximum"},
		{"memory64", module(sec(5, vec([]byte{0x04, 0x01}))), Limits{}, ErrUnsupported, "64-bit limits"},
		{"custom page size", module(sec(5, vec([]byte{0x08, 0x01, 0x00}))), Limits{}, ErrUnsupported, "custom page size"},
		{"bad memory flags", module(sec(5, vec([]byte{0x10, 0x01}))), Limits{}, ErrMalformed, "invalid limits flags 0x10"},
		{"two memories", module(sec(5, vec([]byte{0x00, 0x01}, []byte{0x00, 0x01}))), Limits{}, ErrUnsupported, "declares 2 memories"},
		{"imported and defined memory", module(memImport(0x00, 0x01), mem1), Limits{}, ErrUnsupported, "a second memory"},
		{"imported memory minimum", module(memImport(0x00, 0xd0, 0x0f)), Limits{}, ErrLimit, "import section, import 0: memory minimum 2000 pages (125 MiB) is above the limit of 1024 pages (64 MiB)"},
		{"table minimum", module(sec(4, vec(cat([]byte{0x70, 0x00}, uleb(1<<20+1))))), Limits{}, ErrLimit, "table 0: table minimum 1048577 elements is above the limit of 1048576"},
		{"table minimum huge", module(sec(4, vec(cat([]byte{0x70, 0x00}, uleb(huge))))), Limits{}, ErrLimit, "table minimum 4294967295 elements"},
		{"tables minimum total", module(sec(4, vec(cat([]byte{0x70, 0x00}, uleb(600)), cat([]byte{0x6f, 0x00}, uleb(600))))), Limits{MaxTableElems: 1000}, ErrLimit, "the tables' minimums add up to 1200 elements, above the limit of 1000"},
		{"imported table minimum", module(sec(2, vec(cat(str("m"), str("t"), []byte{0x01, 0x70, 0x00}, uleb(1<<21))))), Limits{}, ErrLimit, "import section, import 0: table minimum 2097152 elements"},
		{"table min above max", module(sec(4, vec([]byte{0x70, 0x01, 0x03, 0x02}))), Limits{}, ErrMalformed, "table minimum 3 is above its maximum 2"},
		{"shared table", module(sec(4, vec([]byte{0x70, 0x03, 0x01, 0x02}))), Limits{}, ErrMalformed, "a table cannot be shared"},
		{"table element type", module(sec(4, vec([]byte{0x7f, 0x00, 0x01}))), Limits{}, ErrMalformed, "0x7f is not a reference type for a table"},
		{"table init prefix", module(sec(4, vec([]byte{0x40, 0x01, 0x70, 0x00, 0x01}))), Limits{}, ErrMalformed, "expected 0x40 0x00"},
	})
	// A maximum above the limit is reported, not refused; so is the
	// absence of a maximum.
	for _, tc := range []struct {
		bin  []byte
		want MemoryLimits
	}{
		{module(sec(5, vec(cat([]byte{0x01, 0x01}, uleb(65536))))), MemoryLimits{Min: 1, Max: 65536, HasMax: true, MaxAboveLimit: true}},
		{module(sec(5, vec(cat([]byte{0x01, 0x01}, uleb(1024))))), MemoryLimits{Min: 1, Max: 1024, HasMax: true}},
		{module(sec(5, vec(cat([]byte{0x00}, uleb(1024))))), MemoryLimits{Min: 1024}},
		{module(memImport(0x03, 0x01, 0xff, 0xff, 0x03)), MemoryLimits{Min: 1, Max: 65535, HasMax: true, Shared: true, Imported: true, MaxAboveLimit: true}},
	} {
		s, err := Check(tc.bin, Limits{})
		if err != nil {
			t.Errorf("%x: %v", tc.bin, err)
			continue
		}
		if *s.Memory != tc.want {
			t.Errorf("memory = %+v, want %+v", *s.Memory, tc.want)
		}
	}
}

func TestStructure(t *testing.T) {
	runErrCases(t, []errCase{
		{"empty file", nil, Limits{}, ErrMalformed, "file is 0 bytes, too short"},
		{"short header", []byte{0x00, 'a', 's', 'm', 0x01}, Limits{}, ErrMalformed, "too short for the 8-byte WebAssembly header"},
		{"magic", []byte("\x7fELF\x01\x00\x00\x00"), Limits{}, ErrMalformed, "not a WebAssembly binary: it starts with 7f 45 4c 46"},
		{"version", []byte{0x00, 'a', 's', 'm', 0x02, 0x00, 0x00, 0x00}, Limits{}, ErrUnsupported, "binary format version 02 00 00 00"},
		{"component", []byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}, Limits{}, ErrUnsupported, "a WebAssembly component"},
		{"unknown section", module([]byte{0x0e, 0x00}), Limits{}, ErrMalformed, "unknown section id 14"},
		{"duplicate section", module(t0, t0), Limits{}, ErrMalformed, "type section: the module has a second type section"},
		{"out of order", module(mem1, t0), Limits{}, ErrMalformed, "type section: the section is out of order"},
		{"data count after code", module(t0, f1, c1, sec(12, uleb(0))), Limits{}, ErrMalformed, "data count section: the section is out of order"},
		{"tag after global", module(t0, sec(6, vec()), sec(13, vec())), Limits{}, ErrMalformed, "tag section: the section is out of order"},
		{"functions without code", module(t0, f1), Limits{}, ErrMalformed, "the function section declares 1 functions but there is no code section"},
		{"code without functions", module(t0, c1), Limits{}, ErrMalformed, "the section has 1 function bodies but the function section declares 0 functions"},
		{"data count mismatch", module(sec(12, uleb(2)), sec(11, vec(cat([]byte{0x01}, str(""))))), Limits{}, ErrMalformed, "the section has 1 data segments but the data count section says 2"},
		{"data count without data", module(sec(12, uleb(1))), Limits{}, ErrMalformed, "the data count section says 1 data segments but the module has 0"},
		{"data count size", module(sec(12, uleb(1), []byte{0})), Limits{}, ErrMalformed, "1 bytes are left over"},
		{"empty data count", module(sec(12)), Limits{}, ErrMalformed, "runs past the end of the section"},
		{"second name section", module(sec(0, str("name")), sec(0, str("name"))), Limits{}, ErrMalformed, "a second name section"},
		{"type form", module(sec(1, vec([]byte{0x61, 0x00, 0x00}))), Limits{}, ErrMalformed, "expected 0x60 (a function type), found 0x61"},
		{"struct type", module(sec(1, vec([]byte{0x5f, 0x00}))), Limits{}, ErrUnsupported, "struct, array and sub types"},
		{"value type", module(sec(1, vec([]byte{0x60, 0x01, 0x40, 0x00}))), Limits{}, ErrMalformed, "0x40 is not a value type"},
		{"GC heap type", module(sec(1, vec([]byte{0x60, 0x01, 0x63, 0x6e, 0x00}))), Limits{}, ErrUnsupported, "abstract heap type -18"},
		{"type index", module(t0, sec(3, vec(uleb(1)))), Limits{}, ErrMalformed, "function 0: type index 1 is out of range: the module has 1 types"},
		{"import type index", module(sec(2, vec(cat(str("m"), str("f"), []byte{0x00, 0x00})))), Limits{}, ErrMalformed, "type index 0 is out of range: the module has 0 types"},
		{"import kind", module(sec(2, vec(cat(str("m"), str("f"), []byte{0x05})))), Limits{}, ErrMalformed, "import kind 0x05"},
		{"import name UTF-8", module(sec(2, vec(cat(str("m"), []byte{0x02, 0xc3, 0x28}, []byte{0x00, 0x00})))), Limits{}, ErrMalformed, "the import name is not valid UTF-8"},
		{"custom name UTF-8", module(sec(0, []byte{0x01, 0xff})), Limits{}, ErrMalformed, "not valid UTF-8"},
		{"local name UTF-8", module(sec(0, str("name"), sec(2, vec(cat(uleb(0), vec(cat(uleb(0), []byte{0x01, 0x80}))))))), Limits{}, ErrMalformed, "not valid UTF-8"},
		{"global mutability", module(sec(6, vec(cat([]byte{0x7f, 0x02}, i32c(0))))), Limits{}, ErrMalformed, "global mutability 0x02"},
		{"export kind", module(sec(7, vec(cat(str("x"), []byte{0x05, 0x00})))), Limits{}, ErrMalformed, "export kind 0x05"},
		{"export index", module(t0, f1, sec(7, vec(cat(str("x"), []byte{0x00, 0x01}))), c1), Limits{}, ErrMalformed, `export "x" refers to func 1 but the module has 1`},
		{"export memory index", module(sec(7, vec(cat(str("memory"), []byte{0x02, 0x00})))), Limits{}, ErrMalformed, `export "memory" refers to memory 0 but the module has 0`},
		{"duplicate export", module(t0, f1, sec(7, vec(cat(str("x"), []byte{0x00, 0x00}), cat(str("x"), []byte{0x00, 0x00}))), c1), Limits{}, ErrMalformed, `the name "x" is exported twice`},
		{"start index", module(t0, f1, sec(8, uleb(1)), c1), Limits{}, ErrMalformed, "start function 1 is out of range"},
		{"elem flags", module(sec(9, vec(uleb(8)))), Limits{}, ErrMalformed, "segment flags 8 are not 0 to 7"},
		{"elem kind", module(sec(9, vec([]byte{0x01, 0x01, 0x00}))), Limits{}, ErrMalformed, "element kind 0x01"},
		{"elem ref type", module(sec(9, vec([]byte{0x05, 0x7f, 0x00}))), Limits{}, ErrMalformed, "0x7f is not a reference type for an element segment"},
		{"elem function index", module(t0, f1, table1, sec(9, vec(cat([]byte{0x00}, i32c(0), vec(uleb(1))))), c1), Limits{}, ErrMalformed, "function index 1 is out of range"},
		{"data flags", module(sec(11, vec([]byte{0x03}))), Limits{}, ErrMalformed, "segment flags 3 are not 0, 1 or 2"},
		{"data memory index", module(mem1, sec(11, vec(cat([]byte{0x02, 0x01}, i32c(0), str(""))))), Limits{}, ErrUnsupported, "memory index 1"},
		{"body without end", module(t0, f1, sec(10, vec(body(nil, 0x01)))), Limits{}, ErrMalformed, "the body does not end with 0x0b"},
		{"body without instructions", module(t0, f1, sec(10, vec(body(nil)))), Limits{}, ErrMalformed, "the body has no instructions"},
		{"local type", module(t0, f1, sec(10, vec(body([][]byte{local(1, 0x40)}, 0x0b)))), Limits{}, ErrMalformed, "a local's type: 0x40 is not a value type"},
	})
}

func TestConstExpr(t *testing.T) {
	global := func(t byte, expr ...byte) []byte { return module(sec(6, vec(cat([]byte{t, 0x00}, expr)))) }
	// Accepted: every instruction wazero decodes in a constant expression.
	for _, bin := range [][]byte{
		global(0x7f, 0x41, 0x7f, 0x0b),
		global(0x7e, cat([]byte{0x42}, sleb(-1<<63), []byte{0x0b})...),
		global(0x7d, 0x43, 0, 0, 0, 0, 0x0b),
		global(0x7c, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b),
		global(0x70, 0xd0, 0x70, 0x0b),
		global(0x6f, 0xd0, 0x6f, 0x0b),
		global(0x7b, cat([]byte{0xfd, 0x0c}, make([]byte, 16), []byte{0x0b})...),
		global(0x7f, 0x41, 0x01, 0x41, 0x02, 0x6a, 0x41, 0x03, 0x6c, 0x0b),
	} {
		if _, err := Check(bin, Limits{}); err != nil {
			t.Errorf("%x: %v", bin, err)
		}
	}
	runErrCases(t, []errCase{
		{"no end", global(0x7f, 0x41, 0x00), Limits{}, ErrMalformed, "the initializer runs past the end of the section"},
		{"bad opcode", global(0x7f, 0x20, 0x00, 0x0b), Limits{}, ErrMalformed, "opcode 0x20 is not allowed in a constant expression"},
		{"bad vector opcode", global(0x7b, 0xfd, 0x0d, 0x0b), Limits{}, ErrMalformed, "vector instruction 0xfd 0x0d"},
		{"short f64", global(0x7c, 0x44, 0, 0, 0x0b), Limits{}, ErrMalformed, "runs past the end"},
		{"short v128", global(0x7b, 0xfd, 0x0c, 0, 0x0b), Limits{}, ErrMalformed, "runs past the end"},
		{"elem offset", module(table1, sec(9, vec([]byte{0x00, 0x00, 0x0b, 0x00}))), Limits{}, ErrMalformed, "the offset expression: opcode 0x00"},
		{"data offset", module(mem1, sec(11, vec([]byte{0x00, 0x01, 0x0b, 0x00}))), Limits{}, ErrMalformed, "opcode 0x01"},
		{"table init", module(sec(4, vec([]byte{0x40, 0x00, 0x70, 0x00, 0x01, 0x00}))), Limits{}, ErrMalformed, "the table initializer: opcode 0x00"},
	})
}

func TestLEB128(t *testing.T) {
	global := func(t byte, expr ...byte) []byte {
		return module(sec(6, vec(cat([]byte{t, 0x00}, expr, []byte{0x0b}))))
	}
	runErrCases(t, []errCase{
		{"u32 six bytes", module(sec(1, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00})), Limits{}, ErrMalformed, "bad LEB128 for the number of types: longer than 5 bytes"},
		{"u32 overflow", module(sec(1, []byte{0xff, 0xff, 0xff, 0xff, 0x1f})), Limits{}, ErrMalformed, "bad LEB128 for the number of types: overflows 32 bits"},
		{"u32 truncated", module(sec(1, []byte{0x80, 0x80})), Limits{}, ErrMalformed, "the number of types runs past the end of the section"},
		{"section size overflow", module([]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x7f}), Limits{}, ErrMalformed, "bad LEB128 for the section size: overflows 32 bits"},
		{"section size truncated", module([]byte{0x01, 0x80}), Limits{}, ErrMalformed, "the section size runs past the end of the file"},
		{"name length", module(sec(0, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80})), Limits{}, ErrMalformed, "the custom section name length: longer than 5 bytes"},
		{"s32 too long", global(0x7f, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), Limits{}, ErrMalformed, "longer than 5 bytes"},
		{"s32 overflow", global(0x7f, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f), Limits{}, ErrMalformed, "overflows 32 bits"},
		{"s32 negative overflow", global(0x7f, 0x41, 0x80, 0x80, 0x80, 0x80, 0x70), Limits{}, ErrMalformed, "overflows 32 bits"},
		{"s64 overflow", global(0x7e, 0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), Limits{}, ErrMalformed, "overflows 64 bits"},
		{"s64 too long", global(0x7e, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), Limits{}, ErrMalformed, "longer than 10 bytes"},
		{"s33 overflow", module(sec(1, vec([]byte{0x60, 0x01, 0x63, 0xff, 0xff, 0xff, 0xff, 0x2f, 0x00}))), Limits{}, ErrMalformed, "overflows 33 bits"},
	})
	// Extremes that are valid.
	for _, bin := range [][]byte{
		global(0x7f, 0x41, 0xff, 0xff, 0xff, 0xff, 0x07),          // i32 max
		global(0x7f, 0x41, 0x80, 0x80, 0x80, 0x80, 0x78),          // i32 min
		global(0x7f, 0x41, 0xff, 0xff, 0xff, 0xff, 0x7f),          // -1, padded
		global(0x7e, cat([]byte{0x42}, sleb(1<<63-1))...),         // i64 max
		global(0x7e, cat([]byte{0x42}, sleb(-1<<63))...),          // i64 min
		module(sec(1, []byte{0x80, 0x80, 0x80, 0x80, 0x00})),      // zero types, padded
		module(sec(5, vec([]byte{0x01, 0x00, 0x80, 0x80, 0x04}))), // max 65536
	} {
		if _, err := Check(bin, Limits{}); err != nil {
			t.Errorf("%x: %v", bin, err)
		}
		if err := wazeroCompile(bin, nil); err != nil {
			t.Errorf("%x: wazero: %v", bin, err)
		}
	}
}

// TestTruncated checks every prefix of the valid fixtures: each is refused
// as malformed unless it ends where a section ends and is whole.
func TestTruncated(t *testing.T) {
	for name, bin := range map[string][]byte{"abi": abiModule(), "sink": sinkWasm, "feat": featWasm} {
		for n := 0; n < len(bin); n++ {
			_, err := Check(bin[:n:n], Limits{})
			if err == nil {
				if err := wazeroCompile(bin[:n], featConfig); err != nil {
					t.Errorf("%s[:%d]: Check accepts what wazero refuses: %v", name, n, err)
				}
				continue
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s[:%d]: %v is not ErrMalformed", name, n, err)
			}
		}
	}
}

// TestGoBuiltModule checks that a real module built by the Go toolchain
// passes Check and that wazero accepts the same bytes.
func TestGoBuiltModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/echoplugin\n\ngo 1.24\n",
		"main.go": `package main

import "strings"

var seen []string

//go:wasmexport on_message
func onMessage(conn int64, n int32, flags int32) int32 {
	seen = append(seen, strings.Repeat("x", int(n)))
	return 0
}

//go:wasmexport wshost_abi_v1
func abi() {}

func main() {}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "plugin.wasm")
	cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build a wasip1 module: %v\n%s", err, msg)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Check(bin, Limits{})
	if err != nil {
		t.Fatalf("Check refuses a Go-built module: %v", err)
	}
	if err := wazeroCompile(bin, nil); err != nil {
		t.Fatalf("wazero refuses the Go-built module: %v", err)
	}
	msg, ok := s.Export("on_message")
	if !ok || !msg.Func.Equal([]ValType{I64, I32, I32}, []ValType{I32}) {
		t.Errorf("on_message = %+v", msg)
	}
	if _, ok := s.Export("memory"); !ok || s.Memory == nil {
		t.Errorf("no memory: %+v", s.Memory)
	}
	for _, imp := range s.Imports {
		if imp.Module != "wasi_snapshot_preview1" {
			t.Errorf("unexpected import %s.%s", imp.Module, imp.Name)
		}
	}
	t.Logf("%d bytes: %d functions (%d imported), %d types, %d locals, %d code bytes, memory %+v",
		len(bin), s.Functions, s.ImportedFunctions, s.Types, s.TotalLocals, s.CodeBytes, *s.Memory)

	// Every truncation of a real module is refused, quickly.
	for _, n := range []int{9, 100, len(bin) / 3, len(bin) / 2, len(bin) - 1} {
		if _, err := Check(bin[:n], Limits{}); !errors.Is(err, ErrMalformed) {
			t.Errorf("[:%d]: %v", n, err)
		}
	}
}

// TestAllocation checks that Check itself allocates in proportion to its
// input, and never in proportion to a declared count.
func TestAllocation(t *testing.T) {
	for name, bin := range map[string][]byte{
		"huge imports": module(sec(2, rawVec(huge))),
		"huge locals":  module(t0, f1, sec(10, vec(body([][]byte{local(huge, 0x7f)}, 0x0b)))),
		"huge name":    module(sec(0, uleb(huge))),
		"huge table":   module(sec(4, vec(cat([]byte{0x70, 0x00}, uleb(huge))))),
		"huge data":    module(mem1, sec(11, vec(cat([]byte{0x00}, i32c(0), uleb(huge))))),
	} {
		allocs := testing.AllocsPerRun(10, func() { _, _ = Check(bin, Limits{}) })
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		_, _ = Check(bin, Limits{})
		runtime.ReadMemStats(&ms1)
		if b := ms1.TotalAlloc - ms0.TotalAlloc; b > 4096 || allocs > 20 {
			t.Errorf("%s: Check allocated %d bytes in %.0f allocations", name, b, allocs)
		}
	}
}

// TestWazeroAllocationBounded builds modules that sit at Check's default
// limits, accepted by Check, and measures what wazero allocates to compile
// them: it must stay proportional to the input.
func TestWazeroAllocationBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("large modules")
	}
	nfunc := func(n int, b []byte) []byte {
		return module(t0, sec(3, vec(repeat(uleb(0), n)...)), sec(10, vec(repeat(b, n)...)))
	}
	imports := make([][]byte, 20000)
	exports := make([][]byte, 20000)
	for i := range imports {
		imports[i] = cat(str("m"), str(strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune(0x100+i))), []byte{0x00, 0x00})
		exports[i] = cat(str(string(rune(0x100+i))), []byte{0x00, 0x00})
	}
	params := bytes.Repeat([]byte{0x7f}, 1000)
	for name, bin := range map[string][]byte{
		"locals at the total limit": nfunc(20, body([][]byte{local(50000, 0x7f)}, 0x0b)),
		"many functions":            nfunc(100000, body(nil, 0x0b)),
		"many imports":              module(t0, sec(2, vec(imports...))),
		"many exports":              module(t0, f1, sec(7, vec(exports...)), c1),
		"large types":               module(sec(1, vec(repeat(functype(params, nil), 9)...))),
		"many types":                module(sec(1, vec(repeat(functype(params[:20], params[:1]), 10000)...))),
		"many small types":          module(sec(1, vec(repeat(functype(nil, nil), 1<<16)...))),
		"many elements":             module(t0, f1, table1, sec(9, vec(cat([]byte{0x01, 0x00}, vec(repeat(uleb(0), 1<<18)...)))), c1),
		"many globals":              module(sec(6, vec(repeat(cat([]byte{0x7f, 0x00}, i32c(0)), 200000)...))),
		"many data segments":        module(mem1, sec(11, vec(repeat(cat([]byte{0x01}, str("")), 100000)...))),
		"many custom sections":      module(repeat(sec(0, str(""), []byte{0}), 1000)...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Check(bin, Limits{}); err != nil {
				t.Fatalf("Check: %v", err)
			}
			alloc, err := measureCompile(bin)
			if err != nil {
				t.Logf("wazero: %v", err)
			}
			limit := 64*uint64(len(bin)) + 32<<20
			t.Logf("%d bytes, wazero allocated %d (%.1f per byte)", len(bin), alloc, float64(alloc)/float64(len(bin)))
			if alloc > limit {
				t.Errorf("wazero allocated %d bytes to compile %d bytes (limit %d)", alloc, len(bin), limit)
			}
		})
	}
}

// measureCompile returns the bytes wazero allocates to compile bin.
func measureCompile(bin []byte) (uint64, error) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := r.CompileModule(ctx, bin)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

func TestConcurrent(t *testing.T) {
	bins := [][]byte{abiModule(), sinkWasm, featWasm, module(sec(2, rawVec(huge)))}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				for _, b := range bins {
					_, _ = Check(b, Limits{})
				}
			}
		}()
	}
	wg.Wait()
}
