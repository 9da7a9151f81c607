package plugin_test

import (
	"context"
	"math/rand"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
)

// fuzzNop is a handler for the fuzz endpoint; the engine is called directly.
type fuzzNop struct{}

func (fuzzNop) Open(context.Context, *host.Endpoint, host.ConnID) error { return nil }
func (fuzzNop) Message(context.Context, *host.Endpoint, host.ConnID, []byte, bool) error {
	return nil
}
func (fuzzNop) Error(context.Context, *host.Endpoint, host.ConnID, host.ErrorKind, string) {}
func (fuzzNop) Close(context.Context, *host.Endpoint, host.ConnID, int, string)            {}

// installSeeds: every small testdata module, and deterministic mutations of
// each (bytes set to 0xff, 0x80, 0x00, 0x7f: huge or continued LEB128
// counts; truncations). probe.wasm (2 MiB of Go) is left out: mutating it
// makes each run a long compile.
func installSeeds(f *testing.F) [][]byte {
	files, err := filepath.Glob("testdata/*.wasm")
	if err != nil {
		f.Fatal(err)
	}
	var valid, seeds [][]byte
	for _, file := range files {
		if filepath.Base(file) == "probe.wasm" {
			continue
		}
		valid = append(valid, readTestdata(f, filepath.Base(file)))
	}
	rng := rand.New(rand.NewSource(1))
	for _, v := range valid {
		seeds = append(seeds, v, v[:len(v)/2], v[:len(v)-1])
		for i := range 8 {
			m := append([]byte(nil), v...)
			m[8+rng.Intn(len(m)-8)] = []byte{0xff, 0x80, 0x00, 0x7f}[i%4]
			seeds = append(seeds, m)
		}
	}
	return append(seeds, nil, []byte("\x00asm"), []byte("\x00asm\x01\x00\x00\x00"))
}

// FuzzInstall feeds arbitrary modules to Plugins.Install and, when one
// loads, runs each callback once: nothing may crash or hang, loading is
// bounded in time and memory, and the host keeps working.
func FuzzInstall(f *testing.F) {
	for _, s := range installSeeds(f) {
		f.Add(s)
	}
	srv := host.New(host.Config{})
	p := plugin.NewPlugins(srv, plugin.Options{Logger: testLogger()})
	f.Cleanup(p.Close)
	ep, err := srv.Mount("side", fuzzNop{}, host.Limits{StateBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	manifest := []byte("instances = 1\n[limits]\ncall_timeout = \"20ms\"\n")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, wasm []byte) {
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := p.Install(ctx, "fuzz", wasm, manifest)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("install took %v on %d bytes", d, len(wasm))
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		// Go heap only: linear memory is an mmap outside it.
		if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 256<<20+int64(len(wasm))*64 {
			t.Fatalf("install of %d bytes allocated %d MiB", len(wasm), grew>>20)
		}
		if err != nil {
			return
		}
		e := p.Engine("fuzz")
		if err := e.Open(ctx, ep, 1); err != nil {
			t.Logf("on_open: %v", err)
		}
		_ = e.Message(ctx, ep, 1, []byte("hello"), false)
		e.Error(ctx, ep, 1, host.KindFault, "trap: fuzz")
		e.Close(ctx, ep, 1, 1000, "")
	})
}
