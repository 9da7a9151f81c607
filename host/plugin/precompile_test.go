package plugin_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/plugins/examples"
)

// childCompiler runs this test binary as the compile child (TestMain) into
// a cache directory of its own, which it returns with a cache reading it.
func childCompiler(t *testing.T, log *syncBuffer) (*plugin.ChildCompiler, wazero.CompilationCache) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the compile child's memory limit needs Linux")
	}
	dir := t.TempDir()
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close(context.Background()) })
	cc := &plugin.ChildCompiler{
		Args:     []string{plugin.CompileChildCommand},
		CacheDir: dir,
		Logger:   testLogger(),
	}
	if log != nil {
		cc.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cc, cache
}

// cacheFiles maps each file of the cache directory to its FileInfo.
func cacheFiles(t *testing.T, dir string) map[string]os.FileInfo {
	t.Helper()
	files := map[string]os.FileInfo{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		files[path] = info
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestChildCompileFillsCache: the child compiles the module into the cache
// directory, and the engine then loads it from there: the file the child
// wrote is not written again (a miss would replace it with a new file).
func TestChildCompileFillsCache(t *testing.T) {
	cc, cache := childCompiler(t, nil)
	wasm := examples.Chat()
	start := time.Now()
	if err := cc.Precompile(context.Background(), wasm); err != nil {
		t.Fatalf("Precompile: %v", err)
	}
	childTime := time.Since(start)
	written := cacheFiles(t, cc.CacheDir)
	if len(written) != 1 {
		t.Fatalf("cache holds %d files after the child, want 1: %v", len(written), written)
	}

	e := plugin.NewEngine("chat", plugin.Options{Cache: cache, Logger: testLogger()})
	defer e.Unload()
	start = time.Now()
	if _, err := e.Load(context.Background(), wasm, plugin.Manifest{}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("child compile %v, in-process load from the cache %v", childTime, time.Since(start))
	after := cacheFiles(t, cc.CacheDir)
	if len(after) != 1 {
		t.Fatalf("cache holds %d files after the load, want 1: %v", len(after), after)
	}
	for path, info := range written {
		if !os.SameFile(info, after[path]) {
			t.Errorf("%s was written again: the engine missed the cache", path)
		}
	}
}

// TestChildCompileServes: with a ChildCompiler, plugins install, reload and
// serve as without.
func TestChildCompileServes(t *testing.T) {
	cc, cache := childCompiler(t, nil)
	srv := hosttest.NewServer(t, host.Config{Logger: testLogger()})
	p := plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: testLogger(), Precompile: cc.Precompile})
	t.Cleanup(p.Close)
	echo := readTestdata(t, "echo.wasm")
	for i := range 2 {
		if err := p.Install(context.Background(), "echo", withCustomSection(echo, "v", strconv.Itoa(i)), nil); err != nil {
			t.Fatalf("install %d: %v", i, err)
		}
		c := srv.Dial(t, "/ws/echo")
		c.Send("hello")
		c.Expect("hello")
	}
	if n := len(cacheFiles(t, cc.CacheDir)); n != 2 {
		t.Errorf("cache holds %d files, want the 2 versions", n)
	}
}

// TestChildCompileFallback: when no child can run, the engine compiles in
// process, and the first fallback is logged at warn level, the others not.
func TestChildCompileFallback(t *testing.T) {
	var log syncBuffer
	cc, cache := childCompiler(t, &log)
	cc.Path = filepath.Join(t.TempDir(), "missing")
	e := plugin.NewEngine("echo", plugin.Options{Cache: cache, Logger: testLogger(), Precompile: cc.Precompile})
	defer e.Unload()
	echo := readTestdata(t, "echo.wasm")
	for i := range 3 {
		if _, err := e.Load(context.Background(), withCustomSection(echo, "v", strconv.Itoa(i)), plugin.Manifest{}); err != nil {
			t.Fatalf("load %d: %v", i, err)
		}
	}
	if n := strings.Count(log.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, log.String())
	}
	if n := strings.Count(log.String(), "cannot compile in a child process"); n != 3 {
		t.Errorf("%d fallbacks logged, want 3:\n%s", n, log.String())
	}
	if err := cc.Precompile(context.Background(), echo); !errors.Is(err, plugin.ErrPrecompileUnavailable) {
		t.Errorf("Precompile = %v, want ErrPrecompileUnavailable", err)
	}
	cc.Path, cc.CacheDir = "", ""
	if err := cc.Precompile(context.Background(), echo); !errors.Is(err, plugin.ErrPrecompileUnavailable) {
		t.Errorf("Precompile without a cache directory = %v, want ErrPrecompileUnavailable", err)
	}
}

// TestPrecompileNeedsCache: without a compilation cache the precompiler is
// never asked: nothing could carry its work back.
func TestPrecompileNeedsCache(t *testing.T) {
	e := plugin.NewEngine("echo", plugin.Options{Logger: testLogger(), Precompile: func(context.Context, []byte) error {
		t.Error("Precompile called without a cache")
		return nil
	}})
	defer e.Unload()
	if _, err := e.Load(context.Background(), readTestdata(t, "echo.wasm"), plugin.Manifest{}); err != nil {
		t.Fatal(err)
	}
}

// TestChildCompileRefusals: a module the child cannot compile, or that
// makes it pass its memory or time limit, or a load whose context ended,
// is refused, and the version serving keeps serving.
func TestChildCompileRefusals(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name   string
		wasm   []byte
		ctx    context.Context
		setup  func(*plugin.ChildCompiler)
		want   []error
		detail string
	}{
		{"invalid body", invalidBodyModule(), context.Background(), nil,
			[]error{plugin.ErrInvalidModule}, "too many results"},
		{"memory", bigFunctionModule(1_000_000), context.Background(), func(cc *plugin.ChildCompiler) { cc.MemoryLimit = 256 << 20 },
			[]error{plugin.ErrInvalidModule, plugin.ErrCompileLimit}, "compiling needs more than 256 MiB"},
		{"time", examples.Chat(), context.Background(), func(cc *plugin.ChildCompiler) { cc.Timeout = 20 * time.Millisecond },
			[]error{plugin.ErrInvalidModule, plugin.ErrCompileLimit}, "compiling took longer than 20ms"},
		{"canceled", examples.Chat(), canceled, nil,
			[]error{context.Canceled}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "memory" && raceEnabled {
				t.Skip("the race detector needs more memory than the limit tested")
			}
			// The version serving compiles in a child without the limits
			// tested (a child of the race detector takes more than 20 ms to
			// start), the new one in a child with them.
			plain, cache := childCompiler(t, nil)
			limited := &plugin.ChildCompiler{Args: plain.Args, CacheDir: plain.CacheDir, Logger: plain.Logger}
			if tc.setup != nil {
				tc.setup(limited)
			}
			echo := readTestdata(t, "echo.wasm")
			precompile := func(ctx context.Context, wasm []byte) error {
				if bytes.Equal(wasm, echo) {
					return plain.Precompile(ctx, wasm)
				}
				return limited.Precompile(ctx, wasm)
			}
			srv := hosttest.NewServer(t, host.Config{Logger: testLogger()})
			p := plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: testLogger(), Precompile: precompile})
			t.Cleanup(p.Close)
			if err := p.Install(context.Background(), "echo", echo, nil); err != nil {
				t.Fatal(err)
			}
			c := srv.Dial(t, "/ws/echo")
			err := p.Install(tc.ctx, "echo", tc.wasm, nil)
			t.Logf("Install: %v", err)
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("Install = %v, want it to wrap %v", err, want)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("Install = %v, want it to say %q", err, tc.detail)
			}
			c.Send("still here")
			c.Expect("still here")
		})
	}
}

// wasmModule assembles a module of ABI v1's minimum: a memory, an
// on_message that returns 0, and the marker export wshost_abi_v1, a
// function of no parameters and results whose body (locals and code,
// without the final end) is given. The helpers are abi_raw_test.go's.
func wasmModule(marker []byte) []byte {
	marker = append(marker, 0x0b)         // end
	onMessage := []byte{0, 0x41, 0, 0x0b} // no locals; i32.const 0; end
	return cat([]byte{0, 'a', 's', 'm', 1, 0, 0, 0},
		wasmSection(1,
			[]byte{0x60, 0, 0},                          // type 0: [] -> []
			[]byte{0x60, 3, 0x7e, 0x7f, 0x7f, 1, 0x7f}), // type 1: [i64 i32 i32] -> [i32]
		wasmSection(3, []byte{0}, []byte{1}), // functions 0 and 1
		wasmSection(5, []byte{0, 1}),         // memory 0: at least 1 page
		wasmSection(7,
			cat(wasmName("memory"), []byte{2, 0}),
			cat(wasmName("wshost_abi_v1"), []byte{0, 0}),
			cat(wasmName("on_message"), []byte{0, 1})),
		wasmSection(10,
			cat(uleb(uint64(len(marker))), marker),
			cat(uleb(uint64(len(onMessage))), onMessage)))
}

// invalidBodyModule passes the pre-checks but not wazero's validation: its
// function leaves an i32 on the stack it declares no result for.
func invalidBodyModule() []byte {
	return wasmModule([]byte{0, 0x41, 1}) // no locals; i32.const 1
}

// bigFunctionModule has one function of n increments of a local: 7n
// bytes (wasmcheck allows a body of 7.6 MB), and compiling it takes some
// 360 bytes per increment (1 million: 360 MiB).
func bigFunctionModule(n int) []byte {
	body := []byte{1, 1, 0x7f} // one i32 local
	inc := []byte{0x20, 0, 0x41, 1, 0x6a, 0x21, 0}
	body = append(body, bytes.Repeat(inc, n)...)
	return wasmModule(body)
}
