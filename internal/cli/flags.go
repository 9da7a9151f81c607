package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wshost/wshost/host"
)

// Config is what the command line says. Parse fills it; Run uses it. A
// plain value.
type Config struct {
	Addr            string
	PluginsDir      string // "": serve the embedded chat plugin at /ws/chat
	CacheDir        string // "": compile in memory only
	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	ShutdownTimeout time.Duration
	PingInterval    time.Duration
	PongTimeout     time.Duration
	Debounce        time.Duration
	Compression     bool // offer permessage-deflate

	HandshakeTimeout    time.Duration
	AllowedOrigins      []string // besides the same origin; "*": any
	MaxConnections      int      // 0: unlimited
	MaxConnectionsPerIP int      // 0: unlimited
}

// errUsage marks command-line mistakes: exit status 2.
var errUsage = errors.New("see wshost --help")

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "wshost", "wazero")
}

// Parse reads the flags. --help prints the usage to out and returns flag.ErrHelp.
func Parse(args []string, out io.Writer) (Config, error) {
	cfg := Config{}
	fs := flag.NewFlagSet("wshost", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by the caller
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT`")
	fs.StringVar(&cfg.PluginsDir, "plugins", "", "serve and watch the plugins in `DIR` (NAME.wasm at /ws/NAME, manifest NAME.toml); without it, the embedded chat plugin is served at /ws/chat")
	fs.StringVar(&cfg.CacheDir, "cache-dir", defaultCacheDir(), "keep compiled plugins in `DIR` so restarts skip compiling; empty: don't")
	level := fs.String("log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log `FORMAT`: text or json")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, wait up to `DURATION` for connections to close")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", 20*time.Second, "ping idle clients every `DURATION`")
	fs.DurationVar(&cfg.PongTimeout, "pong-timeout", 20*time.Second, "drop a client silent for ping-interval plus `DURATION`")
	fs.DurationVar(&cfg.Debounce, "reload-debounce", 100*time.Millisecond, "reload a plugin once its files were quiet for `DURATION`")
	fs.BoolVar(&cfg.Compression, "compression", false, "compress messages with permessage-deflate (RFC 7692) for clients that offer it (messages of 256 bytes or more, flate level 1)")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", 10*time.Second, "drop a client that has not sent its request header within `DURATION`")
	origins := fs.String("allowed-origins", "", "let pages from these comma-separated `ORIGINS` (https://chat.example.com) connect besides the server's own; * allows any")
	fs.IntVar(&cfg.MaxConnections, "max-connections", 0, "serve at most `N` connections, answering 503 past it; 0: unlimited")
	fs.IntVar(&cfg.MaxConnectionsPerIP, "max-connections-per-ip", 0, "serve at most `N` connections per client address, answering 429 past it; 0: unlimited")
	fs.Usage = func() {}
	usage := func() {
		fs.SetOutput(out)
		fmt.Fprintf(out, "Usage: wshost [flags]\n       wshost check FILE.wasm         validate a plugin against ABI v1\n       wshost test FILE.wasm SCRIPT   replay a scripted session against a plugin\n       wshost new --lang LANG NAME    start a plugin project in ./NAME\n\nServes WebSocket chat logic written as WebAssembly plugins.\nGET / serves the chat page, /ws/NAME the plugin NAME, /healthz the health check.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return cfg, err
		}
		return cfg, usageErr(err)
	}
	if fs.NArg() > 0 {
		return cfg, usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, usageErr(fmt.Errorf("--log-level %q: want debug, info, warn or error", *level))
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, usageErr(fmt.Errorf("--log-format %q: want text or json", cfg.LogFormat))
	}
	for name, d := range map[string]time.Duration{
		"shutdown-timeout": cfg.ShutdownTimeout, "ping-interval": cfg.PingInterval,
		"pong-timeout": cfg.PongTimeout, "reload-debounce": cfg.Debounce,
		"handshake-timeout": cfg.HandshakeTimeout,
	} {
		if d <= 0 {
			return cfg, usageErr(fmt.Errorf("--%s must be positive", name))
		}
	}
	for name, n := range map[string]int{"max-connections": cfg.MaxConnections, "max-connections-per-ip": cfg.MaxConnectionsPerIP} {
		if n < 0 {
			return cfg, usageErr(fmt.Errorf("--%s must not be negative (0: unlimited)", name))
		}
	}
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if host.ValidateOrigins([]string{o}) != nil {
			return cfg, usageErr(fmt.Errorf("--allowed-origins: %q is not an origin: want SCHEME://HOST[:PORT] (https://chat.example.com) or *", o))
		}
		cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
	}
	if cfg.PluginsDir != "" {
		if _, err := os.ReadDir(cfg.PluginsDir); err != nil {
			return cfg, usageErr(fmt.Errorf("--plugins: %w", err))
		}
	}
	return cfg, nil
}

func usageErr(err error) error { return fmt.Errorf("%w (%w)", err, errUsage) }
