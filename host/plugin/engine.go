package plugin

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
)

// Options configures an Engine. The zero value works. A plain value, copied
// by NewEngine and NewPlugins.
type Options struct {
	// Logger receives the engine's logs. Nil: slog.Default().
	Logger *slog.Logger
	// Cache is shared by engines so a module is compiled once; with a
	// directory (wazero.NewCompilationCacheWithDir) restarts skip compiling
	// too. Nil: each version compiles on its own.
	Cache wazero.CompilationCache
	// OnLoad, if set, is told of every install, reload, refusal and
	// removal by Plugins (for metrics and tests). It must not block.
	OnLoad func(LoadEvent)
	// Observer, if set, is told of loads and of every callback call, for
	// metrics (see Observer). Nil: nothing is measured.
	Observer Observer
	// Fallback, if set, is asked for a plugin's content when its file is
	// deleted from the plugins directory: what it returns (a version
	// pushed to the cluster, say) is installed instead of the plugin being
	// removed. It must not block.
	Fallback func(name string) (wasm, manifest []byte, ok bool)
	// Precompile, if set and Cache is too, is called before each compile
	// with the module's bytes (already checked by wasmcheck and the ABI
	// check) to compile them into Cache out of this process, so that this
	// process only reads the result back (ChildCompiler.Precompile does it
	// in a child process). An error wrapping ErrPrecompileUnavailable makes
	// the engine compile in this process; any other refuses the module.
	// It must be safe for concurrent use and return when ctx ends. Nil:
	// modules compile in this process.
	Precompile func(ctx context.Context, wasm []byte) error

	// noDeadline compiles without interruption checks: a callback that
	// loops forever then hangs its goroutine. Only benchmarks set it
	// (export_test.go), to measure what the deadline costs.
	noDeadline bool
}

// LoadEvent reports what Plugins did with a plugin's files. A plain value.
type LoadEvent struct {
	Name      string
	Version   VersionInfo // the version serving afterwards (zero if none)
	Unchanged bool        // the content was what is serving: no reload
	Removed   bool        // the plugin stopped serving
	Err       error       // the new content was refused; the last good version serves
	// RolledBack: the version that was serving faulted in more than half
	// of its first calls and the last good version was loaded again
	// (Version); Err wraps ErrRolledBack and says why.
	RolledBack bool
}

// Engine runs one plugin: it implements host.Handler by calling the
// plugin's exports in the version currently serving. Load swaps in a new
// version without dropping an event: each event runs entirely in the version
// it started in. Safe for concurrent use.
type Engine struct {
	name       string
	log        *slog.Logger
	cache      wazero.CompilationCache
	noDeadline bool
	precompile func(ctx context.Context, wasm []byte) error // nil: none
	obs        Observer                                     // nil: no metrics
	instances  atomic.Int64                                 // started instances of every version not yet freed

	cur      atomic.Pointer[version]
	loadMu   sync.Mutex // serializes Load and Close
	versions uint64     // guarded by loadMu

	// onTrip, if set, is told (on the event path: it must not block) when
	// a version on probation faults too often; see probation.go.
	onTrip func(t trip)
}

// NewEngine returns an engine for the plugin name with no version loaded.
func NewEngine(name string, opts Options) *Engine {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Engine{name: name, log: log.With("plugin", name), cache: opts.Cache, noDeadline: opts.noDeadline, precompile: opts.Precompile, obs: opts.Observer}
}

// VersionInfo describes a loaded version. A plain value.
type VersionInfo struct {
	Number   uint64
	SHA256   string
	LoadedAt time.Time
	LoadTime time.Duration
}

func (v *version) info() VersionInfo {
	return VersionInfo{Number: v.number, SHA256: hex.EncodeToString(v.sha256[:]), LoadedAt: v.loadedAt, LoadTime: v.loadTime}
}

// Load compiles, validates and starts wasm with manifest m, then makes it
// the serving version; the previous one finishes its events in flight and is
// freed. On error the serving version is untouched.
func (e *Engine) Load(ctx context.Context, wasm []byte, m Manifest) (VersionInfo, error) {
	return e.load(ctx, wasm, m, false)
}

// load is Load; a version on probation has its first calls' faults counted
// (probation.go).
func (e *Engine) load(ctx context.Context, wasm []byte, m Manifest, probation bool) (VersionInfo, error) {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	v, err := e.compile(ctx, wasm, m)
	if err != nil {
		e.log.Warn("load failed; the last good version keeps serving", "err", err)
		return VersionInfo{}, err
	}
	v.probation = probation
	e.versions++
	v.number = e.versions
	if e.obs != nil {
		v.obs = e.obs.Version(e.name, v.number)
	}
	if old := e.cur.Swap(v); old != nil {
		old.retire()
	}
	info := v.info()
	e.log.Info("plugin loaded", "version", info.Number, "sha256", info.SHA256, "load_time", info.LoadTime)
	return info, nil
}

// Current describes the serving version; false when none is loaded.
func (e *Engine) Current() (VersionInfo, bool) {
	v := e.cur.Load()
	if v == nil {
		return VersionInfo{}, false
	}
	return v.info(), true
}

// Instances is the number of started instances, of the serving version and
// of replaced ones still finishing events.
func (e *Engine) Instances() int64 { return e.instances.Load() }

// Unload stops serving; events in flight finish first.
func (e *Engine) Unload() {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	if old := e.cur.Swap(nil); old != nil {
		old.retire()
	}
}

// acquire returns the serving version with a reference held, or nil.
func (e *Engine) acquire() *version {
	for {
		v := e.cur.Load()
		if v == nil || v.acquire() {
			return v
		}
		// v was retired after we loaded it: the pointer has moved on.
	}
}

// invoke runs one callback in an instance of the serving version. A missing
// optional export is a no-op returning def.
func (e *Engine) invoke(ctx context.Context, ex export, ep *host.Endpoint, id host.ConnID, payload []byte, def uint64, p1, p2 uint64) (uint64, error) {
	v := e.acquire()
	if v == nil {
		return 0, fmt.Errorf("plugin %s: %w", e.name, ErrNotLoaded)
	}
	defer v.release()
	var start time.Time
	if v.obs != nil {
		start = time.Now()
	}
	inst, err := v.get(ctx)
	if err != nil {
		err = fmt.Errorf("%w: %s: no instance: %w", ErrTrap, ex, err)
		if ctx.Err() == nil { // not the connection going away
			v.tally(ex, p1, err)
			if v.obs != nil {
				v.obs.Call(Callback(ex), time.Since(start), err)
			}
		}
		return 0, faultError{err}
	}
	if inst.fns[ex] == nil {
		v.put(inst, true)
		return def, nil
	}
	res, usable, err := inst.call(ex, ep, id, payload, p1, p2)
	v.put(inst, usable)
	v.tally(ex, p1, err)
	if v.obs != nil {
		v.obs.Call(Callback(ex), time.Since(start), err)
	}
	if err != nil {
		return 0, faultError{err}
	}
	return res, nil
}

// Open implements host.Handler: on_open's non-zero result rejects.
func (e *Engine) Open(ctx context.Context, ep *host.Endpoint, id host.ConnID) error {
	res, err := e.invoke(ctx, exOpen, ep, id, nil, 0, 0, 0)
	if err != nil {
		return err
	}
	if int32(res) != 0 {
		return fmt.Errorf("on_open returned %d: %w", int32(res), host.ErrRejected)
	}
	return nil
}

// Message implements host.Handler.
func (e *Engine) Message(ctx context.Context, ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
	res, err := e.invoke(ctx, exMessage, ep, id, msg, 0, uint64(len(msg)), messageFlags(binary))
	if err != nil {
		return err
	}
	if int32(res) != 0 {
		return fmt.Errorf("on_message returned %d", int32(res))
	}
	return nil
}

// Error implements host.Handler. A fault in on_error is logged, not reported again.
func (e *Engine) Error(ctx context.Context, ep *host.Endpoint, id host.ConnID, kind host.ErrorKind, text string) {
	payload := []byte(text)
	if _, err := e.invoke(ctx, exError, ep, id, payload, 0, uint64(kind), uint64(len(payload))); err != nil {
		e.log.Warn("on_error failed", "conn", id, "err", err)
	}
}

// Close implements host.Handler. A fault in on_close is logged.
func (e *Engine) Close(ctx context.Context, ep *host.Endpoint, id host.ConnID, code int, reason string) {
	payload := []byte(reason)
	if _, err := e.invoke(ctx, exClose, ep, id, payload, 0, uint64(uint32(int32(code))), uint64(len(payload))); err != nil {
		e.log.Warn("on_close failed", "conn", id, "err", err)
	}
}

// Warm starts instances of the serving version until n are ready (at most
// its instance limit), so the first events do not pay for instantiation.
func (e *Engine) Warm(ctx context.Context, n int) error {
	v := e.acquire()
	if v == nil {
		return fmt.Errorf("plugin %s: %w", e.name, ErrNotLoaded)
	}
	defer v.release()
	n = min(n, cap(v.pool))
	taken := make([]*instance, 0, n)
	defer func() {
		for _, inst := range taken {
			v.put(inst, true)
		}
	}()
	for range n {
		inst, err := v.get(ctx)
		if err != nil {
			return err
		}
		taken = append(taken, inst)
	}
	return nil
}

// InstanceMemory reports the serving version's started instances and the
// linear memory they hold, in bytes. It waits until every instance is idle.
func (e *Engine) InstanceMemory(ctx context.Context) (instances int, bytes uint64, err error) {
	v := e.acquire()
	if v == nil {
		return 0, 0, fmt.Errorf("plugin %s: %w", e.name, ErrNotLoaded)
	}
	defer v.release()
	slots := make([]*instance, 0, cap(v.pool))
	defer func() {
		for _, inst := range slots {
			v.pool <- inst
		}
	}()
	for range cap(v.pool) {
		select {
		case inst := <-v.pool:
			slots = append(slots, inst)
			if inst != nil {
				instances++
				bytes += uint64(inst.mod.Memory().Size())
			}
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
	}
	return instances, bytes, nil
}
