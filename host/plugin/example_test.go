package plugin_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
)

// Install serves a Wasm module at /ws/NAME; WatchDir does the same for
// every NAME.wasm in a directory and reloads them when they change.
func ExamplePlugins_Install() {
	srv := host.New(host.Config{})
	plugins := plugin.NewPlugins(srv, plugin.Options{})
	defer plugins.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background())

	wasm, err := os.ReadFile("testdata/echo.wasm")
	if err != nil {
		panic(err)
	}
	if err := plugins.Install(context.Background(), "echo", wasm, nil); err != nil {
		panic(err)
	}

	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/echo"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("hello from Wasm"))
	_, reply, _ := c.ReadMessage()
	fmt.Println(string(reply))
	// Output: hello from Wasm
}
