package bench_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"go.uber.org/goleak"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/internal/bench"
	"github.com/wshost/wshost/plugins/examples"
)

// cache is shared by every test so the chat compiles once per run.
var cache = wazero.NewCompilationCache()

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet() *slog.Logger {
	if os.Getenv("BENCH_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// chatServer serves plugins/examples/chat.wasm as chat on 127.0.0.1. With
// a dir, the plugin is watched there (for reloads); loads counts the
// versions installed.
func chatServer(t *testing.T, dir string) (ws string, loads func() (ok, refused int, sha string)) {
	t.Helper()
	var mu sync.Mutex
	var nOK, nRefused int
	var sha string
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() }) // after the server's shutdown
	srv := hosttest.NewServer(t, host.Config{Logger: quiet()})
	p = plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: quiet(), OnLoad: func(e plugin.LoadEvent) {
		mu.Lock()
		defer mu.Unlock()
		if e.Err != nil {
			nRefused++
		} else if !e.Unchanged && !e.Removed {
			nOK++
		}
		sha = e.Version.SHA256
	}})
	if dir == "" {
		if err := p.Install(context.Background(), "chat", examples.Chat(), nil); err != nil {
			t.Fatal(err)
		}
	} else {
		if err := os.WriteFile(filepath.Join(dir, "chat.wasm"), examples.Chat(), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- p.WatchDir(ctx, dir, 20*time.Millisecond, func() { close(ready) }) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
		select {
		case <-ready:
		case err := <-done:
			t.Fatal(err)
		}
	}
	return srv.WS, func() (int, int, string) { mu.Lock(); defer mu.Unlock(); return nOK, nRefused, sha }
}

func run(t *testing.T, args ...string) *bench.Result {
	t.Helper()
	cfg, err := bench.ParseArgs(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ServerPIDs = []int{os.Getpid()}
	var progress strings.Builder
	res, err := bench.Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\nprogress:\n%s", *res, progress.String())
	if res.Drops != 0 || res.Errors != 0 {
		t.Errorf("drops %d, errors %d: want 0", res.Drops, res.Errors)
	}
	if res.ConnectPerS <= 0 || res.DurationS <= 0 {
		t.Errorf("connect_per_s %g, duration_s %g: want > 0", res.ConnectPerS, res.DurationS)
	}
	return res
}

// near reports whether got is within frac of want.
func near(got, want float64, frac float64) bool {
	return got >= want*(1-frac) && got <= want*(1+frac)
}

func checkDeliveries(t *testing.T, res *bench.Result, members int) {
	t.Helper()
	if res.Sent == 0 || res.Delivered == 0 {
		t.Fatalf("sent %d, delivered %d: want both > 0", res.Sent, res.Delivered)
	}
	if want := float64(res.Sent * uint64(members)); !near(float64(res.Delivered), want, 0.15) {
		t.Errorf("delivered %d, want about sent × %d = %.0f", res.Delivered, members, want)
	}
	if res.Samples == 0 || res.P50ms <= 0 || res.P99ms < res.P50ms || res.P999ms < res.P99ms {
		t.Errorf("latency p50 %g p99 %g p99.9 %g over %d samples: want 0 < p50 <= p99 <= p99.9", res.P50ms, res.P99ms, res.P999ms, res.Samples)
	}
	if res.ServerCPUusPerDelivery <= 0 || res.DeliveriesPerS <= 0 {
		t.Errorf("server_cpu_us_per_delivery %g, deliveries_per_s %g: want > 0", res.ServerCPUusPerDelivery, res.DeliveriesPerS)
	}
}

func TestEcho(t *testing.T) {
	ws, _ := chatServer(t, "")
	res := run(t, "-scenario", "echo", "-url", ws+"/ws/chat?room=e{conn}&nick=b{conn}",
		"-conns", "10", "-rate", "20", "-warmup", "300ms", "-duration", "1500ms", "-template", "{seq} t={ts} from {conn} in {room}")
	if res.Conns != 10 || res.Senders != 10 {
		t.Errorf("conns %d, senders %d: want 10, 10", res.Conns, res.Senders)
	}
	checkDeliveries(t, res, 1)
}

func TestFanout(t *testing.T) {
	ws, _ := chatServer(t, "")
	res := run(t, "-scenario", "fanout", "-url", ws+"/ws/chat?room={room}&nick=b{conn}",
		"-conns", "20", "-rooms", "2", "-senders", "6", "-rate", "20", "-warmup", "300ms", "-duration", "1500ms", "-json")
	if res.Senders != 6 {
		t.Errorf("senders %d, want 6", res.Senders)
	}
	checkDeliveries(t, res, 10)
}

// TestFanoutSeveralURLs spreads the connections over three servers that are
// not joined: each one's room holds a third of them, so a message reaches
// its third; the servers' figures are summed (here all one process).
func TestFanoutSeveralURLs(t *testing.T) {
	var urls []string
	for range 3 {
		ws, _ := chatServer(t, "")
		urls = append(urls, ws+"/ws/chat?room={room}&nick=b{conn}")
	}
	cfg, err := bench.ParseArgs([]string{"-scenario", "fanout", "-url", urls[0] + "," + urls[1], "-url", urls[2],
		"-conns", "12", "-rate", "20", "-warmup", "300ms", "-duration", "1500ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	cfg.ServerPIDs, cfg.BrokerPIDs = []int{self, self}, []int{self}
	res, err := bench.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *res)
	if res.Drops != 0 || res.Errors != 0 {
		t.Errorf("drops %d, errors %d: want 0", res.Drops, res.Errors)
	}
	checkDeliveries(t, res, 4)
	if len(res.ConnsPerURL) != 3 || res.ConnsPerURL[0] != 4 || res.ConnsPerURL[1] != 4 || res.ConnsPerURL[2] != 4 {
		t.Errorf("conns per URL %v, want [4 4 4]", res.ConnsPerURL)
	}
	if res.Servers != 2 || len(res.ServerCPUsEach) != 2 || res.ServerRSSKiB <= 0 {
		t.Errorf("servers %d, each %v, RSS %d: want 2 servers and an RSS", res.Servers, res.ServerCPUsEach, res.ServerRSSKiB)
	}
	if res.BrokerRSSKiB <= 0 || res.BrokerCPUs <= 0 || res.BrokerCPUusPerDelivery <= 0 {
		t.Errorf("broker CPU %g s (%g µs/delivery), RSS %d KiB: want all > 0", res.BrokerCPUs, res.BrokerCPUusPerDelivery, res.BrokerRSSKiB)
	}
	var table strings.Builder
	if err := bench.WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"per URL", "4 4 4", "servers", "broker CPU", "broker RSS"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table has no %q:\n%s", want, table.String())
		}
	}
}

// TestHello drives the chat through its commands: the hello messages move
// every connection to a room of its own, so a fanout is an echo.
func TestHello(t *testing.T) {
	ws, _ := chatServer(t, "")
	res := run(t, "-scenario", "fanout", "-url", ws+"/ws/chat",
		"-hello", "/nick n{conn}", "-hello", "/join own{conn}",
		"-conns", "4", "-rate", "20", "-warmup", "300ms", "-duration", "1s")
	checkDeliveries(t, res, 1)
}

func TestIdle(t *testing.T) {
	ws, _ := chatServer(t, "")
	res := run(t, "-scenario", "idle", "-url", ws+"/ws/chat?nick=i{conn}", "-conns", "50",
		"-src", "127.0.0.1,127.0.0.2", "-connect-rate", "500", "-warmup", "0s", "-duration", "1s")
	if res.Conns != 50 || res.Sent != 0 {
		t.Errorf("conns %d, sent %d: want 50, 0", res.Conns, res.Sent)
	}
	if res.ConnectPerS > 600 {
		t.Errorf("connect_per_s %g, want at most about -connect-rate 500", res.ConnectPerS)
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	ws, loads := chatServer(t, dir)
	file := filepath.Join(dir, "chat.wasm")
	res := run(t, "-scenario", "reload", "-url", ws+"/ws/chat?room={room}&nick=b{conn}",
		"-conns", "10", "-rate", "20", "-warmup", "300ms", "-duration", "2500ms",
		"-reload-file", file, "-reload-every", "1s")
	checkDeliveries(t, res, 10)
	if res.Reloads < 2 {
		t.Errorf("reloads %d, want at least 2", res.Reloads)
	}
	// The run restores the file: wait for the server to serve it again, so
	// no compile is left running (each new version compiles from scratch).
	orig := sha256.Sum256(examples.Chat())
	hosttest.Eventually(t, "a reloaded version, then the restored plugin, to serve", func() bool {
		ok, refused, sha := loads()
		return refused > 0 || ok >= 3 && sha == hex.EncodeToString(orig[:])
	})
	ok, refused, _ := loads()
	if ok < 3 || refused != 0 {
		t.Errorf("the server loaded %d versions (the first, the reloads, the restored one) and refused %d: want at least 3 and 0", ok, refused)
	}
	if res.SteadyP50ms <= 0 || res.ReloadP50ms <= 0 {
		t.Errorf("steady p50 %g, during reloads p50 %g: want both > 0", res.SteadyP50ms, res.ReloadP50ms)
	}
	b, err := os.ReadFile(file)
	if err != nil || string(b) != string(examples.Chat()) {
		t.Errorf("the plugin file was not restored (err %v)", err)
	}
}
