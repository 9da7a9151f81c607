package plugins_test

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
)

// BenchmarkLanguages measures every language's chat plugin side by side,
// for the table in sdk/README.md. ns/op is one chat message through
// on_message (event_read, two conn_info, a broadcast: the chat's path for a
// message, on a connection id that is not live so no socket is involved).
// The extra metrics:
//
//	wasm-bytes     the module's size
//	load-ms        Load with the compilation cache warm: a runtime, the host
//	               modules and the first instance with its _initialize
//	linear-KiB/inst  linear memory of one instance after _initialize
//	rss-KiB/inst     resident memory each further instance adds (20
//	                 started; noisy: the Go heap moves too)
func BenchmarkLanguages(b *testing.B) {
	cache := wazero.NewCompilationCache()
	defer cache.Close(context.Background())
	srv := host.New(host.Config{Logger: slog.New(slog.DiscardHandler)})
	for _, l := range languages(b) {
		wasm := readPlugin(b, l.chat)
		b.Run(l.name, func(b *testing.B) {
			ctx := context.Background()
			opts := plugin.Options{Cache: cache, Logger: slog.New(slog.DiscardHandler)}
			m := plugin.Manifest{Instances: 21}
			e := plugin.NewEngine(l.name, opts)
			if _, err := e.Load(ctx, wasm, m); err != nil { // compiles into the cache
				b.Fatal(err)
			}
			e.Unload()

			const loads = 5
			start := time.Now()
			for range loads {
				e := plugin.NewEngine(l.name, opts)
				if _, err := e.Load(ctx, wasm, m); err != nil {
					b.Fatal(err)
				}
				e.Unload()
			}
			loadMS := float64(time.Since(start).Microseconds()) / 1000 / loads

			e = plugin.NewEngine(l.name, opts)
			if _, err := e.Load(ctx, wasm, m); err != nil {
				b.Fatal(err)
			}
			defer e.Unload()
			debug.FreeOSMemory()
			before := rssKiB(b)
			if err := e.Warm(ctx, 21); err != nil {
				b.Fatal(err)
			}
			debug.FreeOSMemory()
			rssPerInstance := float64(rssKiB(b)-before) / 20
			n, linear, err := e.InstanceMemory(ctx)
			if err != nil || n != 21 {
				b.Fatalf("instances %d, %v", n, err)
			}

			ep, err := srv.Mount("bench-"+l.name, e, host.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Unmount("bench-" + l.name)
			msg := []byte("hello everyone in the room")
			b.ResetTimer()
			for b.Loop() {
				if err := e.Message(ctx, ep, 1<<60, msg, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(wasm)), "wasm-bytes")
			b.ReportMetric(loadMS, "load-ms")
			b.ReportMetric(float64(linear)/float64(n)/1024, "linear-KiB/inst")
			b.ReportMetric(rssPerInstance, "rss-KiB/inst")
		})
	}
}

// rssKiB reads this process's resident set size.
func rssKiB(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
