package plugin_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
)

// stateString reads a state key of an endpoint ("" when absent).
func stateString(f *fixture, name, key string) string {
	ep := f.Endpoint(name)
	if ep == nil {
		return ""
	}
	v, err := ep.StateGet(key)
	if err != nil {
		return ""
	}
	return string(v)
}

func stateCounter(f *fixture, name, key string) int64 {
	v := stateString(f, name, key)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64([]byte(v)))
}

// TestFaultsKeepServing: a callback that traps or loops forever is
// reported with on_error kind 3 to its connection, its instance is thrown
// away, and the connection and every other one carry on.
func TestFaultsKeepServing(t *testing.T) {
	for _, tc := range []struct {
		name, file, manifest, prefix string
	}{
		{"trap", "trap.wasm", "", "3 trap: on_message"},
		{"deadline", "loop.wasm", "[limits]\ncall_timeout = \"50ms\"\n", "3 deadline: on_message ran past 50ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, host.Config{})
			f.install(t, "bad", tc.file, "instances = 1\n"+tc.manifest)
			f.install(t, "echo", "echo.wasm", "")
			other := f.Dial(t, "/ws/echo")
			c := f.Dial(t, "/ws/bad")
			for i := range 3 {
				c.Send("boom")
				hosttest.Eventually(t, "on_error recorded", func() bool {
					return strings.HasPrefix(stateString(f, "bad", "last_error"), tc.prefix)
				})
				if i < 2 {
					f.Endpoint("bad").StateDelete("last_error")
				}
				other.Send("still here")
				other.Expect("still here")
			}
			// The faulting connection is still open: closing it delivers on_close.
			c.Close()
			hosttest.EventuallyEqual(t, "closes", 1, func() int64 { return stateCounter(f, "bad", "closes") })
		})
	}
}

// TestCloseOnFault: with close_on_fault the connection is closed with 1011.
func TestCloseOnFault(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "bad", "trap.wasm", "close_on_fault = true\n")
	c := f.Dial(t, "/ws/bad")
	c.Send("boom")
	c.ExpectClose(host.CloseInternalError)
}

// TestMemoryGrowthStopsAtLimit: memory.grow past the limit returns -1 (no
// fault) and the plugin keeps working.
func TestMemoryGrowthStopsAtLimit(t *testing.T) {
	for _, tc := range []struct {
		manifest string
		want     string
	}{
		{"", "769"}, // 64 MiB = 1024 pages: 1 + 3*256
		{"[limits]\nmemory_bytes = 33554432\n", "257"}, // 512 pages
	} {
		f := newFixture(t, host.Config{})
		f.install(t, "grow", "grow.wasm", tc.manifest)
		c := f.Dial(t, "/ws/grow")
		c.Send("grow")
		c.Expect(tc.want)
		c.Send("grow")
		c.Expect(tc.want)
		if got := stateString(f, "grow", "last_error"); got != "" {
			t.Fatalf("memory growth reported an error: %q", got)
		}
	}
}

// TestBadPointers: every pointer argument outside memory answers BAD_ARG.
func TestBadPointers(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "badptr", "badptr.wasm", "[config]\nx = \"1\"\n")
	c := f.Dial(t, "/ws/badptr")
	c.Send(strings.Repeat("x", 100))
	got := c.ReadText()
	fields := strings.Fields(got)
	if len(fields) != 24 {
		t.Fatalf("got %d results, want 24: %q", len(fields), got)
	}
	for _, f := range fields {
		if !strings.HasSuffix(f, "=-2,-2") {
			t.Errorf("%s: want -2,-2 (BAD_ARG for a far and an edge pointer)", f)
		}
	}
	if _, err := f.Endpoint("badptr").StateGet("badptr.add"); err == nil {
		t.Error("state_add with a bad out pointer changed state")
	}
}

// TestHostCallBudget: past the budget, host calls answer ERR_LIMIT and the
// callback goes on.
func TestHostCallBudget(t *testing.T) {
	for _, tc := range []struct {
		manifest, want string
	}{
		{"instances = 1\n", "9999 2001 -5"},
		{"instances = 1\n[limits]\nhost_calls = 500\n", "499 11501 -5"},
		{"instances = 1\n[limits]\nhost_calls = 20000\n", "12000 0 0"},
	} {
		f := newFixture(t, host.Config{})
		f.install(t, "budget", "budget.wasm", tc.manifest)
		c := f.Dial(t, "/ws/budget")
		c.Send("report")
		c.Expect("none")
		c.Send("run")
		if tc.want == "12000 0 0" {
			c.Expect("12000 0")
		}
		c.Send("report")
		c.Expect(tc.want)
	}
}

// TestOpenRejectUndoes: on_open's rejection answers 403 and undoes its
// joins, attributes and sends; a fault answers 500. No on_close follows.
func TestOpenRejectUndoes(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "oc", "openclose.wasm", "")
	c := f.Dial(t, "/ws/oc")
	c.Expect("hello")
	for _, tc := range []struct {
		mode   string
		status int
	}{{"reject", 403}, {"trap", 500}} {
		_, resp, err := f.TryDial("/ws/oc?mode="+tc.mode, nil)
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Fatalf("mode=%s: got %v %v, want HTTP %d", tc.mode, resp, err, tc.status)
		}
	}
	c.Send("size?")
	c.Expect("1") // only c is in the lobby: the rejected joins were undone
	c.Close()
	hosttest.EventuallyEqual(t, "closes", 1, func() int64 { return stateCounter(f, "oc", "closes") })
}

// TestInvalidModulesRefused: modules that break the ABI are refused with an
// error naming the problem, and the last good version keeps serving.
func TestInvalidModulesRefused(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "p", "echo.wasm", "")
	c := f.Dial(t, "/ws/p")
	for _, tc := range []struct {
		file, want string
	}{
		{"noabi.wasm", `missing required export "wshost_abi_v1"`},
		{"badsig.wasm", `export "on_message" has signature (i32) -> (i32), want (i64, i32, i32) -> (i32)`},
		{"foreign.wasm", `from module "env"`},
		{"bigmem.wasm", "memory minimum 2000 pages"},
		{"nomemory.wasm", `missing required export "memory"`},
	} {
		err := f.plugins.Install(context.Background(), "p", readTestdata(t, tc.file), nil)
		if !errors.Is(err, plugin.ErrInvalidModule) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrInvalidModule naming %q", tc.file, err, tc.want)
		}
		c.Send("still echo")
		c.Expect("still echo")
	}
	for _, junk := range [][]byte{nil, []byte("not wasm"), {0, 'a', 's', 'm', 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f}} {
		if err := f.plugins.Install(context.Background(), "p", junk, nil); !errors.Is(err, plugin.ErrInvalidModule) {
			t.Errorf("%q: got %v, want ErrInvalidModule", junk, err)
		}
	}
}

// TestSandbox: through WASI a plugin sees no preopened directory, no
// environment, no arguments, and cannot accept or open anything.
func TestSandbox(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "sandbox", "sandbox.wasm", "")
	c := f.Dial(t, "/ws/sandbox")
	c.Send("what can I reach?")
	got := c.ReadText()
	// 8 is EBADF; path_open answers an error (wazero says EPERM, 63), never 0.
	if !strings.HasPrefix(got, "prestat=8 environ=0 args=0 sock=8 open=") || strings.HasSuffix(got, "open=0") {
		t.Fatalf("got %q", got)
	}
}
