package plugin_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestdataIsFresh rebuilds every committed test plugin from its source
// (WAT with wat2wasm, the probe with go build) and checks the bytes match.
func TestTestdataIsFresh(t *testing.T) {
	wats, err := filepath.Glob("testdata/*.wat")
	if err != nil || len(wats) == 0 {
		t.Fatalf("no testdata/*.wat: %v", err)
	}
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Fatal("wat2wasm not found: install Debian's wabt (make deps)")
	}
	tmp := t.TempDir()
	for _, wat := range wats {
		name := strings.TrimSuffix(filepath.Base(wat), ".wat") + ".wasm"
		out := filepath.Join(tmp, name)
		if msg, err := exec.Command("wat2wasm", wat, "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm %s: %v\n%s", wat, err, msg)
		}
		compareFiles(t, out, filepath.Join("testdata", name))
	}

	out := filepath.Join(tmp, "probe.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-w", "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "probe")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build probe: %v\n%s", err, msg)
	}
	compareFiles(t, out, filepath.Join("testdata", "probe.wasm"))
}

func compareFiles(t *testing.T, built, committed string) {
	t.Helper()
	a, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s is stale: rebuilding its source gives other bytes; run `make plugins` and commit", committed)
	}
}
