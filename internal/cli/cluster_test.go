package cli_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/internal/cli"
	"github.com/wshost/wshost/internal/natstest"
	"github.com/wshost/wshost/plugins/examples"
)

func TestNATSUnreachableAtStart(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), []string{"--addr", "127.0.0.1:0", "--nats", "nats://127.0.0.1:1"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if msg := strings.TrimSpace(stderr.String()); !strings.Contains(msg, "--nats: connect to NATS at nats://127.0.0.1:1") || !strings.Contains(msg, "--nats-optional") {
		t.Errorf("stderr %q: want the URL and the way out", msg)
	}

	// With --nats-optional the node runs alone.
	url, stop, stderrBuf := start(t, "--nats", "nats://127.0.0.1:1", "--nats-optional")
	waitHealthy(t, url)
	c := dialChat(t, url, "solo")
	c.Expect("* welcome solo! you are in #lobby. commands: /nick NAME, /join ROOM, /who")
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderrBuf.String(), "running as a single node") {
		t.Errorf("no warning logged: %s", stderrBuf.String())
	}
}

func dialChat(t *testing.T, url, nick string) *hosttest.Client {
	t.Helper()
	return dialPath(t, url, "ws/chat?nick="+nick+"&room=lobby")
}

func TestClusterOfTwoCommands(t *testing.T) {
	ns := natstest.Start(t)
	cluster := []string{"--nats", ns.URL, "--cluster-heartbeat", "100ms"}
	urlA, _, _ := start(t, cluster...)
	urlB, _, _ := start(t, cluster...)
	waitHealthy(t, urlA)
	waitHealthy(t, urlB)

	// The embedded chat on both nodes, one room across them.
	alice := dialChat(t, urlA, "alice")
	alice.Expect("* welcome alice! you are in #lobby. commands: /nick NAME, /join ROOM, /who")
	bob := dialChat(t, urlB, "bob")
	bob.Expect("* welcome bob! you are in #lobby. commands: /nick NAME, /join ROOM, /who")
	alice.Expect("* bob joined #lobby")
	bob.Send("hello from B")
	alice.Expect("[lobby] bob: hello from B")
	bob.Expect("[lobby] bob: hello from B")
	// The Go chat's /who: room_members and conn_info attr.nick across nodes.
	alice.Send("/who")
	if got := alice.ReadText(); !strings.Contains(got, "alice") || !strings.Contains(got, "bob") {
		t.Errorf("/who on node A = %q, want both nicks", got)
	}

	hosttest.Eventually(t, "node A's metrics show the cluster", func() bool {
		resp, err := httpc.Get(urlA + "metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), "\nwshost_cluster_nodes 1\n") && strings.Contains(string(body), "\nwshost_cluster_connected 1\n")
	})
}

func TestPushWithALocalOverride(t *testing.T) {
	ns := natstest.Start(t)
	echo, err := os.ReadFile(filepath.Join("..", "..", "host", "plugin", "testdata", "echo.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	// Node B serves its own "echo": the chat, from its plugins directory.
	override := filepath.Join(dirB, "echo.wasm")
	if err := os.WriteFile(override, examples.Chat(), 0o644); err != nil {
		t.Fatal(err)
	}
	urlA, _, _ := start(t, "--nats", ns.URL, "--cluster-heartbeat", "100ms", "--plugins", dirA)
	urlB, _, _ := start(t, "--nats", ns.URL, "--cluster-heartbeat", "100ms", "--plugins", dirB)
	waitHealthy(t, urlA)
	waitHealthy(t, urlB)

	file := filepath.Join(t.TempDir(), "echo.wasm")
	if err := os.WriteFile(file, echo, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"plugin", "push", "--nats", ns.URL, "echo", file}, &stdout, &stderr); code != 0 {
		t.Fatalf("push exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, ": loaded") || !strings.Contains(out, ": local override") {
		t.Errorf("push output %q: want one node loaded and one overridden", out)
	}
	a := dialPath(t, urlA, "ws/echo")
	a.Send("ping")
	a.Expect("ping")
	b := dialPath(t, urlB, "ws/echo")
	if got := b.ReadText(); !strings.HasPrefix(got, "* welcome guest-") {
		t.Errorf("node B's own echo said %q, want the chat's welcome", got)
	}

	// Without its override, node B runs what was pushed.
	if err := os.Remove(override); err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, "node B serves the pushed echo", func() bool {
		b := dialPath(t, urlB, "ws/echo")
		defer b.Close()
		b.Send("ping")
		return b.ReadText() == "ping"
	})
}

func dialPath(t *testing.T, url, path string) *hosttest.Client {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+path, nil)
	if err != nil {
		t.Fatalf("dial %s%s: %v", url, path, err)
	}
	c := &hosttest.Client{Conn: conn}
	return c.Bind(t)
}
