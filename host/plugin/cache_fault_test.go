package plugin_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
)

// syncBuffer: see hosttest.SyncBuffer.
type syncBuffer = hosttest.SyncBuffer

// TestCompilationCacheFaults: a compilation cache whose directory cannot be
// read or written does not stop plugins from loading: the engine compiles
// without it, and says so once.
func TestCompilationCacheFaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		breakDir func(t *testing.T, versionDir string) // makes the cache's directory unusable
	}{
		{"not a directory", func(t *testing.T, dir string) {
			// Every read and write under it fails with ENOTDIR.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("a file"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"unwritable", func(t *testing.T, dir string) {
			// Reads miss, writes fail (EACCES even for root): what a full or
			// read-only file system does. chmod does not stop root.
			if st, err := os.Stat("/sys/kernel"); err != nil || !st.IsDir() {
				t.Skip("no /sys/kernel to stand for an unwritable directory")
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/sys/kernel", dir); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "cache")
			c, err := wazero.NewCompilationCacheWithDir(root)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close(context.Background()) })
			versionDirs, _ := filepath.Glob(filepath.Join(root, "wazero-*"))
			if len(versionDirs) != 1 {
				t.Fatalf("cache layout: %v", versionDirs)
			}
			tc.breakDir(t, versionDirs[0])

			logs := &syncBuffer{}
			log := slog.New(slog.NewTextHandler(logs, nil))
			srv := hosttest.NewServer(t, host.Config{Logger: testLogger()})
			p := plugin.NewPlugins(srv.Server, plugin.Options{Cache: c, Logger: log})
			t.Cleanup(p.Close)
			ctx := context.Background()
			echo := readTestdata(t, "echo.wasm")
			for i, wasm := range [][]byte{echo, withCustomSection(echo, "build", "2"), readTestdata(t, "trap.wasm")} {
				name := []string{"echo", "echo", "trap"}[i]
				if err := p.Install(ctx, name, wasm, nil); err != nil {
					t.Fatalf("install %d: %v", i, err)
				}
			}
			cl := srv.Dial(t, "/ws/echo")
			cl.Send("hello")
			cl.Expect("hello")
			if n := strings.Count(logs.String(), "compilation cache directory unusable"); n != 1 {
				t.Errorf("cache failure logged %d times, want once:\n%s", n, logs)
			}
		})
	}
}
