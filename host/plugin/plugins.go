package plugin

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"

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

	mu     sync.Mutex
	served map[string]*served
}

// served is one plugin name: its engine, endpoint and the content serving.
// mu guards ep and hash.
type served struct {
	engine *Engine
	mu     sync.Mutex // serializes installs of this name
	ep     *host.Endpoint
	hash   [sha256.Size]byte
}

// NewPlugins returns an empty set serving on srv.
func NewPlugins(srv *host.Server, opts Options) *Plugins {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Plugins{srv: srv, opts: opts, log: opts.Logger, served: make(map[string]*served)}
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
		p.served[name] = s
	}
	s.mu.Lock()
	p.mu.Unlock()
	defer s.mu.Unlock()

	if s.ep != nil && s.hash == hash {
		p.report(LoadEvent{Name: name, Version: current(s.engine), Unchanged: true})
		return nil
	}
	err = s.install(ctx, p.srv, name, wasm, m, hash)
	if err != nil {
		err = fmt.Errorf("plugin %s: %w", name, err)
	}
	p.report(LoadEvent{Name: name, Version: current(s.engine), Err: err})
	return err
}

// install loads a new version and mounts or updates the endpoint. s.mu held.
func (s *served) install(ctx context.Context, srv *host.Server, name string, wasm []byte, m Manifest, hash [sha256.Size]byte) error {
	if _, err := s.engine.Load(ctx, wasm, m); err != nil {
		return err
	}
	s.hash = hash
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
	p.mu.Unlock()
	for _, s := range all {
		s.engine.Unload()
	}
}
