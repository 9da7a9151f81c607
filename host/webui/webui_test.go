package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, srv *httptest.Server, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestIndex(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	resp, body := get(t, srv, "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET / Content-Type = %q, want text/html", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET / Cache-Control = %q, want no-cache", cc)
	}
	if !strings.Contains(body, `<script type="module" src="./app.js"></script>`) {
		t.Errorf("GET / body lacks the app script tag")
	}
	for _, id := range []string{"status", "log", "message-input", "member-list", "nick-input", "room-input"} {
		if !strings.Contains(body, `data-testid="`+id+`"`) {
			t.Errorf("GET / body lacks data-testid %q", id)
		}
	}

	// Same file by name.
	if resp, _ := get(t, srv, "/index.html", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /index.html = %d, want 200", resp.StatusCode)
	}
}

func TestAssets(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	for path, want := range map[string]string{
		"/app.js":           "text/javascript",
		"/style.css":        "text/css",
		"/wshost-client.js": "text/javascript",
	} {
		resp, body := get(t, srv, path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s Content-Type = %q, want %s", path, ct, want)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s Cache-Control = %q, want no-cache", path, cc)
		}
		if body == "" {
			t.Errorf("GET %s: empty body", path)
		}

		// Revalidation with the ETag answers 304.
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", path)
			continue
		}
		if resp, _ := get(t, srv, path, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match = %d, want 304", path, resp.StatusCode)
		}
	}
}

func TestNotFound(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	for _, path := range []string{"/nope", "/static/app.js", "/../webui.go", "/app.js/"} {
		if resp, _ := get(t, srv, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	resp, err := srv.Client().Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}
}

func TestUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{"/chat/", "/chat/app.js", "/chat/style.css", "/chat/wshost-client.js"} {
		if resp, _ := get(t, srv, path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
}

// The page's scripts refer to each other and to the socket by relative
// URLs only, so the page works under any path prefix and over https.
func TestRelativeURLs(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	_, app := get(t, srv, "/app.js", nil)
	if !strings.Contains(app, `from './wshost-client.js'`) {
		t.Errorf("app.js does not import ./wshost-client.js")
	}
	if !strings.Contains(app, `socketURL('ws/chat'`) {
		t.Errorf("app.js does not compute the socket URL from ws/chat relative to the page")
	}
	_, client := get(t, srv, "/wshost-client.js", nil)
	for _, export := range []string{"export function connect(", "export function socketURL(", "export function backoffDelay("} {
		if !strings.Contains(client, export) {
			t.Errorf("wshost-client.js lacks %q", export)
		}
	}
	for name, body := range map[string]string{"app.js": app, "wshost-client.js": client} {
		for _, abs := range []string{"'/ws/", "\"/ws/", "ws://", "wss://", "http://", "https://"} {
			if strings.Contains(body, abs) {
				t.Errorf("%s contains the absolute reference %q", name, abs)
			}
		}
	}
}
