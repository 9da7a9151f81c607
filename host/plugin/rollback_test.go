package plugin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
)

// replies reads c's messages into a channel until c closes.
func replies(c *hosttest.Client) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			ch <- string(msg)
		}
	}()
	return ch
}

// sendUntilEcho sends numbered messages one at a time on c, each answered
// either by its echo or, while trap.wasm serves, by the trap's on_error
// record, until one is echoed. It returns how many faulted first.
func sendUntilEcho(t *testing.T, f *fixture, c *hosttest.Client, in <-chan string, tag string) (faults int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		f.Endpoint("p").StateDelete("last_error")
		want := fmt.Sprintf("%s %d", tag, i)
		c.Send(want)
		deadline := time.After(hosttest.Timeout)
		for answered := false; !answered; {
			select {
			case got, ok := <-in:
				if !ok {
					t.Fatalf("connection dropped after %d faults", faults)
				}
				if got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
				return faults
			case <-deadline:
				t.Fatalf("message %q: neither echoed nor faulted", want)
			case <-time.After(time.Millisecond):
				if stateString(f, "p", "last_error") != "" {
					faults++
					answered = true
				}
			}
		}
	}
	t.Fatalf("still faulting after 200 messages")
	return 0
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestRollbackOnFaults: a reload whose calls keep faulting is rolled back
// to the last good version within its first 50 calls; connections stay
// open; the same bad bytes are refused afterwards; different bytes load
// (and are rolled back in turn).
func TestRollbackOnFaults(t *testing.T) {
	w := newWatchFixture(t)
	ctx := context.Background()
	echo, trap := readTestdata(t, "echo.wasm"), readTestdata(t, "trap.wasm")
	if err := w.plugins.Install(ctx, "p", echo, nil); err != nil {
		t.Fatal(err)
	}
	c := w.Dial(t, "/ws/p")
	in := replies(c)
	idle := w.Dial(t, "/ws/p")
	c.Send("before")
	if got := <-in; got != "before" {
		t.Fatalf("got %q", got)
	}

	for round, bad := range [][]byte{trap, withCustomSection(trap, "build", "2")} {
		n := w.count()
		if err := w.plugins.Install(ctx, "p", bad, nil); err != nil {
			t.Fatalf("round %d: install the faulty version: %v", round, err)
		}
		faults := sendUntilEcho(t, w.fixture, c, in, fmt.Sprint("round", round))
		// Rollback trips at the 26th fault (more than half of 50). The
		// rollback itself is asynchronous: on a busy machine more messages
		// fault before it lands, so only the lower bound is the host's.
		if faults < 26 {
			t.Errorf("round %d: %d faults before echo served again, want 26 or more", round, faults)
		}
		ev := w.waitEvent(t, n, func(ev plugin.LoadEvent) bool { return ev.RolledBack })
		if !errors.Is(ev.Err, plugin.ErrRolledBack) || ev.Version.SHA256 != sha(echo) {
			t.Errorf("round %d: rollback event %+v, want ErrRolledBack and echo's hash", round, ev)
		}
		t.Logf("round %d: %d faults, then %v", round, faults, ev.Err)
		if got := w.plugins.Rollbacks(); got != uint64(round+1) {
			t.Errorf("Rollbacks() = %d, want %d", got, round+1)
		}
		// The same bad bytes again are refused; echo keeps serving.
		err := w.plugins.Install(ctx, "p", bad, nil)
		if !errors.Is(err, plugin.ErrRolledBack) {
			t.Errorf("round %d: installing the rolled-back bytes again: %v, want ErrRolledBack", round, err)
		}
		c.Send("still echo")
		if got := <-in; got != "still echo" {
			t.Fatalf("got %q", got)
		}
	}
	idle.Send("idle")
	idle.Expect("idle")
}

// TestNoRollbackForGoodReload: a reload that does not fault is no
// rollback, and neither is a first load that faults (nothing to go back to).
func TestNoRollbackForGoodReload(t *testing.T) {
	w := newWatchFixture(t)
	ctx := context.Background()
	echo, trap := readTestdata(t, "echo.wasm"), readTestdata(t, "trap.wasm")
	if err := w.plugins.Install(ctx, "bad", trap, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.plugins.Install(ctx, "p", echo, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.plugins.Install(ctx, "p", withCustomSection(echo, "build", "2"), nil); err != nil {
		t.Fatal(err)
	}
	b := w.Dial(t, "/ws/bad")
	c := w.Dial(t, "/ws/p")
	for i := range 60 {
		b.Send("boom")
		c.Send(fmt.Sprint(i))
		c.Expect(fmt.Sprint(i))
	}
	hosttest.Eventually(t, "faults recorded", func() bool { return stateString(w.fixture, "bad", "last_error") != "" })
	if got := w.plugins.Rollbacks(); got != 0 {
		t.Fatalf("Rollbacks() = %d, want 0", got)
	}
	if v, _ := w.plugins.Engine("p").Current(); v.Number != 2 {
		t.Fatalf("version %d serves, want 2", v.Number)
	}
}
