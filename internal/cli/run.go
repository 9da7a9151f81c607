package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/host/webui"
	"github.com/wshost/wshost/plugins/examples"
)

// Main runs the command with args until ctx ends and returns the exit
// status: 0 after a clean shutdown, 1 on a failure, 2 on a usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
	srv := host.New(host.Config{
		Logger:       log,
		PingInterval: cfg.PingInterval,
		PongTimeout:  cfg.PongTimeout,
		Pages:        webui.Handler(),
		Compression:  host.Compression{Enabled: cfg.Compression},

		HandshakeTimeout:    cfg.HandshakeTimeout,
		AllowedOrigins:      cfg.AllowedOrigins,
		MaxConnections:      cfg.MaxConnections,
		MaxConnectionsPerIP: cfg.MaxConnectionsPerIP,
	})
	opts := plugin.Options{Logger: log}
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			log.Warn("compilation cache unavailable; compiling in memory", "dir", cfg.CacheDir, "err", err)
		} else {
			opts.Cache = cache
			defer cache.Close(context.Background())
		}
	}
	plugins := plugin.NewPlugins(srv, opts)
	defer plugins.Close()

	fmt.Fprintf(stdout, "wshost listening on http://%s/ (chat page at /, plugins at /ws/NAME)\n", ln.Addr())
	watchErr := make(chan error, 1)
	if cfg.PluginsDir == "" {
		if err := plugins.Install(ctx, "chat", examples.Chat(), nil); err != nil {
			_ = ln.Close()
			return fmt.Errorf("embedded chat plugin: %w", err)
		}
		srv.SetReady(true)
		close(watchErr)
	} else {
		go func() {
			watchErr <- plugins.WatchDir(ctx, cfg.PluginsDir, cfg.Debounce, func() { srv.SetReady(true) })
		}()
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
