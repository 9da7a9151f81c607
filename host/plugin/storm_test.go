package plugin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wshost/wshost/host/plugin"
)

// TestReloadStorm: one plugin file is rewritten hundreds of times a second
// for two seconds — good builds, garbage, files truncated mid-write — with
// pauses just past the debounce so that reloads happen during the storm.
// Clients keep sending throughout and get every reply, in order; the last
// good build serves at the end. (No goroutine may leak: TestMain checks.)
func TestReloadStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("storm takes seconds")
	}
	w := newWatchFixture(t)
	echo := readTestdata(t, "echo.wasm")
	path := filepath.Join(w.dir, "echo.wasm")
	writeAtomic(t, path, echo)
	w.waitEvent(t, 0, loadedVersion(1))

	const clients = 4
	stop := pingPong(t, w.fixture, "/ws/echo", clients)

	writes := 0
	inPlace := func(b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		good := withCustomSection(echo, "build", fmt.Sprint(writes))
		switch writes % 5 {
		case 0:
			writeAtomic(t, path, good)
		case 1:
			writeAtomic(t, path, []byte("\x00asm\x01\x00\x00\x00garbage"))
		case 2:
			inPlace(good[:len(good)/2]) // truncated mid-write
		case 3:
			inPlace(good)
		case 4:
			inPlace(nil)
		}
		writes++
		if writes%23 == 0 {
			time.Sleep(30 * time.Millisecond) // past the debounce: a reload
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	final := withCustomSection(echo, "build", "final")
	n := w.count()
	writeAtomic(t, path, final)
	w.waitEvent(t, n, func(ev plugin.LoadEvent) bool { return ev.Err == nil && ev.Version.SHA256 == sha(final) })
	time.Sleep(50 * time.Millisecond) // clients talk to the final version too
	counts := stop()

	w.mu.Lock()
	var loaded, refused int
	for _, ev := range w.events {
		switch {
		case ev.Err != nil:
			refused++
		case !ev.Unchanged && !ev.Removed:
			loaded++
		}
		if ev.Removed {
			t.Errorf("the plugin was removed during the storm: %+v", ev)
		}
	}
	w.mu.Unlock()
	if v, _ := w.plugins.Engine("echo").Current(); v.SHA256 != sha(final) {
		t.Errorf("version %d serves %s, want the final build", v.Number, v.SHA256)
	}
	t.Logf("%d writes in %v (%.0f/s): %d versions loaded, %d refused; replies per client %v",
		writes, elapsed.Round(time.Millisecond), float64(writes)/elapsed.Seconds(), loaded, refused, counts)
}
