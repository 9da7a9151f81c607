package cli_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// --allowed-origins, --max-connections-per-ip and --max-connections reach
// the server.
func TestAdmissionFlags(t *testing.T) {
	url, _, _ := start(t, "--allowed-origins", "https://chat.example.com, https://b.example",
		"--max-connections-per-ip", "2", "--max-connections", "5", "--handshake-timeout", "5s")
	waitHealthy(t, url)
	ws := "ws" + strings.TrimPrefix(url, "http") + "ws/chat?nick=ann"
	dial := func(origin string) (*websocket.Conn, int) {
		t.Helper()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := websocket.DefaultDialer.Dial(ws, h)
		if err != nil {
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			t.Logf("HTTP %d: %s", resp.StatusCode, body)
			return nil, resp.StatusCode
		}
		t.Cleanup(func() { c.Close() })
		return c, resp.StatusCode
	}
	if _, status := dial("https://evil.example"); status != http.StatusForbidden {
		t.Errorf("evil origin: HTTP %d, want 403", status)
	}
	for _, origin := range []string{"https://chat.example.com", "https://b.example"} {
		if _, status := dial(origin); status != http.StatusSwitchingProtocols {
			t.Errorf("origin %s: HTTP %d, want 101", origin, status)
		}
	}
	if _, status := dial(""); status != http.StatusTooManyRequests {
		t.Errorf("third connection: HTTP %d, want 429", status)
	}
}
