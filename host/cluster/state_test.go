package cluster_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/internal/natstest"
)

func TestStateIsShared(t *testing.T) {
	_, nodes := startCluster(t, 3)
	var cs []*hosttest.Client
	for i, nd := range nodes {
		c, _ := nd.dial(t, fmt.Sprint(i), "")
		cs = append(cs, c)
	}
	if got := cs[0].Call("set topic cats and dogs"); got != "ok" {
		t.Fatal(got)
	}
	if got := cs[2].Call("get topic"); got != "cats and dogs" {
		t.Errorf("get on another node = %q", got)
	}
	if got := cs[1].Call("del topic"); got != "ok" {
		t.Fatal(got)
	}
	if got := cs[0].Call("del topic"); got == "ok" {
		t.Error("deleting a deleted key said ok")
	}
	if got := cs[2].Call("get topic"); got == "cats and dogs" {
		t.Error("a deleted key is still there")
	}

	// Concurrent adds from every node count once each.
	const adds = 50
	var wg sync.WaitGroup
	for _, nd := range nodes {
		for j := 0; j < 2; j++ {
			c, _ := nd.dial(t, "adder", "")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range adds {
					if _, err := strconv.Atoi(c.Call("add ncount 1")); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if got, want := cs[1].Call("get ncount"), strconv.Itoa(3*2*adds); got != want {
		t.Errorf("counter = %s, want %s", got, want)
	}
	if got := cs[1].Call("add topic 1"); got != "1" {
		t.Errorf("add on a missing key = %q, want 1", got)
	}
	cs[1].Call("set text abc")
	if got := cs[1].Call("add text 1"); !strings.HasPrefix(got, "err") {
		t.Errorf("add on a 3-byte value = %q, want an error", got)
	}

	// The state outlives the node that wrote it.
	cs[0].Call("set survivor yes")
	nodes[0].Crash()
	if got := cs[2].Call("get survivor"); got != "yes" {
		t.Errorf("after the writer's loss: %q", got)
	}
}

func TestNATSRestart(t *testing.T) {
	ns, nodes := startCluster(t, 3)
	a, _ := nodes[0].dial(t, "a", "r")
	a2, _ := nodes[0].dial(t, "a2", "r")
	b, _ := nodes[1].dial(t, "b", "r")
	c, _ := nodes[2].dial(t, "c", "r")
	waitSize(t, nodes, "r", 4)
	a.Call("set k before")
	a.Send("b r before") // b's node learns where node 1's numbering of r is
	b.Expect("before")
	c.Expect("before")
	a.Expect("before")
	a2.Expect("before")

	ns.Stop()
	hosttest.Eventually(t, "the nodes notice", func() bool {
		return !nodes[0].Stats().Connected && !nodes[1].Stats().Connected && !nodes[2].Stats().Connected
	})
	// Local delivery goes on without NATS.
	a.Send("b r while NATS is down")
	a.Expect("while NATS is down")
	a2.Expect("while NATS is down")

	ns.Restart(t)
	hosttest.Eventually(t, "the nodes reconnect", func() bool {
		return nodes[0].Stats().Connected && nodes[1].Stats().Connected && nodes[2].Stats().Connected
	})
	// What was published while NATS was down went out after the reconnect
	// or was counted as lost; either way the room works again.
	a.Send("b r ping")
	a.Expect("ping")
	a2.Expect("ping")
	// Node 1 buffered its broadcast while NATS was down: b and c get it
	// before the ping, or (when node 1 reconnected first and theirs had not
	// subscribed again yet) their node counts it as missed.
	for i, cl := range []*hosttest.Client{b, c} {
		first := cl.ReadText()
		if first == "while NATS is down" {
			cl.Expect("ping")
		} else if st := nodes[i+1].Stats(); first != "ping" || st.Missed != 1 {
			t.Errorf("node %d: got %q first, and counted %d missed", i+2, first, st.Missed)
		}
	}
	waitSize(t, nodes, "r", 4)
	if got := c.Call("get k"); got != "before" {
		t.Errorf("state after the restart = %q", got)
	}
	st := nodes[0].Stats()
	if st.Disconnects == 0 || st.Reconnects == 0 {
		t.Errorf("stats %+v: want a disconnect and a reconnect counted", st)
	}
}

func TestStateLimit(t *testing.T) {
	ns := natstest.Start(t)
	st := join(t, ns.URL).State()
	const limit = 4096
	if err := st.Set("tiny", "a", make([]byte, 1000), limit); err != nil {
		t.Fatal(err)
	}
	err := st.Set("tiny", "b", make([]byte, 5000), limit)
	if !errors.Is(err, host.ErrLimit) {
		t.Fatalf("a value over the plugin's state limit: %v, want ErrLimit", err)
	}
	if _, err := st.Get("tiny", "b"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("the refused value: %v, want ErrNotFound", err)
	}
	if _, err := st.Get("tiny", "a"); err != nil {
		t.Errorf("the value before: %v", err)
	}
}
