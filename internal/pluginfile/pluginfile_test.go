package pluginfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/internal/pluginfile"
)

func TestWithCustomSectionStillCompiles(t *testing.T) {
	wasm, err := os.ReadFile("../../host/plugin/testdata/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	v2 := pluginfile.WithCustomSection(wasm, "build", string(bytes.Repeat([]byte("x"), 200)))
	if bytes.Equal(v2, wasm) || !bytes.HasPrefix(v2, wasm) {
		t.Fatal("want the module with a section appended")
	}
	rt := wazero.NewRuntime(t.Context())
	defer rt.Close(t.Context())
	if _, err := rt.CompileModule(t.Context(), v2); err != nil {
		t.Fatalf("the new version does not compile: %v", err)
	}
}

func TestWriteAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.wasm")
	for _, data := range []string{"one", "two"} {
		if err := pluginfile.WriteAtomic(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != data {
			t.Fatalf("got %q, want %q", got, data)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}
