package cli_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wshost/wshost/internal/cli"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wshost.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigEveryKey: a file that sets every key to something else than its
// default fills every field of Config.
func TestConfigEveryKey(t *testing.T) {
	plugins := t.TempDir()
	path := writeConfig(t, `
addr = "0.0.0.0:9443"
plugins = "`+plugins+`"
builtin_chat = "native"
cache_dir = "/var/cache/wshost"
compile_child = false
log_level = "debug"
log_format = "json"
shutdown_timeout = "30s"
ping_interval = "15s"
pong_timeout = "25s"
reload_debounce = "250ms"
handshake_timeout = "5s"
write_timeout = "7s"
close_timeout = "3s"
allowed_origins = ["https://chat.example.com", "https://app.example.com"]
max_connections = 10000
max_connections_per_ip = 20
compression = true
compression_level = 6
compression_min_bytes = 1024
trusted_proxies = ["127.0.0.1/32", "10.0.0.0/8", "::1"]

[tls]
cert = "CERT"
key = "KEY"

[metrics]
enabled = false
addr = "127.0.0.1:9090"

[admin]
token = "s3cret"

[cluster]
nats = "nats://10.0.0.5:4222,nats://10.0.0.6:4222"
name = "chat-eu"
optional = true
replicas = 3
heartbeat = "500ms"
`)
	// The TLS pair is loaded at start: give real files.
	dir := t.TempDir()
	cert := newCert(t, "every key")
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := cert.Write(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	data = bytes.Replace(bytes.Replace(data, []byte(`"CERT"`), []byte(`"`+certFile+`"`), 1), []byte(`"KEY"`), []byte(`"`+keyFile+`"`), 1)
	os.WriteFile(path, data, 0o644)

	got, err := cli.ParseEnv([]string{"--config", path}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := cli.Config{
		ConfigFile: path, Addr: "0.0.0.0:9443", PluginsDir: plugins, BuiltinChat: "native", CacheDir: "/var/cache/wshost",
		LogLevel: slog.LevelDebug, LogFormat: "json",
		ShutdownTimeout: 30 * time.Second, PingInterval: 15 * time.Second, PongTimeout: 25 * time.Second,
		Debounce: 250 * time.Millisecond, WriteTimeout: 7 * time.Second, CloseTimeout: 3 * time.Second,
		Compression: true, CompressionLevel: 6, CompressionMinBytes: 1024,
		HandshakeTimeout: 5 * time.Second,
		AllowedOrigins:   []string{"https://chat.example.com", "https://app.example.com"},
		MaxConnections:   10000, MaxConnectionsPerIP: 20,
		TLSCert: certFile, TLSKey: keyFile,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Metrics:        cli.MetricsConfig{Enabled: false, Addr: "127.0.0.1:9090"},
		Admin:          cli.AdminConfig{Token: "s3cret"},
		Cluster:        cli.ClusterConfig{NATS: "nats://10.0.0.5:4222,nats://10.0.0.6:4222", Name: "chat-eu", Optional: true, Replicas: 3, Heartbeat: 500 * time.Millisecond},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", got, want)
	}
	// Every key of the command is in this file: a new key needs a line here.
	keys, _, _ := cli.SettingKeys()
	for _, k := range keys {
		table, name, ok := strings.Cut(k, ".")
		if !ok {
			name, table = table, ""
		}
		if !strings.Contains(string(data), "\n"+name+" = ") || (table != "" && !strings.Contains(string(data), "["+table+"]")) {
			t.Errorf("key %s is not set by this test", k)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	got, err := cli.ParseEnv(nil, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr != "127.0.0.1:8080" || got.PingInterval != 20*time.Second || got.WriteTimeout != 10*time.Second ||
		got.CloseTimeout != 2*time.Second || got.CompressionLevel != 1 || got.CompressionMinBytes != 256 ||
		!got.Metrics.Enabled || got.Metrics.Addr != "" || got.Admin.Token != "" || got.TLSCert != "" || got.TrustedProxies != nil {
		t.Fatalf("defaults: %+v", got)
	}
}

// TestConfigPrecedence: flag > WSHOST_* > file > default, and WSHOST_CONFIG
// names the file when --config does not.
func TestConfigPrecedence(t *testing.T) {
	path := writeConfig(t, "ping_interval = \"30s\"\nmax_connections = 5\n[metrics]\nenabled = false\n")
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want time.Duration
	}{
		{"default", nil, nil, 20 * time.Second},
		{"file", []string{"--config", path}, nil, 30 * time.Second},
		{"file by WSHOST_CONFIG", nil, []string{"WSHOST_CONFIG=" + path}, 30 * time.Second},
		{"env over file", []string{"--config", path}, []string{"WSHOST_PING_INTERVAL=40s"}, 40 * time.Second},
		{"flag over env", []string{"--config", path, "--ping-interval", "50s"}, []string{"WSHOST_PING_INTERVAL=40s"}, 50 * time.Second},
		{"flag over default", []string{"--ping-interval", "50s"}, nil, 50 * time.Second},
		{"unrelated variables are ignored", nil, []string{"PATH=/bin", "WSHOSTX=1", "WSHOST_TEST_LOG=1"}, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := cli.ParseEnv(tc.args, tc.env, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.PingInterval != tc.want {
				t.Fatalf("ping interval %v, want %v", cfg.PingInterval, tc.want)
			}
		})
	}
	// The other keys of the file stay as the file says.
	cfg, err := cli.ParseEnv([]string{"--config", path, "--ping-interval", "50s"}, []string{"WSHOST_METRICS_ENABLED=true"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxConnections != 5 || !cfg.Metrics.Enabled {
		t.Fatalf("max_connections %d (want 5 from the file), metrics %v (want true from the environment)", cfg.MaxConnections, cfg.Metrics.Enabled)
	}
	cfg, err = cli.ParseEnv([]string{"--metrics=false", "--allowed-origins", "https://b.example"}, []string{"WSHOST_METRICS_ENABLED=true", "WSHOST_ALLOWED_ORIGINS=https://a.example"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics.Enabled || !reflect.DeepEqual(cfg.AllowedOrigins, []string{"https://b.example"}) {
		t.Fatalf("flags did not win: %+v", cfg)
	}
}

// TestConfigRefused: bad files, keys, values and variables are refused at
// start, exit 2, with one line naming the key and the reason.
func TestConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown key", "ping_intervall = \"1s\"\n", nil, "ping_intervall: unknown key"},
		{"unknown key in a table", "[tls]\ncert_file = \"x\"\n", nil, "tls.cert_file: unknown key"},
		{"unknown table", "[limits]\nqueue = 1\n", nil, "limits: unknown key"},
		{"table as a value", "addr = { host = \"x\" }\n", nil, "addr: want a string, not a table"},
		{"duration as a number", "ping_interval = 20\n", nil, `ping_interval: want a duration as a string, like "20s", not the number 20`},
		{"bad duration", "pong_timeout = \"soon\"\n", nil, `pong_timeout: "soon" is not a duration`},
		{"zero duration", "write_timeout = \"0s\"\n", nil, "write_timeout: must be positive"},
		{"negative cap", "max_connections = -1\n", nil, "max_connections: must not be negative"},
		{"cap as a string", "max_connections_per_ip = \"5\"\n", nil, `max_connections_per_ip: want a whole number, not the string "5"`},
		{"bool as a string", "compression = \"yes\"\n", nil, `compression: want true or false, not the string "yes"`},
		{"bad level", "log_level = \"loud\"\n", nil, `log_level: "loud": want debug, info, warn or error`},
		{"bad origin", "allowed_origins = [\"chat.example.com\"]\n", nil, `allowed_origins: "chat.example.com" is not an origin`},
		{"bad proxy", "trusted_proxies = [\"10.0.0.0/33\"]\n", nil, `trusted_proxies: "10.0.0.0/33" is not a CIDR prefix`},
		{"proxies not strings", "trusted_proxies = [1]\n", nil, "trusted_proxies: want an array of strings, but item 1 is the number 1"},
		{"metrics addr", "[metrics]\naddr = \"9090\"\n", nil, `metrics.addr: "9090": want HOST:PORT`},
		{"tls half", "[tls]\ncert = \"c.pem\"\n", nil, "tls.cert and --tls-key: give both"},
		{"missing plugins dir", "plugins = \"/does/not/exist\"\n", nil, "plugins: open /does/not/exist"},
		{"toml syntax", "addr = \n", nil, "toml: line 1"},
		{"bad variable", "", []string{"WSHOST_PONG_TIMEOUT=-1s"}, "WSHOST_PONG_TIMEOUT: must be positive"},
		{"unknown variable", "", []string{"WSHOST_PING_INTERVALL=1s"}, "WSHOST_PING_INTERVALL: unknown variable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.file)
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			if code := cli.Main(context.Background(), []string{"--config", path}, io.Discard, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2 (%s)", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("stderr %q: want one line containing %q", stderr.String(), tc.want)
			}
			if !strings.Contains(lines[0], path) && tc.env == nil {
				t.Errorf("the message does not name the file: %s", lines[0])
			}
		})
	}
}

// TestREADMEDocumentsEveryKey: README.md's configuration table has a row
// for each key, with its flag and variable.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	keys, flags, envs := cli.SettingKeys()
	for i := range keys {
		row := "| `" + keys[i] + "` | `" + flags[i]
		if !strings.Contains(string(readme), row) || !strings.Contains(string(readme), "`"+envs[i]+"`") {
			t.Errorf("README.md has no row starting %q with %s", row, envs[i])
		}
	}
}

// TestExampleConfigParses: deploy/wshost.toml, the file the systemd unit
// reads, is valid.
func TestExampleConfigParses(t *testing.T) {
	cfg, err := cli.ParseEnv([]string{"--config", "../../deploy/wshost.toml", "--plugins", t.TempDir()}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.TrustedProxies) == 0 {
		t.Fatal("the example trusts no proxy")
	}
}
