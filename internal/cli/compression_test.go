package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestCompressionFlag: --compression negotiates permessage-deflate with a
// client that offers it; without the flag it is never negotiated.
func TestCompressionFlag(t *testing.T) {
	for _, on := range []bool{false, true} {
		var args []string
		if on {
			args = append(args, "--compression")
		}
		url, _, _ := start(t, args...)
		waitHealthy(t, url)
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, EnableCompression: true}
		c, resp, err := d.Dial("ws"+strings.TrimPrefix(url, "http")+"ws/chat?nick=zip", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ext := resp.Header.Get("Sec-WebSocket-Extensions")
		if got := strings.HasPrefix(ext, "permessage-deflate"); got != on {
			t.Fatalf("--compression=%v: Sec-WebSocket-Extensions %q", on, ext)
		}
		text := strings.Repeat("compress me, ", 50) + "done"
		if err := c.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("--compression=%v: %v before the chat line came back", on, err)
			}
			if strings.Contains(string(msg), text) {
				break
			}
		}
	}
}
