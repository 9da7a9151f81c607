package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wshost/wshost/host/plugin"
)

// errProblems marks a command that ran but found problems: exit status 1.
var errProblems = errors.New("problems found")

// runCheck is `wshost check [--manifest NAME.toml] FILE.wasm`.
func runCheck(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("wshost check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	manifestPath := fs.String("manifest", "", "read limits from `NAME.toml` (default: FILE's own NAME.toml beside it, if any)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: wshost check [--manifest NAME.toml] FILE.wasm\n\nValidates a plugin against ABI v1 and prints its exports, imports, memory and every problem.")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usageErr(err)
	}
	if fs.NArg() != 1 {
		return usageErr(errors.New("check takes one FILE.wasm"))
	}
	file := fs.Arg(0)
	wasm, err := os.ReadFile(file)
	if err != nil {
		return usageErr(err)
	}
	m, err := readManifest(*manifestPath, file)
	if err != nil {
		return err
	}
	r := plugin.Inspect(ctx, wasm, m)
	printReport(stdout, file, r)
	if !r.OK() {
		return fmt.Errorf("%s: %d problem(s): %w", file, len(r.Problems), errProblems)
	}
	return nil
}

// readManifest reads path, or FILE's NAME.toml when path is "" and it exists.
func readManifest(path, wasmFile string) (plugin.Manifest, error) {
	_, m, err := readManifestBytes(path, wasmFile)
	return m, err
}

// readManifestBytes is readManifest that also returns the file's bytes
// (nil when there is none).
func readManifestBytes(path, wasmFile string) ([]byte, plugin.Manifest, error) {
	explicit := path != ""
	if !explicit {
		path = strings.TrimSuffix(wasmFile, ".wasm") + ".toml"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return nil, plugin.Manifest{}, nil
		}
		return nil, plugin.Manifest{}, usageErr(err)
	}
	m, err := plugin.ParseManifest(data)
	if err != nil {
		return nil, plugin.Manifest{}, fmt.Errorf("%s: %w", path, err)
	}
	return data, m, nil
}

func printReport(w io.Writer, file string, r *plugin.Report) {
	verdict := "follows ABI v1"
	if !r.OK() {
		verdict = "does NOT follow ABI v1"
	}
	fmt.Fprintf(w, "%s: %d bytes, %s\n", file, r.Size, verdict)
	section := func(title string, syms []plugin.Symbol) {
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(syms))
		for _, s := range syms {
			desc := s.Kind
			if s.Signature != "" {
				desc += " " + s.Signature
			}
			fmt.Fprintf(w, "  %-40s %s\n", s.Name, desc)
		}
	}
	section("exports", r.Exports)
	section("imports", r.Imports)
	fmt.Fprintf(w, "\nmemory: %s\n", r.Memory)
	if r.OK() {
		fmt.Fprintln(w, "\nproblems: none")
		return
	}
	fmt.Fprintf(w, "\nproblems (%d):\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}
