package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/metrics"
	"github.com/wshost/wshost/host/plugin"
)

// Metrics is made first: the server serves its handler and the plugins
// report to it. Watch then tells it what to read on each scrape.
func Example() {
	m := metrics.New()
	srv := host.New(host.Config{
		Logger: quietLogger(),
		Routes: map[string]http.Handler{"/metrics": m.Handler()},
	})
	plugins := plugin.NewPlugins(srv, plugin.Options{Logger: quietLogger(), Observer: m})
	defer plugins.Close()
	m.Watch(srv, plugins)

	wasm, _ := os.ReadFile("../plugin/testdata/echo.wasm")
	if err := plugins.Install(context.Background(), "echo", wasm, nil); err != nil {
		panic(err)
	}
	srv.SetReady(true)

	ts := httptest.NewServer(srv)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "wshost_connections") || strings.HasPrefix(line, "wshost_ready") ||
			strings.HasPrefix(line, "wshost_plugin_instances") {
			fmt.Println(line)
		}
	}
	_ = srv.Shutdown(context.Background())
	// Output:
	// wshost_connections{plugin="echo"} 0
	// wshost_plugin_instances{plugin="echo"} 1
	// wshost_ready 1
}
