package soak_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wshost/wshost/internal/soak"
)

var (
	long     = flag.Bool("soak.long", false, "run the long soak (make soak): thousands of connections for minutes")
	conns    = flag.Int("soak.conns", 0, "override the number of connections")
	duration = flag.Duration("soak.duration", 0, "override how long the load lasts")
)

// TestSoak runs the short soak, or with -soak.long the long one, and prints
// its figures (go test -v).
func TestSoak(t *testing.T) {
	cfg := soak.Short()
	if *long {
		cfg = soak.Long()
		cfg.Progress = t.Logf
	}
	if *conns > 0 {
		cfg.Conns = *conns
	}
	if *duration > 0 {
		cfg.Duration = *duration
	}
	wasm, err := os.ReadFile(filepath.Join("testdata", "broadcast.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Wasm = wasm
	rep, err := soak.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestPluginIsFresh rebuilds testdata/broadcast.wasm from its WAT and checks
// the committed bytes match.
func TestPluginIsFresh(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Fatal("wat2wasm not found: install Debian's wabt (make deps)")
	}
	out := filepath.Join(t.TempDir(), "broadcast.wasm")
	if msg, err := exec.Command("wat2wasm", filepath.Join("testdata", "broadcast.wat"), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, msg)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("testdata", "broadcast.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Error("testdata/broadcast.wasm is stale: run `wat2wasm testdata/broadcast.wat -o testdata/broadcast.wasm`")
	}
}
