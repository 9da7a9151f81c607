package plugin

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host/plugin/internal/wasmcheck"
)

// CompileChildCommand is the hidden subcommand of wshost that runs
// RunCompileChild: ChildCompiler starts the executable with it.
const CompileChildCommand = "internal-compile"

// Exit statuses of the compile child, read by ChildCompiler. A Go runtime
// crash exits 2 and a signal kills with none.
const (
	childExitOK      = 0
	childExitRefused = 3 // the module does not compile; stderr says why in one line
	childExitCache   = 4 // the cache directory cannot be used
	childExitUsage   = 5 // bad arguments: a ChildCompiler of another build?
)

// maxChildModuleBytes bounds what the child reads: wasmcheck's default
// MaxFileBytes, which the serving process checked already.
const maxChildModuleBytes = 64 << 20

// RunCompileChild is the compile child's main, for CompileChildCommand
// (and for tests that re-execute their binary). It reads one module from
// stdin, compiles it with the serving process's runtime configuration
// (runtimeConfig) into the compilation cache in the directory of
// --cache-dir, and returns the exit status; errors go to stderr. It lowers
// its own scheduling priority first, and with --memory-limit BYTES sets the
// Go runtime's soft memory limit to three quarters of the hard one
// (RLIMIT_AS) that ChildCompiler applies, so garbage is collected before
// the hard limit is reached.
func RunCompileChild(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	fs := flag.NewFlagSet(CompileChildCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("cache-dir", "", "the compilation cache directory")
	limit := fs.Int64("memory-limit", 0, "the hard memory limit applied by the parent, in bytes (0: none)")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "%s: usage: %s --cache-dir DIR [--memory-limit BYTES] <module.wasm\n", CompileChildCommand, CompileChildCommand)
		return childExitUsage
	}
	lowerPriority()
	if *limit > 0 {
		debug.SetMemoryLimit(*limit / 4 * 3)
	}
	status, err := compileChild(ctx, *dir, stdin)
	if err != nil {
		// One line: ChildCompiler quotes it in the load error.
		fmt.Fprintln(stderr, strings.Join(strings.Fields(err.Error()), " "))
	}
	return status
}

// compileChild is RunCompileChild once the arguments are read.
func compileChild(ctx context.Context, dir string, stdin io.Reader) (int, error) {
	wasm, err := io.ReadAll(io.LimitReader(stdin, maxChildModuleBytes+1))
	if err != nil {
		return childExitUsage, fmt.Errorf("read module: %w", err)
	}
	if len(wasm) > maxChildModuleBytes {
		return childExitRefused, fmt.Errorf("module larger than %d bytes", maxChildModuleBytes)
	}
	// The parent checked with its manifest's memory limit; the decoder's
	// protection is what matters here, not the limit.
	if _, err := wasmcheck.Check(wasm, wasmcheck.Limits{MaxMemoryPages: 65536}); err != nil {
		return childExitRefused, err
	}
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return childExitCache, fmt.Errorf("compilation cache: %w", err)
	}
	defer cache.Close(ctx)
	rt := wazero.NewRuntimeWithConfig(ctx, runtimeConfig(DefaultMemoryBytes/65536, true, cache))
	defer rt.Close(ctx)
	compiled, err := rt.CompileModule(ctx, wasm)
	switch {
	case err != nil && isCacheFault(err):
		return childExitCache, fmt.Errorf("compilation cache: %w", err)
	case err != nil:
		return childExitRefused, err
	}
	_ = compiled.Close(ctx)
	return childExitOK, nil
}
