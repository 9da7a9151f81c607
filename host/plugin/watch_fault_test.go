package plugin_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wshost/wshost/host/plugin"
)

// TestWatchDirVanishes: the plugins directory is renamed away, comes back,
// is deleted outright and comes back again. The plugin keeps serving
// throughout, connections stay open, and the watcher resumes.
func TestWatchDirVanishes(t *testing.T) {
	t.Cleanup(plugin.SetDirPollInterval(20 * time.Millisecond))
	w := newWatchFixture(t)
	echo := readTestdata(t, "echo.wasm")
	path := filepath.Join(w.dir, "echo.wasm")
	writeAtomic(t, path, echo)
	w.waitEvent(t, 0, loadedVersion(1))
	c := w.Dial(t, "/ws/echo")
	c.Send("v1")
	c.Expect("v1")

	version := uint64(1)
	for _, gone := range []func() error{
		func() error { return os.Rename(w.dir, w.dir+".old") },
		func() error { return os.RemoveAll(w.dir) },
	} {
		if err := gone(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // debounce and several polls
		c.Send("while gone")
		c.Expect("while gone")
		w.Dial(t, "/ws/echo").Close() // still mounted
		if v, _ := w.plugins.Engine("echo").Current(); v.Number != version {
			t.Fatalf("version %d serves while the directory is gone, want %d", v.Number, version)
		}

		// It comes back with a new build: loaded by the poll.
		n := w.count()
		version++
		if err := os.Mkdir(w.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeAtomic(t, path, withCustomSection(echo, "build", "back"+string(rune('0'+version))))
		w.waitEvent(t, n, loadedVersion(version))
		// And is watched again.
		n = w.count()
		version++
		writeAtomic(t, path, withCustomSection(echo, "build", "watched"+string(rune('0'+version))))
		w.waitEvent(t, n, loadedVersion(version))
		c.Send("back")
		c.Expect("back")
	}
	_ = os.RemoveAll(w.dir + ".old")
}
