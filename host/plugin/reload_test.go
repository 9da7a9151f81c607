package plugin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/internal/pluginfile"
)

// withCustomSection and writeAtomic: see internal/pluginfile.
var withCustomSection = pluginfile.WithCustomSection

func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := pluginfile.WriteAtomic(path, data); err != nil {
		t.Fatal(err)
	}
}

// watchFixture serves a plugins directory through Plugins.WatchDir and
// records every LoadEvent.
type watchFixture struct {
	*fixture
	dir    string
	mu     sync.Mutex
	events []plugin.LoadEvent
}

func newWatchFixture(t *testing.T) *watchFixture {
	t.Helper()
	w := &watchFixture{dir: t.TempDir()}
	cfg := host.Config{Logger: testLogger()}
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() })
	srv := hosttest.NewServer(t, cfg)
	p = plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: cfg.Logger, OnLoad: func(ev plugin.LoadEvent) {
		w.mu.Lock()
		w.events = append(w.events, ev)
		w.mu.Unlock()
	}})
	w.fixture = &fixture{Server: srv, plugins: p}

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.WatchDir(ctx, w.dir, 20*time.Millisecond, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchDir: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("WatchDir: %v", err)
	}
	return w
}

// waitEvent waits for the next event about name matching ok, past the
// first `from` events.
func (w *watchFixture) waitEvent(t *testing.T, from int, ok func(plugin.LoadEvent) bool) plugin.LoadEvent {
	t.Helper()
	var found plugin.LoadEvent
	hosttest.Eventually(t, "a load event", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, ev := range w.events[min(from, len(w.events)):] {
			if ok(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

func (w *watchFixture) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

func loadedVersion(n uint64) func(plugin.LoadEvent) bool {
	return func(ev plugin.LoadEvent) bool { return ev.Err == nil && ev.Version.Number == n && !ev.Unchanged }
}

// TestWatchDir drives the plugins directory like an operator: drop a file
// in, replace it, break it, touch it, change its manifest, delete it.
func TestWatchDir(t *testing.T) {
	w := newWatchFixture(t)
	echo := readTestdata(t, "echo.wasm")
	path := filepath.Join(w.dir, "echo.wasm")

	writeAtomic(t, path, echo)
	w.waitEvent(t, 0, loadedVersion(1))
	c := w.Dial(t, "/ws/echo")
	c.Send("v1")
	c.Expect("v1")

	// Ignored names never load.
	for _, name := range []string{".echo.wasm.swp", "echo.wasm~", "Upper.wasm", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(w.dir, name), echo, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A broken file is refused; version 1 keeps serving.
	n := w.count()
	writeAtomic(t, path, []byte("\x00asm\x01\x00\x00\x00garbage"))
	if ev := w.waitEvent(t, n, func(ev plugin.LoadEvent) bool { return ev.Err != nil }); ev.Version.Number != 1 {
		t.Fatalf("after a broken file, version %d serves, want 1", ev.Version.Number)
	}
	c.Send("still v1")
	c.Expect("still v1")

	// Written in place, in two steps: the debounce loads it once.
	n = w.count()
	v2 := withCustomSection(echo, "build", "2")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(v2[:len(v2)/2])
	f.Write(v2[len(v2)/2:])
	f.Close()
	w.waitEvent(t, n, loadedVersion(2))

	// The same content again is no reload.
	n = w.count()
	writeAtomic(t, path, v2)
	if ev := w.waitEvent(t, n, func(ev plugin.LoadEvent) bool { return ev.Name == "echo" }); !ev.Unchanged || ev.Version.Number != 2 {
		t.Fatalf("rewriting the same bytes: %+v, want unchanged version 2", ev)
	}

	// A manifest change reloads.
	n = w.count()
	writeAtomic(t, filepath.Join(w.dir, "echo.toml"), []byte("[config]\ncolour = \"blue\"\n"))
	w.waitEvent(t, n, loadedVersion(3))
	c.Send("v3")
	c.Expect("v3")

	// Deleting it stops new connections and closes open ones with 1001.
	n = w.count()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	w.waitEvent(t, n, func(ev plugin.LoadEvent) bool { return ev.Removed })
	c.ExpectClose(host.CloseGoingAway)
	if _, resp, err := w.TryDial("/ws/echo", nil); err == nil || resp == nil || resp.StatusCode != 404 {
		t.Fatalf("after delete: %v %v, want 404", resp, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ev := range w.events {
		if ev.Name != "echo" {
			t.Errorf("event for an ignored file: %+v", ev)
		}
	}
}

// TestReloadUnderLoad is ABI §3's reload guarantee: clients send numbered
// messages while the plugin file is replaced several times; no reply is
// lost, duplicated or reordered, and no connection drops.
func TestReloadUnderLoad(t *testing.T) {
	w := newWatchFixture(t)
	echo := readTestdata(t, "echo.wasm")
	path := filepath.Join(w.dir, "echo.wasm")
	writeAtomic(t, path, echo)
	w.waitEvent(t, 0, loadedVersion(1))

	const clients, reloads = 8, 5
	stop := pingPong(t, w.fixture, "/ws/echo", clients)
	for v := 2; v <= reloads+1; v++ {
		n := w.count()
		writeAtomic(t, path, withCustomSection(echo, "build", fmt.Sprint(v)))
		w.waitEvent(t, n, loadedVersion(uint64(v)))
	}
	t.Logf("messages per client across %d reloads: %v", reloads, stop())
}

// pingPong starts clients that each send numbered messages to path and
// expect every reply back, the same and in order, one at a time, until
// stop; any other reply fails the test. stop returns how many round trips
// each client made, and fails the test for a client that made none.
func pingPong(t *testing.T, f *fixture, path string, clients int) (stop func() []int) {
	t.Helper()
	quit := make(chan struct{})
	var wg sync.WaitGroup
	counts := make([]int, clients)
	for i := range clients {
		c := f.Dial(t, path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-quit:
					counts[i] = seq
					return
				default:
				}
				want := fmt.Sprintf("client %d message %d", i, seq)
				if err := c.WriteMessage(1, []byte(want)); err != nil {
					t.Errorf("client %d: send: %v", i, err)
					return
				}
				_ = c.SetReadDeadline(time.Now().Add(hosttest.Timeout))
				_, got, err := c.ReadMessage()
				if err != nil || string(got) != want {
					t.Errorf("client %d: got %q, %v; want %q", i, got, err, want)
					return
				}
			}
		}()
	}
	return func() []int {
		close(quit)
		wg.Wait()
		for i, n := range counts {
			if n == 0 {
				t.Errorf("client %d made no round trip", i)
			}
		}
		return counts
	}
}
