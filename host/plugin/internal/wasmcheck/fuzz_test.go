package wasmcheck

import (
	"context"
	"errors"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// fuzzConfig enables every feature wazero v1.12.0 has, so that wazero's
// decoder and validator go as far as they can on what Check accepts.
var fuzzConfig = wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2 |
	experimental.CoreFeaturesThreads | experimental.CoreFeaturesTailCall |
	experimental.CoreFeaturesExtendedConst | experimental.CoreFeaturesExceptionHandling |
	experimental.CoreFeaturesTypedFunctionReferences)

// fuzzSeeds returns the valid modules and a few deterministic mutations of
// each: bytes set to 0xff (a huge LEB128 count or size), 0x80 (a
// continued LEB128), 0x00, and truncations.
func fuzzSeeds() [][]byte {
	valid := [][]byte{
		module(), abiModule(), sinkWasm, featWasm,
		module(t0, f1, table1, mem1, sec(9, vec(cat([]byte{0x00}, i32c(0), vec(uleb(0))))), c1,
			sec(11, vec(cat([]byte{0x00}, i32c(0), str("abc"))))),
	}
	seeds := append([][]byte(nil), valid...)
	rng := rand.New(rand.NewSource(1))
	for _, v := range valid {
		if len(v) <= 8 {
			continue
		}
		for i := 0; i < 12; i++ {
			m := append([]byte(nil), v...)
			m[8+rng.Intn(len(m)-8)] = []byte{0xff, 0x80, 0x00, 0x7f}[i%4]
			seeds = append(seeds, m)
		}
		seeds = append(seeds, v[:len(v)/2], v[:len(v)-1])
	}
	return seeds
}

// FuzzCheck asserts that Check never panics and finishes quickly, and that
// wazero neither panics nor allocates absurdly compiling what Check accepts.
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, bin []byte) {
		start := time.Now()
		s, err := Check(bin, Limits{})
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Check took %v on %d bytes", d, len(bin))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(bin) {
				t.Fatalf("not an *Error with an offset in the file: %#v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) &&
				!errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if s == nil || s.Size != len(bin) {
			t.Fatalf("bad summary %+v", s)
		}
		ctx := context.Background()
		r := wazero.NewRuntimeWithConfig(ctx, fuzzConfig)
		defer r.Close(ctx)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("wazero panicked compiling a module Check accepted: %v", p)
				}
			}()
			_, _ = r.CompileModule(ctx, bin)
		}()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		if limit := 64*uint64(len(bin)) + 32<<20; alloc > limit {
			t.Fatalf("wazero allocated %d bytes compiling %d bytes that Check accepted (limit %d)", alloc, len(bin), limit)
		}
	})
}
