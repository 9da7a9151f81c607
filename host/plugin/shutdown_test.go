package plugin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// TestShutdownClosesEveryone: at shutdown every client gets 1001 and the
// plugin gets on_close (code 1001) for each before Shutdown returns.
func TestShutdownClosesEveryone(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	var clients []*hosttest.Client
	var ids []string
	for range 4 {
		c := f.Dial(t, "/ws/probe?open=join:lobby")
		clients = append(clients, c)
		ids = append(ids, strings.TrimPrefix(c.Call("id"), "= "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), hosttest.Timeout)
	defer cancel()
	if err := f.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stateCounter(f, "probe", "closes"); got != int64(len(clients)) {
		t.Fatalf("on_close ran %d times before Shutdown returned, want %d", got, len(clients))
	}
	for i, c := range clients {
		c.ExpectClose(host.CloseGoingAway)
		if got := stateString(f, "probe", "close:"+ids[i]); got != "1001 server shutting down|lobby" {
			t.Errorf("client %s: on_close recorded %q", ids[i], got)
		}
	}
	if _, resp, err := f.TryDial("/ws/probe", nil); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("dial after shutdown: %v %v, want 503", resp, err)
	}
}
