package cli

import (
	"compress/flate"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wshost/wshost/host"
)

// Config is what the configuration file, the environment and the command
// line say. Parse fills it; Run uses it. A plain value.
type Config struct {
	ConfigFile      string // the TOML file read, "" if none
	Addr            string
	PluginsDir      string // "": serve the embedded chat plugin at /ws/chat
	BuiltinChat     string // without PluginsDir: "wasm" (the embedded plugin) or "native" (the same chat in Go)
	CacheDir        string // "": compile in memory only
	CompileChild    bool   // with CacheDir: compile plugins in a child process
	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	ShutdownTimeout time.Duration
	PingInterval    time.Duration
	PongTimeout     time.Duration
	Debounce        time.Duration
	WriteTimeout    time.Duration
	CloseTimeout    time.Duration

	Compression         bool // offer permessage-deflate
	CompressionLevel    int  // flate level of sent messages
	CompressionMinBytes int  // smallest message sent compressed

	HandshakeTimeout    time.Duration
	AllowedOrigins      []string // besides the same origin; "*": any
	MaxConnections      int      // 0: unlimited
	MaxConnectionsPerIP int      // 0: unlimited

	TLSCert, TLSKey string         // both or neither: serve wss:// and https://
	TrustedProxies  []netip.Prefix // whose X-Forwarded-For / X-Real-IP is believed

	Metrics MetricsConfig
	Admin   AdminConfig
	Cluster ClusterConfig
}

// ClusterConfig is the [cluster] table.
type ClusterConfig struct {
	NATS      string        // NATS URL(s); "": a single node
	Name      string        // the cluster's name: subject and bucket prefix
	Optional  bool          // run as a single node when NATS is unreachable at start
	Replicas  int           // JetStream replicas of the state and plugin buckets
	Heartbeat time.Duration // how often nodes say they are alive
}

// MetricsConfig is the [metrics] table.
type MetricsConfig struct {
	Enabled bool   // serve /metrics (default true)
	Addr    string // "": on the main listener; else its own HOST:PORT
}

// AdminConfig is the [admin] table.
type AdminConfig struct {
	Token string // bearer token of the admin API; "": the API is off
}

// errUsage marks command-line and configuration mistakes: exit status 2.
var errUsage = errors.New("see wshost --help")

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "wshost", "wazero")
}

// kind is the TOML type a setting takes in the configuration file.
type kind int

const (
	kString kind = iota
	kDuration
	kInt
	kBool
	kList // an array of strings (or one comma-separated string)
)

// setting is one configuration key: TOML key, flag, WSHOST_ variable.
type setting struct {
	key   string // TOML key; a dot is a table: "tls.cert"
	flag  string // "": the key with . and _ as -
	def   string // the default as text
	arg   string // the value's name in --help
	usage string
	kind  kind
	set   func(c *Config, v string) error // v is validated here
}

func (s setting) flagName() string {
	if s.flag != "" {
		return s.flag
	}
	return strings.NewReplacer(".", "-", "_", "-").Replace(s.key)
}

func (s setting) envName() string {
	return "WSHOST_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

func durationSetting(key, def, usage string, field func(*Config) *time.Duration) setting {
	return setting{key: key, def: def, arg: "DURATION", usage: usage, kind: kDuration, set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration: want a number with a unit, like 20s or 500ms", v)
		}
		if d <= 0 {
			return fmt.Errorf("must be positive, not %q", v)
		}
		*field(c) = d
		return nil
	}}
}

func countSetting(key, usage string, field func(*Config) *int) setting {
	return setting{key: key, def: "0", arg: "N", usage: usage, kind: kInt, set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		if n < 0 {
			return fmt.Errorf("must not be negative (0: unlimited), not %d", n)
		}
		*field(c) = n
		return nil
	}}
}

func boolSetting(key, flagName, def, usage string, field func(*Config) *bool) setting {
	return setting{key: key, flag: flagName, def: def, usage: usage, kind: kBool, set: func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q: want true or false", v)
		}
		*field(c) = b
		return nil
	}}
}

func stringSetting(key, flagName, def, arg, usage string, field func(*Config) *string) setting {
	return setting{key: key, flag: flagName, def: def, arg: arg, usage: usage, kind: kString, set: func(c *Config, v string) error {
		*field(c) = v
		return nil
	}}
}

func listItems(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// settings lists every key, in the order of --help and README.md.
func settings() []setting {
	return []setting{
		{key: "addr", def: "127.0.0.1:8080", arg: "HOST:PORT", usage: "listen on `HOST:PORT`", set: func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("%q: want HOST:PORT, like 127.0.0.1:8080 or :443", v)
			}
			c.Addr = v
			return nil
		}},
		stringSetting("plugins", "", "", "DIR", "serve and watch the plugins in `DIR` (NAME.wasm at /ws/NAME, manifest NAME.toml); without it, the embedded chat plugin is served at /ws/chat", func(c *Config) *string { return &c.PluginsDir }),
		{key: "builtin_chat", def: "wasm", arg: "KIND", usage: "without plugins: serve the default chat as `KIND` wasm (the embedded plugin) or native (the same logic as a Go handler, the baseline of benchmarks)", set: func(c *Config, v string) error {
			if v != "wasm" && v != "native" {
				return fmt.Errorf("%q: want wasm or native", v)
			}
			c.BuiltinChat = v
			return nil
		}},
		stringSetting("cache_dir", "", defaultCacheDir(), "DIR", "keep compiled plugins in `DIR` so restarts skip compiling; empty: don't", func(c *Config) *string { return &c.CacheDir }),
		boolSetting("compile_child", "", "true", "with a cache dir, compile plugins in a child process that writes the cache, so compiling a large plugin does not stall the server's events", func(c *Config) *bool { return &c.CompileChild }),
		{key: "log_level", def: "info", arg: "LEVEL", usage: "log `LEVEL`: debug, info, warn or error", set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%q: want debug, info, warn or error", v)
			}
			return nil
		}},
		{key: "log_format", def: "text", arg: "FORMAT", usage: "log `FORMAT`: text or json", set: func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("%q: want text or json", v)
			}
			c.LogFormat = v
			return nil
		}},
		durationSetting("shutdown_timeout", "10s", "on SIGINT/SIGTERM, wait up to `DURATION` for connections to close", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		durationSetting("ping_interval", "20s", "ping idle clients every `DURATION`", func(c *Config) *time.Duration { return &c.PingInterval }),
		durationSetting("pong_timeout", "20s", "drop a client silent for ping-interval plus `DURATION`", func(c *Config) *time.Duration { return &c.PongTimeout }),
		durationSetting("reload_debounce", "100ms", "reload a plugin once its files were quiet for `DURATION`", func(c *Config) *time.Duration { return &c.Debounce }),
		durationSetting("handshake_timeout", "10s", "drop a client that has not sent its request header (and finished its TLS handshake) within `DURATION`", func(c *Config) *time.Duration { return &c.HandshakeTimeout }),
		durationSetting("write_timeout", "10s", "drop a client when one write to it takes longer than `DURATION`", func(c *Config) *time.Duration { return &c.WriteTimeout }),
		durationSetting("close_timeout", "2s", "after sending a close frame, wait up to `DURATION` for the client's before dropping it", func(c *Config) *time.Duration { return &c.CloseTimeout }),
		{key: "allowed_origins", arg: "ORIGINS", kind: kList, usage: "let pages from these comma-separated `ORIGINS` (https://chat.example.com) connect besides the server's own; * allows any", set: func(c *Config, v string) error {
			c.AllowedOrigins = nil
			for _, o := range listItems(v) {
				if host.ValidateOrigins([]string{o}) != nil {
					return fmt.Errorf("%q is not an origin: want SCHEME://HOST[:PORT] (https://chat.example.com) or *", o)
				}
				c.AllowedOrigins = append(c.AllowedOrigins, o)
			}
			return nil
		}},
		countSetting("max_connections", "serve at most `N` connections, answering 503 past it; 0: unlimited", func(c *Config) *int { return &c.MaxConnections }),
		countSetting("max_connections_per_ip", "serve at most `N` connections per client address, answering 429 past it; 0: unlimited", func(c *Config) *int { return &c.MaxConnectionsPerIP }),
		boolSetting("compression", "", "false", "compress messages with permessage-deflate (RFC 7692) for clients that offer it", func(c *Config) *bool { return &c.Compression }),
		{key: "compression_level", def: "1", arg: "LEVEL", kind: kInt, usage: "flate `LEVEL` of compressed messages: 1 (fastest) to 9 (smallest), or -2 (Huffman only)", set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || (n != flate.HuffmanOnly && (n < flate.BestSpeed || n > flate.BestCompression)) {
				return fmt.Errorf("%q: want 1 to 9, or -2 (Huffman only)", v)
			}
			c.CompressionLevel = n
			return nil
		}},
		{key: "compression_min_bytes", def: "256", arg: "N", kind: kInt, usage: "compress messages of `N` bytes or more; smaller ones are sent plain", set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("%q: want a positive number of bytes", v)
			}
			c.CompressionMinBytes = n
			return nil
		}},
		stringSetting("tls.cert", "", "", "FILE", "serve https:// and wss:// with the PEM certificate chain in `FILE` (with --tls-key); reloaded on SIGHUP and when the file changes", func(c *Config) *string { return &c.TLSCert }),
		stringSetting("tls.key", "", "", "FILE", "the PEM private key of --tls-cert in `FILE`", func(c *Config) *string { return &c.TLSKey }),
		{key: "trusted_proxies", arg: "CIDRS", kind: kList, usage: "believe the client address in X-Forwarded-For or X-Real-IP only from peers in these comma-separated `CIDRS` (127.0.0.1/32,10.0.0.0/8)", set: func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, s := range listItems(v) {
				p, err := netip.ParsePrefix(s)
				if err != nil {
					ip, ierr := netip.ParseAddr(s)
					if ierr != nil || ip.Zone() != "" {
						return fmt.Errorf("%q is not a CIDR prefix or IP address: want like 127.0.0.1/32 or 10.0.0.0/8", s)
					}
					p = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		}},
		boolSetting("metrics.enabled", "metrics", "true", "serve Prometheus metrics at /metrics", func(c *Config) *bool { return &c.Metrics.Enabled }),
		{key: "metrics.addr", arg: "HOST:PORT", usage: "serve /metrics on its own `HOST:PORT` instead of the main listener", set: func(c *Config, v string) error {
			if v != "" {
				if _, _, err := net.SplitHostPort(v); err != nil {
					return fmt.Errorf("%q: want HOST:PORT, like 127.0.0.1:9090, or empty for the main listener", v)
				}
			}
			c.Metrics.Addr = v
			return nil
		}},
		stringSetting("cluster.nats", "nats", "", "URL", "join the cluster whose NATS server (with JetStream) is at `URL` (nats://127.0.0.1:4222; several: comma-separated): rooms, sends, state and plugin roll-out span every node", func(c *Config) *string { return &c.Cluster.NATS }),
		{key: "cluster.name", def: "wshost", arg: "NAME", usage: "the cluster's `NAME`: its NATS subjects and JetStream buckets start with it, so clusters can share a NATS", set: func(c *Config, v string) error {
			if v == "" || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
				return fmt.Errorf("%q: want letters, digits, - and _", v)
			}
			c.Cluster.Name = v
			return nil
		}},
		boolSetting("cluster.optional", "nats-optional", "false", "when NATS cannot be reached at start, run as a single node instead of exiting", func(c *Config) *bool { return &c.Cluster.Optional }),
		{key: "cluster.replicas", def: "1", arg: "N", kind: kInt, usage: "keep `N` copies of the cluster's state and plugins in JetStream (1 for one NATS server, 3 for a NATS cluster)", set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 5 {
				return fmt.Errorf("%q: want 1 to 5", v)
			}
			c.Cluster.Replicas = n
			return nil
		}},
		durationSetting("cluster.heartbeat", "1s", "tell the other nodes every `DURATION` that this one lives; one silent for 5 of them is taken as gone", func(c *Config) *time.Duration { return &c.Cluster.Heartbeat }),
		stringSetting("admin.token", "", "", "TOKEN", "serve the admin API under /admin/, to requests with 'Authorization: Bearer `TOKEN`'; empty: off (prefer WSHOST_ADMIN_TOKEN or the file: flags show in ps)", func(c *Config) *string { return &c.Admin.Token }),
	}
}

// flagValue records a flag's text; it is applied after the file and the
// environment, so that it wins.
type flagValue struct {
	s      setting
	text   string
	isBool bool
}

func (f *flagValue) String() string {
	if f == nil {
		return ""
	}
	return f.text
}
func (f *flagValue) Set(v string) error { f.text = v; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.isBool }

// Parse reads the configuration: defaults, then the TOML file of --config
// (or WSHOST_CONFIG), then WSHOST_* environment variables, then flags, each
// overriding the one before. --help prints the usage to out and returns
// flag.ErrHelp.
func Parse(args []string, out io.Writer) (Config, error) {
	return ParseEnv(args, os.Environ(), out)
}

// ParseEnv is Parse with the environment given as KEY=VALUE strings.
func ParseEnv(args, environ []string, out io.Writer) (Config, error) {
	all := settings()
	byKey := make(map[string]setting, len(all))
	byEnv := make(map[string]setting, len(all))
	for _, s := range all {
		byKey[s.key] = s
		byEnv[s.envName()] = s
	}

	fs := flag.NewFlagSet("wshost", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by the caller
	configFile := fs.String("config", "", "read settings from the TOML `FILE` (flags and WSHOST_* variables override it; see README.md)")
	flags := make([]*flagValue, len(all))
	for i, s := range all {
		flags[i] = &flagValue{s: s, text: s.def, isBool: s.kind == kBool}
		fs.Var(flags[i], s.flagName(), s.usage)
	}
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintf(out, "Usage: wshost [flags]\n       wshost check FILE.wasm         validate a plugin against ABI v1\n       wshost test FILE.wasm SCRIPT   replay a scripted session against a plugin\n       wshost new --lang LANG NAME    start a plugin project in ./NAME\n       wshost plugin push NAME FILE   roll a plugin out to every node of a cluster\n\nServes WebSocket chat logic written as WebAssembly plugins.\nGET / serves the chat page, /ws/NAME the plugin NAME, /healthz the health check.\n\nEvery flag is also a key of the --config file and a WSHOST_* environment\nvariable (--ping-interval: ping_interval, WSHOST_PING_INTERVAL; --tls-cert:\n[tls] cert, WSHOST_TLS_CERT); a flag beats the variable, which beats the file.\n\nFlags:\n")
			fs.PrintDefaults()
			return Config{}, err
		}
		return Config{}, usageErr(err)
	}
	if fs.NArg() > 0 {
		return Config{}, usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}

	// source names where each key's value came from, for messages.
	source := make(map[string]string, len(all))
	cfg := Config{}
	for _, s := range all {
		if err := s.set(&cfg, s.def); err != nil {
			panic(fmt.Sprintf("default of %s: %v", s.key, err))
		}
		source[s.key] = "--" + s.flagName()
	}
	apply := func(s setting, name, v string) error {
		if err := s.set(&cfg, v); err != nil {
			return usageErr(fmt.Errorf("%s: %w", name, err))
		}
		source[s.key] = name
		return nil
	}

	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "WSHOST_") {
			env[k] = v
		}
	}
	cfg.ConfigFile = *configFile
	if cfg.ConfigFile == "" {
		cfg.ConfigFile = env["WSHOST_CONFIG"]
	}
	if cfg.ConfigFile != "" {
		values, err := readConfigFile(cfg.ConfigFile, byKey)
		if err != nil {
			return cfg, usageErr(err)
		}
		for _, s := range all {
			if v, ok := values[s.key]; ok {
				if err := apply(s, fmt.Sprintf("%s: %s", cfg.ConfigFile, s.key), v); err != nil {
					return cfg, err
				}
			}
		}
	}

	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		s, ok := byEnv[k]
		switch {
		case k == "WSHOST_CONFIG", notSettings[k]:
		case !ok:
			return cfg, usageErr(fmt.Errorf("%s: unknown variable: the WSHOST_* variables are the keys of README.md's configuration table", k))
		default:
			if err := apply(s, k, env[k]); err != nil {
				return cfg, err
			}
		}
	}

	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		if fv, ok := f.Value.(*flagValue); ok && flagErr == nil {
			flagErr = apply(fv.s, "--"+f.Name, fv.text)
		}
	})
	if flagErr != nil {
		return cfg, flagErr
	}

	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, usageErr(fmt.Errorf("%s and %s: give both the certificate and its key, or neither", source["tls.cert"], source["tls.key"]))
	}
	if cfg.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return cfg, usageErr(fmt.Errorf("%s, %s: %w", source["tls.cert"], source["tls.key"], err))
		}
	}
	if cfg.PluginsDir != "" {
		if _, err := os.ReadDir(cfg.PluginsDir); err != nil {
			return cfg, usageErr(fmt.Errorf("%s: %w", source["plugins"], err))
		}
	}
	return cfg, nil
}

// notSettings are WSHOST_* variables of the build and the tests, not of
// the command: set, they are no typo.
var notSettings = map[string]bool{"WSHOST_TEST_LOG": true, "WSHOST_LANGS": true, "WSHOST_C_SDK": true}

// readConfigFile reads a TOML file into each key's text. It refuses
// unknown keys and values of the wrong TOML type.
func readConfigFile(path string, byKey map[string]setting) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]string{}
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key := prefix + k
			s, ok := byKey[key]
			if sub, isTable := m[k].(map[string]any); isTable && !ok {
				if isTableName(key, byKey) {
					if err := walk(key+".", sub); err != nil {
						return err
					}
					continue
				}
			}
			if !ok {
				return fmt.Errorf("%s: %s: unknown key (the keys are listed in README.md's configuration table)", path, key)
			}
			text, err := tomlText(m[k], s.kind)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", path, key, err)
			}
			out[key] = text
		}
		return nil
	}
	if err := walk("", doc); err != nil {
		return nil, err
	}
	return out, nil
}

func isTableName(name string, byKey map[string]setting) bool {
	for k := range byKey {
		if strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}

// tomlText turns a TOML value into a setting's text, if it has the kind's type.
func tomlText(v any, k kind) (string, error) {
	switch k {
	case kBool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		return "", fmt.Errorf("want true or false, not %s", tomlType(v))
	case kInt:
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10), nil
		}
		return "", fmt.Errorf("want a whole number, not %s", tomlType(v))
	case kList:
		switch v := v.(type) {
		case string:
			return v, nil
		case []any:
			items := make([]string, len(v))
			for i, e := range v {
				s, ok := e.(string)
				if !ok || strings.Contains(s, ",") {
					return "", fmt.Errorf("want an array of strings, but item %d is %s", i+1, tomlType(e))
				}
				items[i] = s
			}
			return strings.Join(items, ","), nil
		}
		return "", fmt.Errorf("want an array of strings, not %s", tomlType(v))
	case kDuration:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("want a duration as a string, like \"20s\", not %s", tomlType(v))
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("want a string, not %s", tomlType(v))
	}
}

func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case int64:
		return fmt.Sprintf("the number %d", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("%v", v)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

func usageErr(err error) error { return fmt.Errorf("%w (%w)", err, errUsage) }
