package plugin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wshost/wshost/host/abi"
	"github.com/wshost/wshost/host/plugin/internal/wasmcheck"
)

// initTimeout bounds _initialize of a new instance.
const initTimeout = 10 * time.Second

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
	rcfg := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(true).
		WithDebugInfoEnabled(false).
		WithMemoryLimitPages(lim.memoryPages)
	if e.cache != nil {
		rcfg = rcfg.WithCompilationCache(e.cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rcfg)
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
		_ = rt.Close(ctx)
		return nil, err
	}
	v.loadTime = time.Since(start)
	return v, nil
}

func (v *version) build(ctx context.Context, wasm []byte) error {
	compiled, err := v.runtime.CompileModule(ctx, wasm)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidModule, err)
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
