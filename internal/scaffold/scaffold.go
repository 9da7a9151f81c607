package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/wshost/wshost/host"
)

// Sentinel errors of Create.
var (
	ErrLanguage = errors.New("scaffold: unknown language")
	ErrName     = errors.New("scaffold: invalid plugin name")
	ErrExists   = errors.New("scaffold: directory exists")
)

//go:embed all:templates
var templates embed.FS

// Languages lists the languages Create knows.
func Languages() []string {
	entries, _ := fs.ReadDir(templates, "templates")
	var langs []string
	for _, e := range entries {
		langs = append(langs, e.Name())
	}
	slices.Sort(langs)
	return langs
}

// Params fill the templates. A plain value.
type Params struct {
	Name  string // the plugin's name: NAME.wasm, served at /ws/NAME
	Ident string // Name as an identifier: '-' becomes '_'
	Root  string // absolute path of the wshost checkout (for the SDKs)
}

// Create writes the project for lang into dir (which must not exist),
// for the plugin name, with the wshost checkout at root.
func Create(dir, lang, name, root string) error {
	if !slices.Contains(Languages(), lang) {
		return fmt.Errorf("%w %q: want one of %s", ErrLanguage, lang, strings.Join(Languages(), ", "))
	}
	if !host.ValidName(name) {
		return fmt.Errorf("%w %q: use [a-z0-9][a-z0-9_-]*", ErrName, name)
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	p := Params{Name: name, Ident: strings.ReplaceAll(name, "-", "_"), Root: absRoot}
	base := path.Join("templates", lang)
	return fs.WalkDir(templates, base, func(src string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(src, base), "/")
		dst := filepath.Join(dir, strings.ReplaceAll(strings.TrimSuffix(rel, ".tmpl"), "NAME", name))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		text, err := templates.ReadFile(src)
		if err != nil {
			return err
		}
		t, err := template.New(rel).Delims("[[", "]]").Parse(string(text))
		if err != nil {
			return fmt.Errorf("scaffold: template %s: %w", src, err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, p); err != nil {
			return fmt.Errorf("scaffold: template %s: %w", src, err)
		}
		return os.WriteFile(dst, out.Bytes(), 0o644)
	})
}

// FindRoot walks up from dir to the wshost checkout (the directory holding
// sdk/ABI.md), or returns "".
func FindRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "sdk", "ABI.md")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
