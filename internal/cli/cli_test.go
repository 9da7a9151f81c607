package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/internal/cli"
)

// cacheDir is one compilation cache for the whole run: the chat plugin
// compiles once, as it would across restarts.
var cacheDir string

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == plugin.CompileChildCommand {
		// The compile child of a server started here: /proc/self/exe is
		// this test binary, which reaches the hidden subcommand this way.
		os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	dir, err := os.MkdirTemp("", "wshost-cli-test")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if err := goleak.Find(natsObjectPutLeak); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "goleak:", err)
		code = 1
	}
	os.Exit(code)
}

// natsObjectPutLeak: nats.go v1.55.0's ObjectStore.Put starts a goroutine
// that reads a channel field its own deferred cleanup may already have set
// to nil, and then waits on the nil channel for good (a race in the
// library; `wshost plugin push` does one Put per run).
var natsObjectPutLeak = goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect")

// httpc keeps no idle connections, so none outlives a test.
var httpc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// syncBuffer: see hosttest.SyncBuffer.
type syncBuffer = hosttest.SyncBuffer

func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "flag provided but not defined: -bogus"},
		{"missing dir", []string{"--plugins", "/does/not/exist"}, "--plugins: open /does/not/exist"},
		{"bad level", []string{"--log-level", "loud"}, `--log-level: "loud": want debug, info, warn or error`},
		{"stray argument", []string{"serve"}, `unexpected argument "serve"`},
		{"bad duration", []string{"--ping-interval", "0s"}, `--ping-interval: must be positive, not "0s"`},
		{"bad handshake timeout", []string{"--handshake-timeout", "0s"}, `--handshake-timeout: must be positive`},
		{"bad origin", []string{"--allowed-origins", "https://ok.example,chat.example.com"}, `--allowed-origins: "chat.example.com" is not an origin`},
		{"negative cap", []string{"--max-connections", "-1"}, "--max-connections: must not be negative"},
		{"negative ip cap", []string{"--max-connections-per-ip", "-2"}, "--max-connections-per-ip: must not be negative"},
		{"tls cert without key", []string{"--tls-cert", "x.pem"}, "--tls-cert and --tls-key: give both"},
		{"tls pair missing", []string{"--tls-cert", "/nope/c.pem", "--tls-key", "/nope/k.pem"}, "--tls-cert, --tls-key: open /nope/c.pem"},
		{"bad proxy", []string{"--trusted-proxies", "10.0.0.0/8,nginx"}, `--trusted-proxies: "nginx" is not a CIDR prefix`},
		{"bad addr", []string{"--addr", "8080"}, `--addr: "8080": want HOST:PORT`},
		{"bad compression level", []string{"--compression-level", "12"}, `--compression-level: "12": want 1 to 9`},
		{"bad metrics flag", []string{"--metrics=maybe"}, `--metrics: "maybe": want true or false`},
		{"missing config", []string{"--config", "/nope.toml"}, "--config: open /nope.toml"},
		{"bad cluster name", []string{"--cluster-name", "a.b"}, `--cluster-name: "a.b": want letters, digits, - and _`},
		{"push without nats", []string{"plugin", "push", "chat", "chat.wasm"}, "--nats URL (or WSHOST_CLUSTER_NATS) is required"},
		{"plugin without command", []string{"plugin"}, "plugin takes a command: push"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := cli.Main(context.Background(), tc.args, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("stderr %q: want one line containing %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var stdout bytes.Buffer
	if code := cli.Main(context.Background(), []string{"--help"}, &stdout, io.Discard); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, flag := range []string{"-addr", "-plugins", "-cache-dir", "-log-level", "-log-format", "-shutdown-timeout", "-ping-interval", "-pong-timeout", "-reload-debounce", "-compression", "-compile-child",
		"-handshake-timeout", "-allowed-origins", "-max-connections", "-max-connections-per-ip",
		"-config", "-write-timeout", "-close-timeout", "-compression-level", "-compression-min-bytes", "-tls-cert", "-tls-key", "-trusted-proxies",
		"-metrics", "-metrics-addr", "-admin-token", "-nats", "-cluster-name", "-nats-optional", "-cluster-replicas", "-cluster-heartbeat"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
}

// start runs Main with args until the returned cancel; it returns the base
// URL once the server prints it.
func start(t *testing.T, args ...string) (url string, stop func() int, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	args = append([]string{"--addr", "127.0.0.1:0", "--cache-dir", cacheDir}, args...)
	go func() { done <- cli.Main(ctx, args, stdout, stderr) }()
	re := regexp.MustCompile(`https?://[0-9.:]+/`)
	deadline := time.Now().Add(30 * time.Second)
	for url = re.FindString(stdout.String()); url == ""; url = re.FindString(stdout.String()) {
		select {
		case code := <-done:
			t.Fatalf("wshost exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("wshost printed no URL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	return url, stop, stderr
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := httpc.Get(url + "healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDefaultChatAndGracefulShutdown: with no flags the embedded chat is
// served with its page; on shutdown (SIGINT in cmd/wshost) every client
// gets 1001 and the command exits 0.
func TestDefaultChatAndGracefulShutdown(t *testing.T) {
	url, stop, stderr := start(t)
	waitHealthy(t, url)

	resp, err := httpc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<html") {
		t.Fatalf("GET /: %d %.80q", resp.StatusCode, page)
	}

	ws := "ws" + strings.TrimPrefix(url, "http") + "ws/chat?nick=ann"
	var clients []*websocket.Conn
	for range 3 {
		c, _, err := websocket.DefaultDialer.Dial(ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	c := clients[0]
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "* welcome ann!") {
		t.Fatalf("welcome: %q %v", msg, err)
	}

	if code := stop(); code != 0 {
		t.Fatalf("exit %d after shutdown: %s", code, stderr.String())
	}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if ce.Code != websocket.CloseGoingAway {
					t.Errorf("client %d: close %d, want 1001", i, ce.Code)
				}
				break
			}
			if err != nil {
				t.Fatalf("client %d: %v, want close 1001", i, err)
			}
		}
	}
}

// TestCompileChild: with a cache directory, plugins compile in a child
// process (the hidden internal-compile subcommand) that fills the cache;
// --compile-child=false compiles in the server.
func TestCompileChild(t *testing.T) {
	for _, child := range []bool{true, false} {
		t.Run(fmt.Sprint(child), func(t *testing.T) {
			plugins, cache := t.TempDir(), t.TempDir()
			echo, err := os.ReadFile("../../host/plugin/testdata/echo.wasm")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(plugins, "echo.wasm"), echo, 0o644); err != nil {
				t.Fatal(err)
			}
			url, _, stderr := start(t, "--plugins", plugins, "--cache-dir", cache, "--log-level", "debug", fmt.Sprintf("--compile-child=%t", child))
			waitHealthy(t, url)
			c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"ws/echo", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hi" {
				t.Fatalf("echo: %q %v", msg, err)
			}
			if got := strings.Contains(stderr.String(), "module compiled by the precompiler"); got != child {
				t.Errorf("compiled in a child: %t, want %t; log:\n%s", got, child, stderr.String())
			}
			if strings.Contains(stderr.String(), "level=WARN") {
				t.Errorf("warnings:\n%s", stderr.String())
			}
		})
	}
}

// TestPluginsDirHotReload: --plugins serves and watches a directory.
func TestPluginsDirHotReload(t *testing.T) {
	dir := t.TempDir()
	chat, err := os.ReadFile("../../plugins/examples/chat.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "talk.wasm"), chat, 0o644); err != nil {
		t.Fatal(err)
	}
	url, _, _ := start(t, "--plugins", dir, "--reload-debounce", "20ms")
	waitHealthy(t, url)
	ws := "ws" + strings.TrimPrefix(url, "http") + "ws/talk?nick=bo"
	c, _, err := websocket.DefaultDialer.Dial(ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "* welcome bo!") {
		t.Fatalf("welcome: %q %v", msg, err)
	}
	resp, err := httpc.Get(url + "ws/chat")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/ws/chat with --plugins: HTTP %d, want 404", resp.StatusCode)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		file string
		code int
		want []string
	}{
		{"../../plugins/examples/chat.wasm", 0, []string{"follows ABI v1", "on_message", "func (i64, i32, i32) -> (i32)", "wshost.send", "memory: min", "problems: none"}},
		{"../../host/plugin/testdata/badsig.wasm", 1, []string{"does NOT follow ABI v1", `export "on_message" has signature (i32) -> (i32), want (i64, i32, i32) -> (i32)`}},
		{"../../host/plugin/testdata/foreign.wasm", 1, []string{"imports func env.abort"}},
		{"../../host/plugin/testdata/bigmem.wasm", 1, []string{"memory minimum 2000 pages"}},
		{"../../host/plugin/testdata/noabi.wasm", 1, []string{`missing required export "wshost_abi_v1"`}},
		{"no-such-file.wasm", 2, nil},
	} {
		var stdout, stderr bytes.Buffer
		code := cli.Main(context.Background(), []string{"check", tc.file}, &stdout, &stderr)
		if code != tc.code {
			t.Errorf("check %s: exit %d, want %d (%s)", tc.file, code, tc.code, stderr.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("check %s: output lacks %q:\n%s", tc.file, w, stdout.String())
			}
		}
	}
}

func TestTestCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"test", "--cache-dir", cacheDir, "../../plugins/examples/chat.wasm", "../../host/scripttest/testdata/chat.session"}
	if code := cli.Main(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	if !strings.Contains(stdout.String(), " passed, 0 failed") {
		t.Fatalf("no summary line:\n%s", stdout.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.session")
	os.WriteFile(bad, []byte("connect a\nexpect a nope\n"), 0o644)
	stdout.Reset()
	args = []string{"test", "--cache-dir", cacheDir, "../../plugins/examples/chat.wasm", bad}
	if code := cli.Main(context.Background(), args, &stdout, &stderr); code != 1 {
		t.Fatalf("a failing check: exit %d, want 1\n%s", code, stdout.String())
	}
	if !strings.Contains(stdout.String(), "1 passed, 1 failed") {
		t.Fatalf("report:\n%s", stdout.String())
	}
}

func TestNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "echo-bot")
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"new", "--lang", "wat", "--root", "../..", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "echo-bot.wat")); err != nil {
		t.Fatal(err)
	}
	if code := cli.Main(context.Background(), []string{"new", "--lang", "wat", "--root", "../..", dir}, &stdout, &stderr); code != 2 {
		t.Fatalf("into an existing directory: exit %d, want 2", code)
	}
	if code := cli.Main(context.Background(), []string{"new", "--lang", "cobol", "x"}, &stdout, &stderr); code != 2 {
		t.Fatalf("an unknown language: exit %d, want 2", code)
	}
}

// TestMetricsAndAdmin: /metrics is on by default on the main listener; the
// admin API answers only with its token.
func TestMetricsAndAdmin(t *testing.T) {
	const token = "0123456789abcdef-test-token"
	t.Setenv("WSHOST_ADMIN_TOKEN", token)
	url, _, _ := start(t)
	waitHealthy(t, url)
	ws := "ws" + strings.TrimPrefix(url, "http") + "ws/chat?nick=mo"
	c, _, err := websocket.DefaultDialer.Dial(ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("hello metrics"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 2 { // the welcome, then the echo of the broadcast
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}

	get := func(path, auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, family := range []string{"wshost_connections", "wshost_messages_received_total", "wshost_plugin_calls_total", "wshost_plugin_call_duration_seconds", "wshost_handshakes_total"} {
		if !strings.Contains(body, family) {
			t.Errorf("/metrics lacks %s", family)
		}
	}
	if code, _ := get("admin/plugins", ""); code != 401 {
		t.Errorf("/admin/plugins without the token: %d, want 401", code)
	}
	if code, body := get("admin/plugins", token); code != 200 || !strings.Contains(body, `"chat"`) {
		t.Errorf("/admin/plugins: %d %s", code, body)
	}
	if code, _ := get("readyz", ""); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
}

// TestBuiltinNativeChat: --builtin-chat native serves the same chat as a Go
// handler (the benchmarks' baseline).
func TestBuiltinNativeChat(t *testing.T) {
	url, _, _ := start(t, "--builtin-chat", "native")
	waitHealthy(t, url)
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"ws/chat?nick=nat", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "* welcome nat!") {
		t.Fatalf("welcome: %q %v", msg, err)
	}
}
