package scaffold_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wshost/wshost/internal/scaffold"
)

// TestEveryTemplatePassesItsOwnTest scaffolds a project in each language
// and runs its `make test`: it builds NAME.wasm and replays NAME.session
// against it with `wshost test`.
func TestEveryTemplatePassesItsOwnTest(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range scaffold.Languages() {
		t.Run(lang, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-plugin")
			if err := scaffold.Create(dir, lang, "my-plugin", root); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("make", "test")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make test: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "my-plugin.wasm")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCreateRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		dir, lang, name string
		want            error
	}{
		{filepath.Join(dir, "a"), "cobol", "a", scaffold.ErrLanguage},
		{filepath.Join(dir, "b"), "go", "Bad Name", scaffold.ErrName},
		{dir, "go", "c", scaffold.ErrExists},
	} {
		if err := scaffold.Create(tc.dir, tc.lang, tc.name, "."); !errors.Is(err, tc.want) {
			t.Errorf("Create(%s, %s, %s): %v, want %v", tc.dir, tc.lang, tc.name, err, tc.want)
		}
	}
}
