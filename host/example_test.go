package host_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
)

// shout is a native Handler: it broadcasts every message, upper-cased, to
// the room "all".
type shout struct{}

func (shout) Open(_ context.Context, ep *host.Endpoint, id host.ConnID) error {
	return ep.Join(id, "all")
}

func (shout) Message(_ context.Context, ep *host.Endpoint, _ host.ConnID, msg []byte, binary bool) error {
	_, err := ep.Broadcast("all", []byte(strings.ToUpper(string(msg))), binary, 0)
	return err
}

func (shout) Error(context.Context, *host.Endpoint, host.ConnID, host.ErrorKind, string) {}
func (shout) Close(context.Context, *host.Endpoint, host.ConnID, int, string)            {}

// Mount serves a Handler at /ws/NAME; the Server is an http.Handler.
func ExampleServer_Mount() {
	srv := host.New(host.Config{})
	if _, err := srv.Mount("shout", shout{}, host.Limits{}); err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background())

	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/shout"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("hello"))
	_, reply, _ := c.ReadMessage()
	fmt.Println(string(reply))
	// Output: HELLO
}
