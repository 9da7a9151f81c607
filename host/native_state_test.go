package host_test

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wshost/wshost/host"
)

func TestEndpointState(t *testing.T) {
	srv := newServer(t, host.Config{})
	rec := newRecorder(t)
	ep := mount(t, srv, "st", rec, host.Limits{StateBytes: 64})

	if _, err := ep.StateGet("k"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
	val := []byte("value")
	if err := ep.StateSet("k", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store keeps a copy
	if v, err := ep.StateGet("k"); string(v) != "value" || err != nil {
		t.Errorf("get: %q, %v", v, err)
	}
	if err := ep.StateSet("empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, err := ep.StateGet("empty"); len(v) != 0 || err != nil {
		t.Errorf("an empty value is a value: %q, %v", v, err)
	}
	// 1+5 + 5+0 = 11 bytes used; 53 left for "big" (3) and its value.
	if err := ep.StateSet("big", make([]byte, 50)); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	if err := ep.StateSet("x", nil); !errors.Is(err, host.ErrLimit) {
		t.Errorf("one byte over: %v, want ErrLimit", err)
	}
	if err := ep.StateSet("big", make([]byte, 51)); !errors.Is(err, host.ErrLimit) {
		t.Errorf("growing a value past the limit: %v, want ErrLimit", err)
	}
	if v, _ := ep.StateGet("big"); len(v) != 50 {
		t.Errorf("a refused set changed the value: %d bytes", len(v))
	}
	if err := ep.StateSet("big", make([]byte, 10)); err != nil {
		t.Errorf("shrinking: %v", err)
	}
	if _, err := ep.StateAdd("k", 1); !errors.Is(err, host.ErrBadArg) {
		t.Errorf("add to a 5-byte value: %v, want ErrBadArg", err)
	}
	if err := ep.StateDelete("k"); err != nil {
		t.Error(err)
	}
	if err := ep.StateDelete("k"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if n, err := ep.StateAdd("n", 5); n != 5 || err != nil {
		t.Errorf("add to missing: %d, %v", n, err)
	}
	if n, err := ep.StateAdd("n", -7); n != -2 || err != nil {
		t.Errorf("add: %d, %v", n, err)
	}
	if v, _ := ep.StateGet("n"); len(v) != 8 || int64(binary.LittleEndian.Uint64(v)) != -2 {
		t.Errorf("counter bytes %x", v)
	}
	// Used: empty 5, big 3+10, n 1+8 = 27; a new counter with a 30-byte key
	// would need 38.
	if _, err := ep.StateAdd(strings.Repeat("c", 30), 1); !errors.Is(err, host.ErrLimit) {
		t.Errorf("counter past the limit: %v, want ErrLimit", err)
	}
	// Deleting frees its bytes.
	_ = ep.StateDelete("big")
	if _, err := ep.StateAdd(strings.Repeat("c", 30), 1); err != nil {
		t.Errorf("after delete: %v", err)
	}
}

// StateAdd is an atomic read-modify-write.
func TestEndpointStateAddConcurrent(t *testing.T) {
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "st", newRecorder(t), host.Limits{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 500 {
				if _, err := ep.StateAdd("count", 1); err != nil {
					t.Error(err)
					return
				}
				_ = ep.StateSet("k"+strconv.Itoa(g), []byte("v"))
				_, _ = ep.StateGet("count")
			}
		})
	}
	wg.Wait()
	if n, _ := ep.StateAdd("count", 0); n != 8*500 {
		t.Errorf("count %d, want %d", n, 8*500)
	}
}

func TestConnInfo(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{Subprotocols: []string{"chat.v2", "chat.v1"}})
	ep := mount(t, srv, "info", rec, host.Limits{})
	hdr := http.Header{"X-Trace": {"abc", "def"}, "Sec-Websocket-Protocol": {"chat.v1, chat.v2"}}
	c, resp, err := srv.TryDial("/ws/info?name=a&room=&room2=x&room2=y", hdr)
	if err != nil {
		t.Fatal(err)
	}
	c.Bind(t)
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat.v1" {
		t.Errorf("negotiated %q", got)
	}
	id := rec.id(t, "a")
	for key, want := range map[string]string{
		"id":             id.String(),
		"remote_addr":    c.LocalAddr().String(),
		"path":           "/ws/info",
		"query.name":     "a",
		"query.room":     "",
		"query.room2":    "x",
		"header.x-trace": "abc",
		"header.X-TRACE": "abc",
		"subprotocol":    "chat.v1",
	} {
		if got, err := ep.ConnInfo(id, key); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", key, got, err, want)
		}
	}
	for _, key := range []string{"query.nope", "header.x-nope", "attr.nick", "nope", "query", "ID", ""} {
		if got, err := ep.ConnInfo(id, key); !errors.Is(err, host.ErrNotFound) {
			t.Errorf("%q: %q, %v; want ErrNotFound", key, got, err)
		}
	}
	if err := ep.ConnSet(id, "nick", "bob"); err != nil {
		t.Fatal(err)
	}
	if got, err := ep.ConnInfo(id, "attr.nick"); got != "bob" || err != nil {
		t.Errorf("attr.nick: %q, %v", got, err)
	}
	_ = ep.ConnSet(id, "nick", "")
	if _, err := ep.ConnInfo(id, "attr.nick"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("removed attribute: %v", err)
	}
	if _, err := ep.ConnInfo(id+1000, "id"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("unknown connection: %v", err)
	}
	if err := ep.ConnSet(id+1000, "k", "v"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("set on unknown connection: %v", err)
	}

	// No subprotocol offered: present and empty.
	srv.Dial(t, "/ws/info?name=b")
	idb := rec.id(t, "b")
	if got, err := ep.ConnInfo(idb, "subprotocol"); got != "" || err != nil {
		t.Errorf("no subprotocol: %q, %v", got, err)
	}
}
