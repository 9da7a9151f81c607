package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wshost/wshost/host"
)

// Plugins keeps one Engine per plugin name mounted on a host.Server.
// Safe for concurrent use.
//
// Lock order: Plugins.mu, then a served plugin's mu (never the reverse).
type Plugins struct {
	srv  *host.Server
	opts Options
	log  *slog.Logger

	ctx    context.Context // ends at Close: background rollbacks stop
	cancel context.CancelFunc
	bg     sync.WaitGroup // background rollbacks; Add under mu while !closed

	rollbacks atomic.Uint64

	mu     sync.Mutex
	served map[string]*served
	closed bool

	// errMu guards errs. It is taken after mu or a served plugin's mu, and
	// nothing is taken while it is held.
	errMu sync.Mutex
	errs  map[string]loadError // the last refusal of each name
}

// served is one plugin name: its engine, endpoint and the content serving.
// mu guards ep, hash, cur, good and refused.
type served struct {
	engine *Engine
	mu     sync.Mutex // serializes installs of this name
	ep     *host.Endpoint
	hash   [sha256.Size]byte

	cur     *content            // what is serving
	good    *content            // what a reload on probation rolls back to
	refused [][sha256.Size]byte // rolled-back contents, refused if they arrive again
	tripped atomic.Uint64       // the last version number that tripped

	rollbacks atomic.Uint64 // automatic rollbacks of this name
}

// NewPlugins returns an empty set serving on srv.
func NewPlugins(srv *host.Server, opts Options) *Plugins {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Plugins{srv: srv, opts: opts, log: opts.Logger, served: make(map[string]*served), errs: make(map[string]loadError), ctx: ctx, cancel: cancel}
}

// Install serves wasm, with the manifest's TOML (nil: none), at /ws/name.
// Content identical to what is serving is no reload. On error the last good
// version, if any, keeps serving.
func (p *Plugins) Install(ctx context.Context, name string, wasm, manifest []byte) error {
	if !host.ValidName(name) {
		return fmt.Errorf("%w: plugin name %q must match [a-z0-9][a-z0-9_-]*", ErrInvalidModule, name)
	}
	m, err := ParseManifest(manifest)
	if err != nil {
		err = fmt.Errorf("plugin %s: %w", name, err)
		p.log.Warn("manifest refused; the last good version, if any, keeps serving", "err", err)
		p.report(LoadEvent{Name: name, Err: err})
		return err
	}
	h := sha256.New()
	h.Write(wasm)
	h.Write([]byte{0})
	h.Write(manifest)
	var hash [sha256.Size]byte
	h.Sum(hash[:0])

	p.mu.Lock()
	s := p.served[name]
	if s == nil {
		s = &served{engine: NewEngine(name, p.opts)}
		s.engine.onTrip = p.onTrip(s, name)
		p.served[name] = s
	}
	s.mu.Lock()
	p.mu.Unlock()
	defer s.mu.Unlock()

	if s.ep != nil && s.hash == hash {
		p.report(LoadEvent{Name: name, Version: current(s.engine), Unchanged: true})
		return nil
	}
	if s.isRefused(hash) {
		err = fmt.Errorf("plugin %s: %w: this content was rolled back for faulting; the last good version keeps serving", name, ErrRolledBack)
		p.log.Warn("plugin not reloaded", "err", err)
		p.report(LoadEvent{Name: name, Version: current(s.engine), Err: err})
		return err
	}
	// Kept (copied: the caller owns its slices) to roll back to later.
	c := &content{wasm: bytes.Clone(wasm), manifest: bytes.Clone(manifest), m: m, hash: hash}
	err = s.install(ctx, p.srv, name, c)
	if err != nil {
		err = fmt.Errorf("plugin %s: %w", name, err)
	}
	p.report(LoadEvent{Name: name, Version: current(s.engine), Err: err})
	return err
}

// install loads a new version and mounts or updates the endpoint. s.mu held.
// A reload is on probation, rolled back to the content it replaced (unless
// that one tripped itself) if it faults too often.
func (s *served) install(ctx context.Context, srv *host.Server, name string, c *content) error {
	good := s.good
	if s.cur != nil && s.tripped.Load() != s.cur.number {
		good = s.cur
	}
	info, err := s.engine.load(ctx, c.wasm, c.m, good != nil)
	if err != nil {
		return err
	}
	c.number = info.Number
	s.cur, s.good = c, good
	s.hash = c.hash
	m := c.m
	if s.ep != nil {
		return s.ep.SetLimits(m.HostLimits())
	}
	ep, err := srv.Mount(name, s.engine, m.HostLimits())
	if err != nil {
		return err
	}
	s.ep = ep
	return nil
}

func current(e *Engine) VersionInfo {
	v, _ := e.Current()
	return v
}

func (p *Plugins) report(ev LoadEvent) {
	if ev.Err != nil {
		p.errMu.Lock()
		p.errs[ev.Name] = loadError{err: ev.Err.Error(), at: time.Now()}
		p.errMu.Unlock()
	}
	if p.opts.Observer != nil {
		p.opts.Observer.Loaded(ev)
	}
	if p.opts.OnLoad != nil {
		p.opts.OnLoad(ev)
	}
}

// Remove stops serving name: new connections get 404, open ones are closed
// with 1001 and get their on_close, then the engine is freed.
func (p *Plugins) Remove(name string) {
	p.mu.Lock()
	s := p.served[name]
	delete(p.served, name)
	p.errMu.Lock()
	delete(p.errs, name)
	p.errMu.Unlock()
	p.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	drained := p.srv.Unmount(name)
	go func() {
		<-drained
		s.engine.Unload()
	}()
	p.log.Info("plugin removed", "plugin", name)
	p.report(LoadEvent{Name: name, Removed: true})
}

// Engine returns the engine of name, or nil.
func (p *Plugins) Engine(name string) *Engine {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.served[name]; s != nil {
		return s.engine
	}
	return nil
}

// Names lists the plugins installed.
func (p *Plugins) Names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.served))
	for n := range p.served {
		names = append(names, n)
	}
	return names
}

// Close frees every engine. Call it after the server shut down.
func (p *Plugins) Close() {
	p.mu.Lock()
	all := p.served
	p.served = make(map[string]*served)
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.bg.Wait()
	for _, s := range all {
		s.engine.Unload()
	}
}
