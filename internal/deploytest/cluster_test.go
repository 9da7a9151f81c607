package deploytest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/internal/natstest"
	"github.com/wshost/wshost/internal/testcert"
)

// TestNginxInFrontOfACluster is README's "Running a cluster": NATS, two
// wshost nodes joined by --nats, nginx in front with both in its upstream
// (deploy/nginx/wshost.conf). Two chat users land on different nodes and
// talk; one node stops; its user reconnects through nginx, lands on the
// other node and is back in the room, while the other user's connection
// never notices.
func TestNginxInFrontOfACluster(t *testing.T) {
	ns := natstest.Start(t)
	// One compilation cache: node B loads the chat node A compiled.
	cluster := []string{"--nats", ns.URL, "--cluster-heartbeat", "100ms", "--trusted-proxies", "127.0.0.1/32", "--cache-dir", t.TempDir()}
	addrA, stopA := runWshost(t, cluster...)
	waitReady(t, addrA)
	addrB, stopB := runWshost(t, cluster...)
	waitReady(t, addrB)
	cert, err := testcert.New("nginx cluster test")
	if err != nil {
		t.Fatal(err)
	}
	port := startNginx(t, addrA+";\n        server "+addrB, cert, "")
	base := fmt.Sprintf("wss://127.0.0.1:%d/ws/chat?room=lobby&nick=", port)
	dial := func(nick string) *websocket.Conn {
		t.Helper()
		c, _, err := dialFrom("127.0.0.2", cert).Dial(base+nick, nil)
		if err != nil {
			t.Fatalf("%s through nginx: %v", nick, err)
		}
		t.Cleanup(func() { c.Close() })
		if got := read(t, c); !strings.HasPrefix(got, "* welcome "+nick+"!") {
			t.Fatalf("%s got %q first", nick, got)
		}
		return c
	}

	alice := dial("alice")
	aliceOnA := chatConns(t, addrA) == 1
	bob := dial("bob")
	if chatConns(t, addrA) != 1 || chatConns(t, addrB) != 1 {
		t.Fatalf("nginx put both users on one node")
	}
	readUntil(t, alice, "* bob joined #lobby")
	send(t, alice, "hi bob")
	readUntil(t, bob, "[lobby] alice: hi bob")

	// Alice's node stops; she reconnects, nginx sends her to the other one.
	if aliceOnA {
		stopA()
	} else {
		stopB()
	}
	alice.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := alice.ReadMessage(); err != nil {
			break // the node's 1001 "going away"
		}
	}
	alice = dial("alice")
	readUntil(t, bob, "* alice joined #lobby")
	send(t, alice, "back again")
	readUntil(t, bob, "[lobby] alice: back again")
	send(t, bob, "welcome back")
	readUntil(t, alice, "[lobby] bob: welcome back")
}

// waitReady polls a node's /readyz until it serves its plugins.
func waitReady(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // the Go chat compiles in seconds under -race
	for {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}).Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// chatConns reads wshost_connections{plugin="chat"} from a node's /metrics.
func chatConns(t *testing.T, addr string) int {
	t.Helper()
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var n int
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, `wshost_connections{plugin="chat"} `); ok {
			fmt.Sscan(v, &n)
		}
	}
	return n
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

// readUntil reads until want arrives.
func readUntil(t *testing.T, c *websocket.Conn, want string) {
	t.Helper()
	for read(t, c) != want {
	}
}
