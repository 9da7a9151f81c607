package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/admin"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
)

const token = "0123456789abcdef-test-token"

type fixture struct {
	*hosttest.Server
	plugins *plugin.Plugins
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() })
	srv := hosttest.NewServer(t, host.Config{Logger: log})
	p = plugin.NewPlugins(srv.Server, plugin.Options{Logger: log})
	a, err := admin.New(token, srv.Server, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Handle("/admin/", a); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, file string }{{"echo", "echo.wasm"}, {"lobby", "openclose.wasm"}} {
		wasm, err := os.ReadFile(filepath.Join("..", "plugin", "testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Install(context.Background(), c.name, wasm, nil); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{Server: srv, plugins: p}
}

// do sends an admin request with auth as its Authorization header ("": none)
// and decodes a JSON answer into out (nil: ignored).
func (f *fixture) do(t *testing.T, method, path, auth string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, f.HTTP.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	body, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

func TestNewRefusesEmptyToken(t *testing.T) {
	srv := host.New(host.Config{})
	if _, err := admin.New("", srv, nil); !errors.Is(err, admin.ErrNoToken) {
		t.Fatalf("empty token: %v, want ErrNoToken", err)
	}
	if _, err := admin.New("short", srv, nil); err == nil {
		t.Fatal("a 5-byte token was accepted")
	}
}

func TestUnauthorized(t *testing.T) {
	f := newFixture(t)
	for _, auth := range []string{"", "Bearer wrong-token-0123456789", "Basic " + token, token, "Bearer " + token + "x"} {
		for _, req := range []struct{ method, path string }{
			{"GET", "/admin/plugins"}, {"GET", "/admin/rooms?plugin=lobby"},
			{"POST", "/admin/kick?plugin=echo&conn=1"}, {"GET", "/admin/nothing"},
		} {
			if got := f.do(t, req.method, req.path, auth, nil); got != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401", req.method, req.path, auth, got)
			}
		}
	}
}

func TestPlugins(t *testing.T) {
	f := newFixture(t)
	wasm, _ := os.ReadFile(filepath.Join("..", "plugin", "testdata", "noabi.wasm"))
	if err := f.plugins.Install(context.Background(), "echo", wasm, nil); err == nil {
		t.Fatal("noabi.wasm loaded")
	}
	c := f.Dial(t, "/ws/echo")
	c.Call("hi")
	var got admin.PluginsResponse
	if code := f.do(t, "GET", "/admin/plugins", "Bearer "+token, &got); code != http.StatusOK {
		t.Fatalf("GET /admin/plugins: %d", code)
	}
	if len(got.Plugins) != 2 || got.Plugins[0].Name != "echo" || got.Plugins[1].Name != "lobby" {
		t.Fatalf("plugins: %+v", got.Plugins)
	}
	e := got.Plugins[0]
	if !e.Loaded || e.Version != 1 || len(e.SHA256) != 64 || e.LoadedAt.IsZero() || e.LoadTime == "" ||
		e.Instances < 1 || e.Connections != 1 || e.Rollbacks != 0 {
		t.Errorf("echo: %+v", e)
	}
	if !strings.Contains(e.LastError, "wshost_abi_v1") || e.LastErrorAt.IsZero() {
		t.Errorf("echo's last error: %q at %v", e.LastError, e.LastErrorAt)
	}
	if l := got.Plugins[1]; l.LastError != "" {
		t.Errorf("lobby has a last error: %q", l.LastError)
	}
}

func TestRooms(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.Dial(t, "/ws/lobby").Expect("hello")
	}
	var got admin.RoomsResponse
	if code := f.do(t, "GET", "/admin/rooms?plugin=lobby", "Bearer "+token, &got); code != http.StatusOK {
		t.Fatalf("GET /admin/rooms: %d", code)
	}
	if got.Plugin != "lobby" || len(got.Rooms) != 1 || got.Rooms[0] != (host.RoomInfo{Name: "lobby", Members: 3}) {
		t.Fatalf("rooms: %+v", got)
	}
	if code := f.do(t, "GET", "/admin/rooms?plugin=echo", "Bearer "+token, &got); code != http.StatusOK || len(got.Rooms) != 0 {
		t.Fatalf("echo's rooms: %d %+v", code, got)
	}
	if code := f.do(t, "GET", "/admin/rooms?plugin=nope", "Bearer "+token, nil); code != http.StatusNotFound {
		t.Errorf("unknown plugin: %d, want 404", code)
	}
	if code := f.do(t, "GET", "/admin/rooms", "Bearer "+token, nil); code != http.StatusBadRequest {
		t.Errorf("no plugin: %d, want 400", code)
	}
}

func TestKick(t *testing.T) {
	f := newFixture(t)
	c := f.Dial(t, "/ws/echo")
	other := f.Dial(t, "/ws/echo")
	c.Call("hi")
	ids := f.Endpoint("echo").ConnIDs()
	if len(ids) != 2 {
		t.Fatalf("conns: %v", ids)
	}
	id := min(ids[0], ids[1]) // c dialled first
	path := "/admin/kick?plugin=echo&conn=" + id.String()
	if code := f.do(t, "GET", path, "Bearer "+token, nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET kick: %d, want 405", code)
	}
	var got admin.KickResponse
	if code := f.do(t, "POST", path, "Bearer "+token, &got); code != http.StatusOK {
		t.Fatalf("POST kick: %d", code)
	}
	if got.Conn != id || got.Code != host.ClosePolicy || got.Reason != "kicked by the operator" {
		t.Errorf("kick: %+v", got)
	}
	c.ExpectClose(host.ClosePolicy)
	other.Call("still here")
	hosttest.Eventually(t, "kicked connection gone", func() bool { return len(f.Endpoint("echo").ConnIDs()) == 1 })
	if code := f.do(t, "POST", path, "Bearer "+token, nil); code != http.StatusConflict {
		t.Errorf("kick again: %d, want 409", code)
	}
	if code := f.do(t, "POST", "/admin/kick?plugin=echo&conn=999999", "Bearer "+token, nil); code != http.StatusNotFound {
		t.Errorf("kick unknown conn: %d, want 404", code)
	}
	if code := f.do(t, "POST", "/admin/kick?plugin=echo&conn=abc", "Bearer "+token, nil); code != http.StatusBadRequest {
		t.Errorf("kick conn=abc: %d, want 400", code)
	}
}

// TestProfilerBehindToken: Go's profiles are served under /admin/debug/pprof/
// to the token holder only.
func TestProfilerBehindToken(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path, auth string
		status     int
	}{
		{"/admin/debug/pprof/heap", "", http.StatusUnauthorized},
		{"/admin/debug/pprof/heap", "Bearer " + token, http.StatusOK},
		{"/admin/debug/pprof/goroutine?debug=1", "Bearer " + token, http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", f.HTTP.URL+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 200 && len(body) == 0) {
			t.Errorf("%s (auth %q): %d with %d bytes, want %d", tc.path, tc.auth, resp.StatusCode, len(body), tc.status)
		}
	}
}
