package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host/scripttest"
)

// runTest is `wshost test [flags] FILE.wasm SCRIPT...`.
func runTest(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("wshost test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cacheDir := fs.String("cache-dir", defaultCacheDir(), "keep the compiled plugin in `DIR` between runs; empty: don't")
	timeout := fs.Duration("timeout", 0, "how long each expect step waits (default 2s)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: wshost test [flags] FILE.wasm SCRIPT...\n\nReplays scripted sessions against the plugin in process, with no network.\nThe script language is documented in host/scripttest (go doc).")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usageErr(err)
	}
	if fs.NArg() < 2 {
		return usageErr(errors.New("test takes FILE.wasm and at least one SCRIPT"))
	}
	opts := scripttest.Options{Out: stdout, Timeout: *timeout}
	if *cacheDir != "" {
		if cache, err := wazero.NewCompilationCacheWithDir(*cacheDir); err == nil {
			opts.Cache = cache
			defer cache.Close(context.Background())
		}
	}
	failed := 0
	for _, script := range fs.Args()[1:] {
		fmt.Fprintf(stdout, "# %s\n", script)
		res, err := scripttest.RunFile(ctx, fs.Arg(0), script, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", script, err)
		}
		failed += res.Failed
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed: %w", failed, errProblems)
	}
	return nil
}
