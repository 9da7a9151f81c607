package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/admin"
	"github.com/wshost/wshost/host/metrics"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/host/webui"
	"github.com/wshost/wshost/plugins/examples"
	"github.com/wshost/wshost/plugins/examples/nativechat"
)

// Main runs the command with args until ctx ends and returns the exit
// status: 0 after a clean shutdown, 1 on a failure, 2 on a usage error.
// With a cache directory, plugins compile in a child process that runs
// this process's executable with the hidden subcommand
// plugin.CompileChildCommand, which Main dispatches: a test binary that
// calls Main must pass such arguments to Main from its TestMain.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == plugin.CompileChildCommand {
		// Hidden: the compile child of plugin.ChildCompiler.
		return plugin.RunCompileChild(ctx, args[1:], os.Stdin, stderr)
	}
	if len(args) > 0 {
		if sub, ok := subcommands()[args[0]]; ok {
			return exitCode(sub(ctx, args[1:], stdout, stderr), stderr)
		}
	}
	cfg, err := Parse(args, stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "wshost: %v\n", err)
		return 2
	}
	if err := Run(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "wshost: %v\n", err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// subcommand is one of wshost's tools; it returns nil, flag.ErrHelp, an
// error wrapping errUsage (exit 2) or errProblems (exit 1), or another
// failure (exit 1).
type subcommand func(ctx context.Context, args []string, stdout, stderr io.Writer) error

func subcommands() map[string]subcommand {
	return map[string]subcommand{
		"check": func(ctx context.Context, args []string, stdout, _ io.Writer) error {
			return runCheck(ctx, args, stdout)
		},
		"test": func(ctx context.Context, args []string, stdout, _ io.Writer) error {
			return runTest(ctx, args, stdout)
		},
		"plugin": func(ctx context.Context, args []string, stdout, _ io.Writer) error {
			return runPlugin(ctx, args, stdout)
		},
		"new": func(_ context.Context, args []string, stdout, _ io.Writer) error {
			return runNew(args, stdout)
		},
	}
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "wshost: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "wshost: %v\n", err)
		return 1
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run serves until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		certs, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, log)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("--tls-cert, --tls-key: %w (%w)", err, errUsage)
		}
		wctx, stopWatch := context.WithCancel(ctx)
		wait := certs.startWatch(wctx)
		defer func() { stopWatch(); wait() }()
		ln = tls.NewListener(ln, certs.tlsConfig())
		scheme = "https"
	}
	var m *metrics.Metrics
	routes := map[string]http.Handler{}
	if cfg.Metrics.Enabled {
		m = metrics.New()
		if cfg.Metrics.Addr == "" {
			routes["/metrics"] = m.Handler()
		}
	}
	node, err := joinCluster(ctx, cfg.Cluster, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	hcfg := host.Config{
		Routes:       routes,
		Logger:       log,
		PingInterval: cfg.PingInterval,
		PongTimeout:  cfg.PongTimeout,
		WriteTimeout: cfg.WriteTimeout,
		CloseTimeout: cfg.CloseTimeout,
		Pages:        webui.Handler(),
		Compression: host.Compression{
			Enabled:  cfg.Compression,
			Level:    cfg.CompressionLevel,
			MinBytes: cfg.CompressionMinBytes,
		},

		HandshakeTimeout:    cfg.HandshakeTimeout,
		AllowedOrigins:      cfg.AllowedOrigins,
		MaxConnections:      cfg.MaxConnections,
		MaxConnectionsPerIP: cfg.MaxConnectionsPerIP,
		TrustedProxies:      cfg.TrustedProxies,
	}
	pushed := &pushed{dir: cfg.PluginsDir}
	if node != nil {
		// Closed after the server shut down (deferred first, runs last):
		// the connections' Close events still reach the cluster.
		defer node.Close()
		hcfg.Cluster, hcfg.NodeID, hcfg.State = node, node.ID(), node.State()
	}
	srv := host.New(hcfg)
	opts := plugin.Options{Logger: log}
	if node != nil {
		opts.Fallback = pushed.fallback
	}
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			log.Warn("compilation cache unavailable; compiling in memory", "dir", cfg.CacheDir, "err", err)
		} else {
			opts.Cache = cache
			defer cache.Close(context.Background())
			if cfg.CompileChild {
				cc := &plugin.ChildCompiler{Args: []string{plugin.CompileChildCommand}, CacheDir: cfg.CacheDir, Logger: log}
				opts.Precompile = cc.Precompile
			}
		}
	}
	if m != nil {
		opts.Observer = m
	}
	plugins := plugin.NewPlugins(srv, opts)
	defer plugins.Close()
	if m != nil {
		m.Watch(srv, plugins)
		if node != nil {
			m.Registry().MustRegister(node.Collector())
		}
		if cfg.Metrics.Addr != "" {
			stop, err := serveMetrics(ctx, cfg.Metrics.Addr, m.Handler(), log)
			if err != nil {
				_ = ln.Close()
				return err
			}
			defer stop()
		}
	}
	if cfg.Admin.Token != "" {
		a, err := admin.New(cfg.Admin.Token, srv, plugins)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("admin.token: %w (%w)", err, errUsage)
		}
		if err := srv.Handle("/admin/", a); err != nil {
			_ = ln.Close()
			return err
		}
	}

	fmt.Fprintf(stdout, "wshost listening on %s://%s/ (chat page at /, plugins at /ws/NAME)\n", scheme, ln.Addr())
	watchErr := make(chan error, 1)
	if cfg.PluginsDir == "" {
		if err := serveBuiltinChat(ctx, cfg, srv, plugins); err != nil {
			_ = ln.Close()
			return err
		}
		srv.SetReady(true)
		close(watchErr)
	} else {
		go func() {
			watchErr <- plugins.WatchDir(ctx, cfg.PluginsDir, cfg.Debounce, func() { srv.SetReady(true) })
		}()
	}
	if node != nil {
		rolloutDone := make(chan struct{})
		rctx, stopRollout := context.WithCancel(ctx)
		go func() {
			defer close(rolloutDone)
			if err := node.WatchPlugins(rctx, pushed.installer(plugins)); err != nil {
				log.Error("cluster plugin roll-out stopped", "err", err)
			}
		}()
		defer func() { stopRollout(); <-rolloutDone }()
	}
	err = srv.Run(ctx, ln, cfg.ShutdownTimeout)
	if werr := <-watchErr; werr != nil {
		log.Error("plugin watcher stopped", "err", werr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("shut down")
	return nil
}

// serveMetrics serves /metrics on its own address until stop is called.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		<-done
	}, nil
}

// serveBuiltinChat serves the default chat at /ws/chat: the embedded Wasm
// plugin, or the same logic as a native handler (for benchmarks).
func serveBuiltinChat(ctx context.Context, cfg Config, srv *host.Server, plugins *plugin.Plugins) error {
	if cfg.BuiltinChat == "native" {
		if _, err := srv.Mount("chat", nativechat.Handler{}, host.Limits{}); err != nil {
			return fmt.Errorf("native chat: %w", err)
		}
		return nil
	}
	if err := plugins.Install(ctx, "chat", examples.Chat(), nil); err != nil {
		return fmt.Errorf("embedded chat plugin: %w", err)
	}
	return nil
}
