package plugin

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/wshost/wshost/host/plugin/internal/wasmcheck"
)

// Report is what Inspect found out about a module: what it exports and
// imports, its memory, and every way it breaks ABI v1. A plain value.
type Report struct {
	Size     int
	Exports  []Symbol
	Imports  []Symbol
	Memory   string // "min 33 pages (2.1 MiB), no max", or "none"
	Problems []string
}

// Symbol is one import or export: "wshost.send", a kind, and for functions
// the signature "(i64, i32, i32, i32) -> (i32)". A plain value.
type Symbol struct {
	Name      string
	Kind      string
	Signature string
}

// OK reports whether the module follows ABI v1 and loads.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Inspect checks wasm as the host would load it with manifest m: the
// bounded pre-check, the ABI, and a real compile and instantiation
// (_initialize included). It never returns an error: problems are in the
// report, in plain words.
func Inspect(ctx context.Context, wasm []byte, m Manifest) *Report {
	r := &Report{Size: len(wasm), Memory: "none"}
	lim := m.engineLimits()
	sum, err := wasmcheck.Check(wasm, wasmcheck.Limits{MaxMemoryPages: lim.memoryPages})
	if err != nil {
		r.Problems = append(r.Problems, strings.TrimPrefix(err.Error(), "wasmcheck: "))
		return r
	}
	for _, e := range sum.Exports {
		r.Exports = append(r.Exports, symbol(e.Name, e.Kind, e.Func))
	}
	for _, im := range sum.Imports {
		r.Imports = append(r.Imports, symbol(im.Module+"."+im.Name, im.Kind, im.Func))
	}
	if mem := sum.Memory; mem != nil {
		r.Memory = fmt.Sprintf("min %d pages (%s)", mem.Min, mib(mem.Min))
		switch {
		case !mem.HasMax:
			r.Memory += fmt.Sprintf(", no max (the host caps it at %d pages, %s)", lim.memoryPages, mib(lim.memoryPages))
		case mem.MaxAboveLimit:
			r.Memory += fmt.Sprintf(", max %d pages, capped at %d (%s)", mem.Max, lim.memoryPages, mib(lim.memoryPages))
		default:
			r.Memory += fmt.Sprintf(", max %d pages (%s)", mem.Max, mib(mem.Max))
		}
	}
	for _, p := range CheckABI(sum) {
		r.Problems = append(r.Problems, p.Error())
	}
	if len(r.Problems) > 0 {
		return r
	}
	e := NewEngine("inspect", Options{Logger: slog.New(slog.DiscardHandler)})
	if _, err := e.Load(ctx, wasm, m); err != nil {
		r.Problems = append(r.Problems, "does not load: "+strings.TrimPrefix(err.Error(), ErrInvalidModule.Error()+": "))
	}
	e.Unload()
	return r
}

func symbol(name string, kind wasmcheck.ExternKind, fn *wasmcheck.FuncType) Symbol {
	s := Symbol{Name: name, Kind: kind.String()}
	if fn != nil && kind == wasmcheck.KindFunc {
		s.Signature = fn.String()
	}
	return s
}

func mib(pages uint32) string {
	return fmt.Sprintf("%.1f MiB", float64(pages)*65536/(1<<20))
}
