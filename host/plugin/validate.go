package plugin

import (
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/wshost/wshost/host/abi"
	"github.com/wshost/wshost/host/plugin/internal/wasmcheck"
)

// sig is a function signature of the ABI. Immutable.
type sig struct{ params, results []wasmcheck.ValType }

var (
	vI32 = wasmcheck.I32
	vI64 = wasmcheck.I64
)

// exportSigs are the exports ABI v1 knows, with their signatures.
func exportSigs() map[string]sig {
	return map[string]sig{
		abi.ExportMarker:     {},
		abi.ExportInitialize: {},
		abi.ExportOnMessage:  {[]wasmcheck.ValType{vI64, vI32, vI32}, []wasmcheck.ValType{vI32}},
		abi.ExportOnOpen:     {[]wasmcheck.ValType{vI64}, []wasmcheck.ValType{vI32}},
		abi.ExportOnClose:    {[]wasmcheck.ValType{vI64, vI32, vI32}, nil},
		abi.ExportOnError:    {[]wasmcheck.ValType{vI64, vI32, vI32}, nil},
	}
}

// importSigs are the functions of the wshost import module.
func importSigs() map[string]sig {
	m := make(map[string]sig)
	conv := func(ts []api.ValueType) []wasmcheck.ValType {
		out := make([]wasmcheck.ValType, len(ts))
		for i, t := range ts {
			out[i] = wasmcheck.I32
			if t == i64 {
				out[i] = wasmcheck.I64
			}
		}
		return out
	}
	for _, hf := range hostFuncs() {
		m[hf.name] = sig{conv(hf.params), conv(hf.results)}
	}
	return m
}

// CheckABI lists every way the module summarised by sum breaks ABI v1:
// missing or mistyped exports, imports from other modules or of unknown or
// mistyped wshost functions, a missing memory. nil when it follows the ABI.
func CheckABI(sum *wasmcheck.Summary) []error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}
	exports := exportSigs()
	for _, name := range []string{abi.ExportMarker, abi.ExportOnMessage} {
		if _, ok := sum.Export(name); !ok {
			add("missing required export %q (function %s)", name, fmtSig(exports[name]))
		}
	}
	if e, ok := sum.Export(abi.ExportMemory); !ok || e.Kind != wasmcheck.KindMemory {
		add("missing required export %q (the module's memory)", abi.ExportMemory)
	}
	for _, e := range sum.Exports {
		want, known := exports[e.Name]
		if !known {
			continue
		}
		if e.Kind != wasmcheck.KindFunc {
			add("export %q is a %s, want function %s", e.Name, e.Kind, fmtSig(want))
		} else if !e.Func.Equal(want.params, want.results) {
			add("export %q has signature %s, want %s", e.Name, e.Func, fmtSig(want))
		}
	}
	imports := importSigs()
	for _, im := range sum.Imports {
		switch {
		case im.Module == abi.WASIModule && im.Kind == wasmcheck.KindFunc:
		case im.Module == abi.ImportModule && im.Kind == wasmcheck.KindFunc:
			want, known := imports[im.Name]
			if !known {
				add("imports unknown host function %s.%s", im.Module, im.Name)
			} else if !im.Func.Equal(want.params, want.results) {
				add("import %s.%s has signature %s, want %s", im.Module, im.Name, im.Func, fmtSig(want))
			}
		case im.Module == abi.ImportModule || im.Module == abi.WASIModule:
			add("imports a %s %s.%s: only functions may be imported", im.Kind, im.Module, im.Name)
		default:
			add("imports %s %s.%s from module %q: only %q and %q may be imported", im.Kind, im.Module, im.Name, im.Module, abi.ImportModule, abi.WASIModule)
		}
	}
	if sum.Memory != nil && sum.Memory.Imported {
		add("imports its memory: a plugin must define and export its own")
	}
	return problems
}

func fmtSig(s sig) string {
	ft := wasmcheck.FuncType{Params: s.params, Results: s.results}
	return ft.String()
}

// abiError joins CheckABI's problems into one ErrInvalidModule.
func abiError(problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Error()
	}
	return fmt.Errorf("%w: %s", ErrInvalidModule, strings.Join(msgs, "; "))
}
