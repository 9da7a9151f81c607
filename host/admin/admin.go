// Package admin is wshost's operator API: JSON over HTTP, guarded by a
// bearer token, off unless a token is configured (New refuses an empty one).
//
//	GET  /admin/plugins                 every plugin: version, sha256, load time, last error, instances, rollbacks, connections
//	GET  /admin/rooms?plugin=NAME       the plugin's rooms and their member counts
//	POST /admin/kick?plugin=NAME&conn=ID[&reason=TEXT]
//	                                    close a connection with 1008 (reason "kicked by the operator" by default)
//
// Every request needs the header "Authorization: Bearer TOKEN"; without it,
// or with another token, the answer is 401. Errors are JSON too:
// {"error": "..."}. Mount the handler at "/admin/", on the main listener
// or on one of its own:
//
//	a, err := admin.New(token, srv, plugins) // an empty token: leave the API off
//	if err != nil { ... }
//	if err := srv.Handle("/admin/", a); err != nil { ... }
package admin

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
)

// ErrNoToken is returned by New for an empty token: the admin API is off
// unless a token is configured.
var ErrNoToken = errors.New("admin: a token is required (the admin API is off without one)")

// minTokenLen is the shortest token New accepts.
const minTokenLen = 16

// New returns the admin API of srv and plugins (nil: endpoints without
// plugin details, say for native handlers) guarded by token, which must be
// at least 16 bytes. Safe for concurrent use.
func New(token string, srv *host.Server, plugins *plugin.Plugins) (http.Handler, error) {
	switch {
	case token == "":
		return nil, ErrNoToken
	case len(token) < minTokenLen:
		return nil, fmt.Errorf("admin: the token is %d bytes: use at least %d (openssl rand -hex 32)", len(token), minTokenLen)
	case strings.TrimSpace(token) != token:
		return nil, errors.New("admin: the token has leading or trailing white space")
	case srv == nil:
		return nil, errors.New("admin: no server")
	}
	a := &api{srv: srv, plugins: plugins, token: sha256.Sum256([]byte(token)), mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /admin/plugins", a.servePlugins)
	a.mux.HandleFunc("GET /admin/rooms", a.serveRooms)
	a.mux.HandleFunc("POST /admin/kick", a.serveKick)
	// Go's profiler, behind the same token: profiles of a live server are
	// how its costs are found (fetch with curl -H "Authorization: Bearer …"
	// and open the file with go tool pprof).
	a.mux.Handle("GET /admin/debug/pprof/", http.StripPrefix("/admin", http.HandlerFunc(pprof.Index)))
	a.mux.HandleFunc("GET /admin/debug/pprof/profile", pprof.Profile)
	a.mux.HandleFunc("GET /admin/debug/pprof/trace", pprof.Trace)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow, ok := methods[r.URL.Path]; ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, r.URL.Path+" answers "+allow+", not "+r.Method)
			return
		}
		writeError(w, http.StatusNotFound, "no such admin endpoint: "+r.Method+" "+r.URL.Path+
			" (GET /admin/plugins, GET /admin/rooms?plugin=NAME, POST /admin/kick?plugin=NAME&conn=ID)")
	})
	return a, nil
}

// methods are the admin paths and the method each answers.
var methods = map[string]string{"/admin/plugins": "GET", "/admin/rooms": "GET", "/admin/kick": "POST"}

// api is the handler New returns. Immutable.
type api struct {
	srv     *host.Server
	plugins *plugin.Plugins
	token   [sha256.Size]byte // compared as hashes: in constant time, whatever the lengths
	mux     *http.ServeMux
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wshost admin"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token: send 'Authorization: Bearer TOKEN'")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

func (a *api) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], a.token[:]) == 1
}

// Plugin is one entry of GET /admin/plugins.
type Plugin struct {
	Name string `json:"name"`
	// Loaded: a version is serving; the version fields describe it.
	Loaded          bool      `json:"loaded"`
	Version         uint64    `json:"version,omitempty"`
	SHA256          string    `json:"sha256,omitempty"`
	LoadedAt        time.Time `json:"loaded_at,omitzero"`
	LoadTime        string    `json:"load_time,omitempty"`
	LoadTimeSeconds float64   `json:"load_time_seconds,omitempty"`
	LastError       string    `json:"last_error,omitempty"`
	LastErrorAt     time.Time `json:"last_error_at,omitzero"`
	Instances       int64     `json:"instances"`
	Rollbacks       uint64    `json:"rollbacks"`
	Connections     int64     `json:"connections"`
}

// PluginsResponse is the body of GET /admin/plugins.
type PluginsResponse struct {
	Plugins []Plugin `json:"plugins"`
}

func (a *api) servePlugins(w http.ResponseWriter, _ *http.Request) {
	var out []Plugin
	seen := make(map[string]bool)
	if a.plugins != nil {
		for _, st := range a.plugins.Status() {
			p := Plugin{Name: st.Name, Loaded: st.Loaded, Instances: st.Instances, Rollbacks: st.Rollbacks,
				LastError: st.LastError, LastErrorAt: st.LastErrorAt}
			if st.Loaded {
				v := st.Version
				p.Version, p.SHA256, p.LoadedAt = v.Number, v.SHA256, v.LoadedAt
				p.LoadTime, p.LoadTimeSeconds = v.LoadTime.String(), v.LoadTime.Seconds()
			}
			if ep := a.srv.Endpoint(st.Name); ep != nil {
				p.Connections = ep.Stats().Connections
			}
			seen[st.Name] = true
			out = append(out, p)
		}
	}
	for _, ep := range a.srv.Endpoints() { // handlers that are not plugins
		if !seen[ep.Name()] {
			out = append(out, Plugin{Name: ep.Name(), Loaded: true, Connections: ep.Stats().Connections})
		}
	}
	slices.SortFunc(out, func(x, y Plugin) int { return cmp.Compare(x.Name, y.Name) })
	if out == nil {
		out = []Plugin{}
	}
	writeJSON(w, http.StatusOK, PluginsResponse{Plugins: out})
}

// RoomsResponse is the body of GET /admin/rooms.
type RoomsResponse struct {
	Plugin string          `json:"plugin"`
	Rooms  []host.RoomInfo `json:"rooms"`
}

func (a *api) serveRooms(w http.ResponseWriter, r *http.Request) {
	ep, ok := a.endpoint(w, r)
	if !ok {
		return
	}
	rooms, err := ep.Rooms()
	if err != nil {
		writeError(w, http.StatusNotImplemented, err.Error())
		return
	}
	slices.SortFunc(rooms, func(x, y host.RoomInfo) int { return cmp.Compare(x.Name, y.Name) })
	if rooms == nil {
		rooms = []host.RoomInfo{}
	}
	writeJSON(w, http.StatusOK, RoomsResponse{Plugin: ep.Name(), Rooms: rooms})
}

// KickResponse is the body of a successful POST /admin/kick.
type KickResponse struct {
	Plugin string      `json:"plugin"`
	Conn   host.ConnID `json:"conn"`
	Code   int         `json:"code"`
	Reason string      `json:"reason"`
}

func (a *api) serveKick(w http.ResponseWriter, r *http.Request) {
	ep, ok := a.endpoint(w, r)
	if !ok {
		return
	}
	raw := r.FormValue("conn")
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("conn=%q: want a connection id (a positive integer)", raw))
		return
	}
	reason := r.FormValue("reason")
	if reason == "" {
		reason = "kicked by the operator"
	}
	switch err := ep.Kick(host.ConnID(id), reason); {
	case err == nil:
		writeJSON(w, http.StatusOK, KickResponse{Plugin: ep.Name(), Conn: host.ConnID(id), Code: host.ClosePolicy, Reason: reason})
	case errors.Is(err, host.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("plugin %s has no connection %d", ep.Name(), id))
	case errors.Is(err, host.ErrClosed):
		writeError(w, http.StatusConflict, fmt.Sprintf("connection %d is already closing or gone", id))
	default:
		writeError(w, http.StatusBadRequest, err.Error())
	}
}

// endpoint finds the endpoint named by the plugin parameter, or answers 400
// or 404 and reports false.
func (a *api) endpoint(w http.ResponseWriter, r *http.Request) (*host.Endpoint, bool) {
	name := r.FormValue("plugin")
	if name == "" {
		writeError(w, http.StatusBadRequest, "missing parameter plugin=NAME")
		return nil, false
	}
	ep := a.srv.Endpoint(name)
	if ep == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no plugin %q is served", name))
		return nil, false
	}
	return ep, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}
