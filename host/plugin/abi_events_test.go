package plugin_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// closeRecordBetween returns the probe's on_close record of the one
// connection whose id lies strictly between lo and hi (ids of connections
// dialed before and after it), "" when there is none yet. Ids are handed out
// in increasing order by a test server.
func closeRecordBetween(f *fixture, lo, hi string) string {
	l, _ := strconv.ParseUint(lo, 10, 64)
	h, _ := strconv.ParseUint(hi, 10, 64)
	for id := l + 1; id < h; id++ {
		if v := stateString(f, "probe", "close:"+strconv.FormatUint(id, 10)); v != "" {
			return v
		}
	}
	return ""
}

// TestABIOnOpenRefused: on_open's rejection answers 403, its fault 500;
// neither is followed by on_close or on_error, and what on_open did is
// undone.
func TestABIOnOpenRefused(t *testing.T) {
	f := newFixture(t, host.Config{})
	// One instance: once s's close record is there, ctl's next command runs
	// after s's on_close has finished counting.
	f.install(t, "probe", "probe.wasm", "instances = 1\n[limits]\ncall_timeout = \"50ms\"\n")
	ctl := dialProbe(t, f, "/ws/probe")
	for _, tc := range []struct {
		name, query string
		status      int
		room        string // joined by on_open, must be empty afterwards
	}{
		{"reject", "open=reject", http.StatusForbidden, ""},
		{"join, then reject", "open=joinreject:jr", http.StatusForbidden, "jr"},
		{"trap", "open=trap", http.StatusInternalServerError, ""},
		{"panic", "open=panic", http.StatusInternalServerError, ""},
		{"deadline", "open=loop", http.StatusInternalServerError, ""},
	} {
		c, resp, err := f.TryDial("/ws/probe?"+tc.query, nil)
		if err == nil {
			c.Bind(t)
			t.Errorf("%s: the handshake succeeded, want HTTP %d", tc.name, tc.status)
			continue
		}
		if resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s: got %v (response %v), want HTTP %d", tc.name, err, resp, tc.status)
		}
		if tc.room != "" {
			ctl.expect("size "+tc.room, "= 0")
		}
	}
	// Every refused connection is over: one more connection that opens and
	// closes cleanly is the only on_close, and there was no on_error.
	s := dialProbe(t, f, "/ws/probe")
	sendClose(t, s.Client, 1000, "")
	hosttest.EventuallyEqual(t, "s's close record", "1000 |", func() string { return stateString(f, "probe", "close:"+s.id) })
	if got := ctl.Call("sadd closes 0"); got != "= 0 1" {
		t.Errorf("closes: %q, want \"= 0 1\" (on_close ran for a refused connection)", got)
	}
	if got := ctl.Call("sadd errors 0"); got != "= 0 0" {
		t.Errorf("errors: %q, want \"= 0 0\" (on_error ran for a refused connection)", got)
	}
}

// TestABIOnOpenAccepted: what an accepting on_open does takes effect.
func TestABIOnOpenAccepted(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	ctl := dialProbe(t, f, "/ws/probe")

	t.Run("join", func(t *testing.T) {
		c := dialProbe(t, f, "/ws/probe?open=join:lobby")
		c.expect("rooms "+c.id, "= 6 lobby")
		c.expect("members lobby", "= 1 "+c.id)
	})
	t.Run("send", func(t *testing.T) {
		c := f.Dial(t, "/ws/probe?open=send:hello%20there")
		c.Expect("hello there") // the first message, before any reply
		c.Send("size nowhere")
		c.Expect("= 0") // then the replies
	})
	t.Run("close", func(t *testing.T) {
		before := dialProbe(t, f, "/ws/probe")
		c := f.Dial(t, "/ws/probe?open=close")
		expectCloseFrame(t, c, 4000, "bye")
		after := dialProbe(t, f, "/ws/probe")
		hosttest.EventuallyEqual(t, "on_close record", "4000 bye|", func() string {
			return closeRecordBetween(f, before.id, after.id)
		})
	})
	ctl.expect("id", "= "+ctl.id)
}

// TestABIOnClose: on_close gets the closing handshake's code and reason
// while conn_rooms still lists the rooms; on_error comes first where one
// applies.
func TestABIOnClose(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	ctl := dialProbe(t, f, "/ws/probe")
	reason123 := strings.Repeat("é", 61) + "a"
	for _, tc := range []struct {
		name   string
		end    func(t *testing.T, c *probeClient)
		record string // the probe's close:ID, rooms r1,r2
		error  string // prefix of the probe's error:ID; "" none
	}{
		{
			name:   "peer closes 4001 x",
			end:    func(t *testing.T, c *probeClient) { sendClose(t, c.Client, 4001, "x") },
			record: "4001 x|r1,r2",
		},
		{
			name:   "peer closes 1000 without reason",
			end:    func(t *testing.T, c *probeClient) { sendClose(t, c.Client, 1000, "") },
			record: "1000 |r1,r2",
		},
		{
			name:   "peer closes with a 123-byte reason",
			end:    func(t *testing.T, c *probeClient) { sendClose(t, c.Client, 3999, reason123) },
			record: "3999 " + reason123 + "|r1,r2",
		},
		{
			name:   "peer closes without a code",
			end:    func(t *testing.T, c *probeClient) { sendClose(t, c.Client, websocket.CloseNoStatusReceived, "") },
			record: "1005 |r1,r2",
		},
		{
			name: "peer sends a close code not allowed on the wire",
			end: func(t *testing.T, c *probeClient) {
				// FormatCloseMessage encodes 1006 as given; it must never be sent.
				sendClose(t, c.Client, 1006, "")
				c.ExpectClose(host.CloseProtocolError)
			},
			record: "1002 ",
			error:  "1 ",
		},
		{
			name: "plugin closes 4002",
			end: func(t *testing.T, c *probeClient) {
				ctl.expect("close "+c.id+" 4002 plugin said so", "= 0")
				expectCloseFrame(t, c.Client, 4002, "plugin said so")
			},
			record: "4002 plugin said so|r1,r2",
		},
		{
			name: "dropped without a close frame",
			end: func(t *testing.T, c *probeClient) {
				_ = c.UnderlyingConn().Close()
			},
			record: "1006 |r1,r2",
			error:  "4 ",
		},
		{
			name: "invalid UTF-8 from the client",
			end: func(t *testing.T, c *probeClient) {
				if err := c.WriteMessage(websocket.TextMessage, []byte("ok \xff")); err != nil {
					t.Fatal(err)
				}
				c.ExpectClose(host.CloseInvalidData)
			},
			record: "1007 ", // then the host's reason
			error:  "1 ",
		},
	} {
		c := dialProbe(t, f, "/ws/probe")
		c.expect("join "+c.id+" r2", "= 0")
		c.expect("join "+c.id+" r1", "= 0")
		tc.end(t, c)
		key := "close:" + c.id
		hosttest.Eventually(t, tc.name+": on_close", func() bool { return stateString(f, "probe", key) != "" })
		got := stateString(f, "probe", key)
		if strings.HasSuffix(tc.record, " ") {
			// The reason is the host's: check the code and the rooms.
			if !strings.HasPrefix(got, tc.record) || !strings.HasSuffix(got, "|r1,r2") {
				t.Errorf("%s: on_close recorded %q, want %q...|r1,r2", tc.name, got, tc.record)
			}
		} else if got != tc.record {
			t.Errorf("%s: on_close recorded %q, want %q", tc.name, got, tc.record)
		}
		errRec := stateString(f, "probe", "error:"+c.id)
		switch {
		case tc.error == "" && errRec != "":
			t.Errorf("%s: on_error recorded %q, want none", tc.name, errRec)
		case tc.error != "" && !strings.HasPrefix(errRec, tc.error):
			t.Errorf("%s: on_error recorded %q, want it to start with %q (recorded before on_close)", tc.name, errRec, tc.error)
		}
		// After on_close the connection leaves its rooms.
		hosttest.Eventually(t, tc.name+": rooms emptied", func() bool {
			return ctl.Call("size r1") == "= 0" && ctl.Call("size r2") == "= 0"
		})
	}

	// Removing the plugin closes its connections with 1001 and runs on_close.
	ep := f.Endpoint("probe")
	c := dialProbe(t, f, "/ws/probe")
	c.expect("join "+c.id+" z", "= 0")
	f.plugins.Remove("probe")
	c.ExpectClose(host.CloseGoingAway)
	hosttest.Eventually(t, "on_close after removal", func() bool {
		v, err := ep.StateGet("close:" + c.id)
		return err == nil && strings.HasPrefix(string(v), "1001 ") && strings.HasSuffix(string(v), "|z")
	})
}

// TestABIOnErrorFaults: a trap, a panic or the deadline in on_message is
// reported with on_error kind 3 and the connection stays open; an on_error
// or on_close that faults is not reported again and breaks nothing.
func TestABIOnErrorFaults(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "instances = 1\n[limits]\ncall_timeout = \"50ms\"\n")
	for _, tc := range []struct {
		name, cmd, prefix string
	}{
		{"trap", "trap", "3 trap: on_message"},
		{"panic", "panic", "3 trap: on_message"},
		{"deadline", "loop", "3 deadline: on_message"},
	} {
		c := dialProbe(t, f, "/ws/probe")
		c.expect("sset global-check x", "= 0")
		c.Send(tc.cmd)
		key := "error:" + c.id
		hosttest.Eventually(t, tc.name+": on_error", func() bool { return stateString(f, "probe", key) != "" })
		if got := stateString(f, "probe", key); !strings.HasPrefix(got, tc.prefix) {
			t.Errorf("%s: on_error recorded %q, want it to start with %q", tc.name, got, tc.prefix)
		}
		c.expect("id", "= "+c.id) // still open, served by a fresh instance
	}
	// With one instance, a command runs after the on_error before it has
	// finished: the counter read through the probe is settled.
	ctl := dialProbe(t, f, "/ws/probe")
	ctl.expect("sadd errors 0", "= 0 3")

	// on_error faults after recording: reported once, not again.
	c := dialProbe(t, f, "/ws/probe?fault=error")
	c.Send("trap")
	hosttest.Eventually(t, "on_error", func() bool { return stateString(f, "probe", "error:"+c.id) != "" })
	c.expect("id", "= "+c.id)
	if got := ctl.Call("sadd errors 0"); got != "= 0 4" {
		t.Errorf("errors: %q, want \"= 0 4\": on_error's own fault was reported again", got)
	}

	// on_close faults after recording: the plugin serves on.
	d := dialProbe(t, f, "/ws/probe?fault=close")
	sendClose(t, d.Client, 1000, "")
	hosttest.EventuallyEqual(t, "on_close", "1000 |", func() string { return stateString(f, "probe", "close:"+d.id) })
	c.expect("id", "= "+c.id)
	if got := ctl.Call("sadd errors 0"); got != "= 0 4" {
		t.Errorf("errors: %q, want \"= 0 4\": on_close's fault was reported", got)
	}
}

// TestABIOrderPerConnection: one connection's messages reach the plugin in
// order and its replies come back in order, text and binary interleaved.
func TestABIOrderPerConnection(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	c := dialProbe(t, f, "/ws/probe")
	const n = 500
	done := make(chan error, 1)
	go func() {
		_ = c.SetWriteDeadline(time.Now().Add(hosttest.Timeout))
		for i := range n {
			var err error
			if i%10 == 9 {
				err = c.WriteMessage(websocket.BinaryMessage, []byte("bin "+strconv.Itoa(i)))
			} else {
				err = c.WriteMessage(websocket.TextMessage, []byte("echo "+strconv.Itoa(i)))
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range n {
		typ, msg := c.Read()
		want, wantTyp := strconv.Itoa(i), websocket.TextMessage
		if i%10 == 9 {
			want, wantTyp = "bin "+strconv.Itoa(i), websocket.BinaryMessage
		}
		if typ != wantTyp || string(msg) != want {
			t.Fatalf("message %d: got %d %q, want %d %q", i, typ, msg, wantTyp, want)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestABIBroadcastOrder: two broadcasts to one room reach every member in
// the same order, even when two senders broadcast at once; each sender's
// broadcasts keep their order.
func TestABIBroadcastOrder(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "instances = 2\n")
	members := []*probeClient{dialProbe(t, f, "/ws/probe"), dialProbe(t, f, "/ws/probe"), dialProbe(t, f, "/ws/probe")}
	for _, m := range members {
		m.expect("join "+m.id+" o", "= 0")
	}
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for s, sender := range members[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sender.SetWriteDeadline(time.Now().Add(hosttest.Timeout))
			for i := range n {
				if err := sender.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "broadcast o 0 %c%d", 'a'+s, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var orders [3][]string
	for m, member := range members {
		replies := 0
		for len(orders[m]) < 2*n {
			msg := member.ReadText()
			if strings.HasPrefix(msg, "= ") {
				if msg != "= 3" {
					t.Errorf("member %d: broadcast reply %q, want \"= 3\"", m, msg)
				}
				replies++
				continue
			}
			orders[m] = append(orders[m], msg)
		}
		for m < 2 && replies < n { // the last replies may follow the last broadcast
			if msg := member.ReadText(); msg != "= 3" {
				t.Fatalf("member %d: got %q, want a broadcast reply \"= 3\"", m, msg)
			}
			replies++
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for m := 1; m < 3; m++ {
		if strings.Join(orders[m], " ") != strings.Join(orders[0], " ") {
			t.Errorf("member %d saw the broadcasts in another order than member 0", m)
		}
	}
	next := map[byte]int{}
	for _, msg := range orders[0] {
		i, _ := strconv.Atoi(msg[1:])
		if i != next[msg[0]] {
			t.Fatalf("%q arrived when %c%d was due", msg, msg[0], next[msg[0]])
		}
		next[msg[0]]++
	}
}

// TestABIInstances: with four instances, four connections' callbacks run at
// once; each connection gets its reply, and state_add stays atomic.
func TestABIInstances(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "instances = 4\n[limits]\ncall_timeout = \"5s\"\n")
	var clients []*probeClient
	for range 4 {
		clients = append(clients, dialProbe(t, f, "/ws/probe"))
	}
	start := time.Now()
	for _, c := range clients {
		c.Send("spin 50")
	}
	for _, c := range clients {
		c.Expect("= 0")
	}
	// Not asserted: with four CPUs about 50 ms, one instance would need 200 ms.
	t.Logf("4 × spin 50 took %v", time.Since(start))

	const adds = 25
	for _, c := range clients {
		for range adds {
			c.Send("sadd counter 1")
		}
	}
	for i, c := range clients {
		last := int64(0)
		for range adds {
			reply := c.ReadText()
			v, err := strconv.ParseInt(strings.TrimPrefix(reply, "= 0 "), 10, 64)
			if err != nil || v <= last || v > 4*adds {
				t.Fatalf("client %d: sadd reply %q after %d", i, reply, last)
			}
			last = v
		}
	}
	clients[0].expect("sadd counter 0", "= 0 "+strconv.Itoa(4*adds))
}
