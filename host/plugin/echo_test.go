package plugin_test

import (
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
)

func TestEchoTextAndBinary(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "echo", "echo.wasm", "")
	c := f.Dial(t, "/ws/echo")
	c.Send("hello")
	c.Expect("hello")
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	typ, msg := c.Read()
	if typ != websocket.BinaryMessage || string(msg) != "\x00\x01\x02" {
		t.Fatalf("got %d %q", typ, msg)
	}
}
