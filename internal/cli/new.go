package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wshost/wshost/internal/scaffold"
)

// runNew is `wshost new --lang LANG [--root DIR] NAME`.
func runNew(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("wshost new", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	lang := fs.String("lang", "go", "the plugin's `LANGUAGE`: "+strings.Join(scaffold.Languages(), ", "))
	root := fs.String("root", "", "the wshost checkout whose SDKs the project uses (`DIR`; default: found above the current directory)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: wshost new [--lang LANGUAGE] [--root DIR] [PATH/]NAME\n\nWrites a plugin project in [PATH/]NAME: `make` builds NAME.wasm, `make test` replays NAME.session against it.")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usageErr(err)
	}
	if fs.NArg() != 1 {
		return usageErr(errors.New("new takes one [PATH/]NAME"))
	}
	dir := fs.Arg(0)
	name := filepath.Base(dir)
	if *root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if *root = scaffold.FindRoot(wd); *root == "" {
			return usageErr(errors.New("no wshost checkout above the current directory: pass --root DIR"))
		}
	}
	if err := scaffold.Create(dir, *lang, name, *root); err != nil {
		if errors.Is(err, scaffold.ErrLanguage) || errors.Is(err, scaffold.ErrName) || errors.Is(err, scaffold.ErrExists) {
			return usageErr(err)
		}
		return err
	}
	fmt.Fprintf(stdout, "created %s/ (%s): cd %s && make && make test\n", dir, *lang, dir)
	return nil
}
