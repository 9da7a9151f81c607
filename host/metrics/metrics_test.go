package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/metrics"
	"github.com/wshost/wshost/host/plugin"
)

var cache = wazero.NewCompilationCache()

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "plugin", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture is a server serving /metrics, with plugins reporting to it.
type fixture struct {
	*hosttest.Server
	plugins *plugin.Plugins
	m       *metrics.Metrics
}

func newFixture(t *testing.T, cfg host.Config) *fixture {
	t.Helper()
	m := metrics.New()
	cfg.Logger = quietLogger()
	cfg.Routes = map[string]http.Handler{"/metrics": m.Handler()}
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() }) // runs after the server's shutdown
	srv := hosttest.NewServer(t, cfg)
	p = plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: cfg.Logger, Observer: m})
	m.Watch(srv.Server, p)
	srv.SetReady(true)
	return &fixture{Server: srv, plugins: p, m: m}
}

func (f *fixture) install(t *testing.T, name, file, manifest string) error {
	t.Helper()
	return f.plugins.Install(context.Background(), name, testdata(t, file), []byte(manifest))
}

// scrape GETs /metrics and parses it.
func (f *fixture) scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(f.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value sums the samples of family name whose labels include want
// (histograms: their count).
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
	sum, found := 0.0, false
next:
	for _, m := range fam.GetMetric() {
		for k, v := range want {
			ok := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					ok = true
				}
			}
			if !ok {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, found
}

// flood is a native handler that answers a message with 1000 copies of
// it: with a small send queue, a slow consumer at once.
type flood struct{}

func (flood) Open(context.Context, *host.Endpoint, host.ConnID) error { return nil }
func (flood) Message(_ context.Context, ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
	for range 1000 {
		if ep.Send(id, msg, binary) != nil {
			break
		}
	}
	return nil
}
func (flood) Error(context.Context, *host.Endpoint, host.ConnID, host.ErrorKind, string) {}
func (flood) Close(context.Context, *host.Endpoint, host.ConnID, int, string)            {}

// TestScrapeAfterLoad applies a short load of every kind through real
// clients and real plugins, then checks that every family is exported and
// counts what was done.
func TestScrapeAfterLoad(t *testing.T) {
	f := newFixture(t, host.Config{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.install(t, "echo", "echo.wasm", ""))
	must(f.install(t, "lobby", "openclose.wasm", ""))
	must(f.install(t, "loop", "loop.wasm", "[limits]\ncall_timeout = \"20ms\"\n"))
	must(f.install(t, "flaky", "echo.wasm", ""))
	if _, err := f.Mount("flood", flood{}, host.Limits{SendQueueMessages: 4}); err != nil {
		t.Fatal(err)
	}

	// Messages in and out, through echo.
	clients := make([]*hosttest.Client, 3)
	for i := range clients {
		clients[i] = f.Dial(t, "/ws/echo")
		for j := range 10 {
			clients[i].Call(fmt.Sprintf("hello %d", j))
		}
	}
	// A reload (instances = 2), and refused content.
	must(f.install(t, "echo", "echo.wasm", "instances = 2\n"))
	if err := f.install(t, "echo", "noabi.wasm", ""); err == nil {
		t.Fatal("noabi.wasm was loaded")
	}
	clients[0].Call("after the reload")

	// Rooms: openclose joins lobby on open.
	lobby := []*hosttest.Client{f.Dial(t, "/ws/lobby"), f.Dial(t, "/ws/lobby")}
	lobby[0].Expect("hello")
	lobby[1].Expect("hello")

	// A timeout (a fault), and a rollback: trap.wasm replaces echo.wasm and
	// faults in every call until it is rolled back.
	lc := f.Dial(t, "/ws/loop")
	lc.Send("spin")
	must(f.install(t, "flaky", "trap.wasm", ""))
	fc := f.Dial(t, "/ws/flaky")
	for i := range 60 {
		fc.Send(fmt.Sprintf("m%d", i))
	}
	hosttest.Eventually(t, "rollback", func() bool {
		for _, st := range f.plugins.Status() {
			if st.Name == "flaky" {
				return st.Rollbacks > 0
			}
		}
		return false
	})

	// A slow consumer.
	sc := f.Dial(t, "/ws/flood")
	sc.Send("x")
	sc.ExpectClose(host.ClosePolicy)

	// Refused handshakes.
	if _, resp, err := f.TryDial("/ws/nope", nil); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial /ws/nope: %v", err)
	}
	if _, resp, err := f.TryDial("/ws/echo", http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial with a foreign origin: %v", err)
	}
	resp, err := http.Get(f.HTTP.URL + "/ws/echo") // no Upgrade
	must(err)
	resp.Body.Close()

	var fams map[string]*dto.MetricFamily
	hosttest.Eventually(t, "timeouts counted", func() bool {
		fams = f.scrape(t)
		v, _ := value(fams, "wshost_plugin_timeouts_total", map[string]string{"plugin": "loop"})
		return v > 0
	})

	nonZero := []struct {
		name   string
		labels map[string]string
	}{
		{"wshost_ready", nil},
		{"wshost_handshakes_total", map[string]string{"result": "accepted"}},
		{"wshost_handshakes_total", map[string]string{"result": "not_found"}},
		{"wshost_handshakes_total", map[string]string{"result": "origin"}},
		{"wshost_handshakes_total", map[string]string{"result": "bad_handshake"}},
		{"wshost_connections", map[string]string{"plugin": "echo"}},
		{"wshost_messages_received_total", map[string]string{"plugin": "echo"}},
		{"wshost_received_bytes_total", map[string]string{"plugin": "echo"}},
		{"wshost_messages_sent_total", map[string]string{"plugin": "echo"}},
		{"wshost_sent_bytes_total", map[string]string{"plugin": "echo"}},
		{"wshost_queue_dropped_messages_total", map[string]string{"plugin": "flood"}},
		{"wshost_slow_consumer_closes_total", map[string]string{"plugin": "flood"}},
		{"wshost_rooms", map[string]string{"plugin": "lobby"}},
		{"wshost_room_members", map[string]string{"plugin": "lobby"}},
		{"wshost_plugin_info", map[string]string{"plugin": "echo", "version": "2"}},
		{"wshost_plugin_instances", map[string]string{"plugin": "echo"}},
		{"wshost_plugin_calls_total", map[string]string{"plugin": "echo", "version": "2", "callback": "on_message"}},
		{"wshost_plugin_call_duration_seconds", map[string]string{"plugin": "echo", "version": "2", "callback": "on_message"}},
		{"wshost_plugin_faults_total", map[string]string{"plugin": "loop", "version": "1"}},
		{"wshost_plugin_timeouts_total", map[string]string{"plugin": "loop", "version": "1"}},
		{"wshost_plugin_reloads_total", map[string]string{"plugin": "echo"}},
		{"wshost_plugin_reload_failures_total", map[string]string{"plugin": "echo"}},
		{"wshost_plugin_rollbacks_total", map[string]string{"plugin": "flaky"}},
		{"go_goroutines", nil},
	}
	for _, c := range nonZero {
		v, ok := value(fams, c.name, c.labels)
		switch {
		case !ok:
			t.Errorf("%s%v: missing", c.name, c.labels)
		case v <= 0:
			t.Errorf("%s%v = %v, want > 0", c.name, c.labels, v)
		}
	}
	// Exact values where the load was exact.
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"wshost_connections", map[string]string{"plugin": "echo"}, 3},
		{"wshost_rooms", map[string]string{"plugin": "lobby"}, 1},
		{"wshost_room_members", map[string]string{"plugin": "lobby"}, 2},
		{"wshost_messages_received_total", map[string]string{"plugin": "echo"}, 31},
		{"wshost_received_bytes_total", map[string]string{"plugin": "echo"}, float64(3*10*len("hello 0") + len("after the reload"))},
		{"wshost_plugin_reloads_total", map[string]string{"plugin": "echo"}, 1},
		{"wshost_plugin_reload_failures_total", map[string]string{"plugin": "echo"}, 1},
		{"wshost_plugin_rollbacks_total", map[string]string{"plugin": "flaky"}, 1},
		{"wshost_slow_consumer_closes_total", map[string]string{"plugin": "flood"}, 1},
		{"wshost_plugin_calls_total", map[string]string{"plugin": "echo", "version": "2", "callback": "on_message"}, 1},
	} {
		if v, _ := value(fams, c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	// The retired version 1 of echo has no series left.
	if _, ok := value(fams, "wshost_plugin_calls_total", map[string]string{"plugin": "echo", "version": "1"}); ok {
		t.Error("echo version 1 still has call series after it was replaced")
	}
	if t.Failed() {
		resp, _ := http.Get(f.HTTP.URL + "/metrics")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "wshost_") {
				t.Log(line)
			}
		}
	}
}

// blockClose is a native handler whose Close waits for release.
type blockClose struct{ closing, release chan struct{} }

func (blockClose) Open(context.Context, *host.Endpoint, host.ConnID) error { return nil }
func (blockClose) Message(context.Context, *host.Endpoint, host.ConnID, []byte, bool) error {
	return nil
}
func (blockClose) Error(context.Context, *host.Endpoint, host.ConnID, host.ErrorKind, string) {}
func (b blockClose) Close(context.Context, *host.Endpoint, host.ConnID, int, string) {
	close(b.closing)
	<-b.release
}

// TestReadyz: 503 before the plugins are loaded, 200 once they are, and
// 503 as soon as shutdown starts, while connections are still being
// closed; /healthz stays 200 (the process is alive).
func TestReadyz(t *testing.T) {
	f := newFixture(t, host.Config{})
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get(f.HTTP.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	f.SetReady(false)
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before SetReady: %d, want 503", got)
	}
	f.SetReady(true)
	if got := get("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz when ready: %d, want 200", got)
	}
	h := blockClose{closing: make(chan struct{}), release: make(chan struct{})}
	if _, err := f.Mount("block", h, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	c := f.Dial(t, "/ws/block")
	done := make(chan error, 1)
	go func() { done <- f.Shutdown(context.Background()) }()
	<-h.closing // shutdown is closing the connection
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz during shutdown: %d, want 503", got)
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Errorf("/healthz during shutdown: %d, want 200", got)
	}
	fams := f.scrape(t)
	if v, ok := value(fams, "wshost_ready", nil); !ok || v != 0 {
		t.Errorf("wshost_ready during shutdown = %v (%v), want 0", v, ok)
	}
	close(h.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestRouteClash: a route that clashes with the server's own is not
// served, and the server still starts.
func TestRouteClash(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "extra") })
	srv := host.New(host.Config{Logger: quietLogger(), Routes: map[string]http.Handler{
		"/healthz": ok, "/extra": ok,
	}})
	srv.SetReady(true)
	if err := srv.Handle("/readyz", ok); !errors.Is(err, host.ErrConfig) {
		t.Errorf("Handle(/readyz): %v, want ErrConfig", err)
	}
	if err := srv.Handle("/late", ok); err != nil {
		t.Errorf("Handle(/late): %v", err)
	}
	for path, want := range map[string]string{"/healthz": "ok\n", "/extra": "extra", "/late": "extra"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if got := rec.Body.String(); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}
}
