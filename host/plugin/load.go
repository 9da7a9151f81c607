package plugin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wshost/wshost/host/abi"
	"github.com/wshost/wshost/host/plugin/internal/wasmcheck"
)

const (
	// initTimeout bounds _initialize of a new instance.
	initTimeout = 10 * time.Second
	// compileTimeout bounds compiling one module: function bodies can be
	// crafted to compile slowly, and a reload must not hang the watcher.
	compileTimeout = 60 * time.Second
)

// compile checks, compiles and validates wasm, and starts its first
// instance: a version ready to serve. Nothing of it is shared with the
// serving version, so it runs off the event path.
func (e *Engine) compile(ctx context.Context, wasm []byte, m Manifest) (*version, error) {
	start := time.Now()
	lim := m.engineLimits()
	sum, err := wasmcheck.Check(wasm, wasmcheck.Limits{MaxMemoryPages: lim.memoryPages})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	if err := abiError(CheckABI(sum)); err != nil {
		return nil, err
	}
	cache := usableCache(e.cache)
	if cache != nil && e.precompile != nil && !e.noDeadline {
		if err := e.precompileModule(ctx, wasm); err != nil {
			return nil, err
		}
	}
	v, err := e.newVersion(ctx, wasm, m, lim, cache, start)
	if err != nil && cache != nil && isCacheFault(err) {
		// The cache directory cannot be read or written (gone, not a
		// directory, full, read-only): compile without it from now on.
		brokenCache(cache, e.log, err)
		v, err = e.newVersion(ctx, wasm, m, lim, nil, start)
	}
	if err != nil {
		return nil, err
	}
	v.loadTime = time.Since(start)
	return v, nil
}

// precompileModule has Options.Precompile compile wasm into the cache, so
// that the compile that follows in this process reads it from there. A
// precompiler that is unavailable leaves the compile to this process; any
// other error refuses the module.
func (e *Engine) precompileModule(ctx context.Context, wasm []byte) error {
	start := time.Now()
	err := e.precompile(ctx, wasm)
	switch {
	case err == nil:
		e.log.Debug("module compiled by the precompiler", "compile_time", time.Since(start))
		return nil
	case errors.Is(err, ErrPrecompileUnavailable):
		e.log.Debug("precompiler unavailable; compiling in this process", "err", err)
		return nil
	default:
		return err
	}
}

// newVersion compiles wasm in a runtime of its own, with cache if not nil.
func (e *Engine) newVersion(ctx context.Context, wasm []byte, m Manifest, lim engineLimits, cache wazero.CompilationCache, start time.Time) (*version, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, runtimeConfig(lim.memoryPages, !e.noDeadline, cache))
	v := &version{
		engine:   e,
		sha256:   sha256.Sum256(wasm),
		limits:   lim,
		config:   m.Config,
		runtime:  rt,
		pool:     make(chan *instance, lim.instances),
		loadedAt: start,
	}
	if err := v.build(ctx, wasm); err != nil {
		if !errors.Is(err, errAbandoned) {
			_ = rt.Close(ctx)
		}
		return nil, err
	}
	return v, nil
}

// runtimeConfig is the configuration of every plugin runtime, and of the
// compile child's (compilechild.go): wazero keys its compilation cache on
// the module's bytes and on deadline (the interruption checks compiled in),
// so the child and the serving process must build it alike to share cached
// code. memoryPages does not change the code; cache may be nil.
func runtimeConfig(memoryPages uint32, deadline bool, cache wazero.CompilationCache) wazero.RuntimeConfig {
	rcfg := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(deadline).
		WithDebugInfoEnabled(false).
		WithMemoryLimitPages(memoryPages)
	if cache != nil {
		rcfg = rcfg.WithCompilationCache(cache)
	}
	return rcfg
}

// brokenCaches holds the compilation caches whose directory failed: they
// are not used again by this process (one warning each, not one per load).
var brokenCaches sync.Map // wazero.CompilationCache -> struct{}

func usableCache(c wazero.CompilationCache) wazero.CompilationCache {
	if c == nil {
		return nil
	}
	if _, broken := brokenCaches.Load(c); broken {
		return nil
	}
	return c
}

func brokenCache(c wazero.CompilationCache, log *slog.Logger, err error) {
	if _, already := brokenCaches.LoadOrStore(c, struct{}{}); !already {
		log.Error("compilation cache directory unusable; compiling without it until restart", "err", err)
	}
}

// isCacheFault reports whether a compile failed on the file system, which
// only wazero's file cache touches while compiling.
func isCacheFault(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	return errors.As(err, &pe) || errors.As(err, &le)
}

func (v *version) build(ctx context.Context, wasm []byte) error {
	compiled, err := compileBounded(ctx, v.runtime, wasm)
	if err != nil {
		return err
	}
	v.compiled = compiled
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, v.runtime); err != nil {
		return fmt.Errorf("wasi: %w", err)
	}
	if err := instantiateHostModule(ctx, v.runtime); err != nil {
		return fmt.Errorf("host module: %w", err)
	}
	first, err := v.instantiate(ctx)
	if err != nil {
		return err
	}
	v.pool <- first
	for range cap(v.pool) - 1 {
		v.pool <- nil
	}
	return nil
}

// instantiate starts one instance and runs its _initialize.
func (v *version) instantiate(ctx context.Context) (*instance, error) {
	ictx, cancel := context.WithCancel(context.Background())
	inst := &instance{v: v, cancel: cancel}
	inst.ctx = context.WithValue(ictx, instanceKey{}, inst)
	inst.timer = time.AfterFunc(time.Hour, cancel)
	inst.timer.Stop()

	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		WithStdout(io.Discard).
		WithStderr(&stderrLog{log: v.engine.log, version: v.number})
	initCtx, stop := context.WithTimeout(experimental.WithMemoryAllocator(inst.ctx, memoryAllocator()), initTimeout)
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-initCtx.Done():
		}
	}()
	mod, err := v.runtime.InstantiateModule(initCtx, v.compiled, cfg)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: instantiate: %w", ErrInvalidModule, err)
	}
	inst.mod = mod
	v.engine.instances.Add(1) // inst.close takes it back
	if init := mod.ExportedFunction(abi.ExportInitialize); init != nil {
		if _, err := init.Call(initCtx); err != nil {
			inst.close()
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidModule, abi.ExportInitialize, err)
		}
	}
	for ex := range exportCount {
		inst.fns[ex] = mod.ExportedFunction(ex.String())
	}
	return inst, nil
}

// errAbandoned marks a compile given up on: it finishes in the background,
// which then closes the runtime.
var errAbandoned = errors.New("compile abandoned")

// compileBounded compiles wasm, giving up after compileTimeout or when ctx
// ends. wazero cannot stop a compile midway, so one given up on finishes in
// the background and then closes rt.
func compileBounded(ctx context.Context, rt wazero.Runtime, wasm []byte) (wazero.CompiledModule, error) {
	type result struct {
		m   wazero.CompiledModule
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := rt.CompileModule(ctx, wasm)
		done <- result{m, err}
	}()
	t := time.NewTimer(compileTimeout)
	defer t.Stop()
	var err error
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidModule, r.err)
		}
		return r.m, nil
	case <-t.C:
		err = fmt.Errorf("%w: compiling took longer than %s (%w)", ErrInvalidModule, compileTimeout, errAbandoned)
	case <-ctx.Done():
		err = fmt.Errorf("compile: %w (%w)", ctx.Err(), errAbandoned)
	}
	go func() {
		<-done
		_ = rt.Close(context.Background())
	}()
	return nil, err
}
