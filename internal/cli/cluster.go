package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/wshost/wshost/host/cluster"
	"github.com/wshost/wshost/host/plugin"
)

func clusterOptions(c ClusterConfig, log *slog.Logger) cluster.Options {
	return cluster.Options{URL: c.NATS, Name: c.Name, Logger: log, Heartbeat: c.Heartbeat, Replicas: c.Replicas}
}

// joinCluster joins the cluster of cfg, or returns nil when none is
// configured, or when NATS is unreachable and the cluster is optional.
func joinCluster(ctx context.Context, cfg ClusterConfig, log *slog.Logger) (*cluster.Node, error) {
	if cfg.NATS == "" {
		return nil, nil
	}
	node, err := cluster.Join(ctx, clusterOptions(cfg, log))
	switch {
	case err == nil:
		return node, nil
	case cfg.Optional && errors.Is(err, cluster.ErrUnavailable):
		log.Warn("NATS is unreachable: running as a single node (cluster.optional)", "err", err)
		return nil, nil
	}
	return nil, fmt.Errorf("--nats: %w (start NATS with JetStream, e.g. nats-server -js, or set --nats-optional to run alone)", err)
}

// pushed keeps the versions pushed to the cluster, for a plugin whose local
// override is deleted. Safe for concurrent use.
type pushed struct {
	dir string // the plugins directory; "": none, so nothing overrides
	mu  sync.Mutex
	m   map[string]pushedVersion
}

type pushedVersion struct{ wasm, manifest []byte }

// fallback implements plugin.Options.Fallback.
func (p *pushed) fallback(name string) ([]byte, []byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[name]
	return v.wasm, v.manifest, ok
}

// installer returns the cluster.Installer of a node: a NAME.wasm in the
// plugins directory overrides what is pushed.
func (p *pushed) installer(plugins *plugin.Plugins) cluster.Installer {
	return func(ctx context.Context, name string, wasm, manifest []byte) (string, error) {
		p.mu.Lock()
		if p.m == nil {
			p.m = make(map[string]pushedVersion)
		}
		prev, had := p.m[name]
		p.m[name] = pushedVersion{wasm, manifest}
		p.mu.Unlock()
		if p.dir != "" {
			if _, err := os.Stat(filepath.Join(p.dir, name+".wasm")); err == nil {
				return cluster.StatusOverridden, nil
			}
		}
		if err := plugins.Install(ctx, name, wasm, manifest); err != nil {
			p.mu.Lock()
			if had {
				p.m[name] = prev
			} else {
				delete(p.m, name)
			}
			p.mu.Unlock()
			return "", err
		}
		return cluster.StatusLoaded, nil
	}
}
