package cluster_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host/hosttest"
)

// tally checks exactly-once, in-order delivery per sender for one receiver.
type tally struct {
	next map[string]int // sender → next sequence number expected
	errs []string
}

func (tl *tally) add(msg string) {
	sender, seq, ok := strings.Cut(msg, ":")
	if !ok {
		return
	}
	n, _ := strconv.Atoi(seq)
	if tl.next == nil {
		tl.next = map[string]int{}
	}
	if want := tl.next[sender]; n != want {
		tl.errs = append(tl.errs, fmt.Sprintf("from %s got %d, want %d", sender, n, want))
	}
	tl.next[sender] = n + 1
}

// receive reads numbered messages until it has want of them or the
// connection ends.
func receive(c *websocket.Conn, want int) *tally {
	tl := &tally{}
	_ = c.SetReadDeadline(time.Now().Add(hosttest.Timeout))
	for got := 0; got < want; got++ {
		_, msg, err := c.ReadMessage()
		if err != nil {
			tl.errs = append(tl.errs, err.Error())
			break
		}
		tl.add(string(msg))
	}
	return tl
}

func TestExactlyOnceUnderConcurrentSenders(t *testing.T) {
	_, nodes := startCluster(t, 3)
	const perNode, msgs = 4, 200
	type member struct {
		c    *hosttest.Client
		name string
	}
	var members []member
	for i, nd := range nodes {
		for j := 0; j < perNode; j++ {
			name := fmt.Sprintf("c%d.%d", i, j)
			c, _ := nd.dial(t, name, "r")
			members = append(members, member{c, name})
		}
	}
	waitSize(t, nodes, "r", len(members))

	total := len(members) * msgs
	tallies := make([]*tally, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(2)
		go func() {
			defer wg.Done()
			tallies[i] = receive(m.c.Conn, total)
		}()
		go func() {
			defer wg.Done()
			for seq := 0; seq < msgs; seq++ {
				if err := m.c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "b r %s:%d", m.name, seq)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, tl := range tallies {
		for _, e := range tl.errs {
			t.Errorf("%s: %s", members[i].name, e)
		}
		for _, m := range members {
			if tl.next[m.name] != msgs {
				t.Errorf("%s got %d messages from %s, want %d", members[i].name, tl.next[m.name], m.name, msgs)
			}
		}
	}
}

func TestNodeKilledMidTraffic(t *testing.T) {
	_, nodes := startCluster(t, 3)
	a, _ := nodes[0].dial(t, "a", "r")
	b, _ := nodes[1].dial(t, "b", "r")
	doomed, _ := nodes[2].dial(t, "c", "r")
	waitSize(t, nodes, "r", 3)

	const msgs = 300
	var wg sync.WaitGroup
	var atB, atA *tally
	wg.Add(3)
	go func() { defer wg.Done(); atB = receive(b.Conn, 2*msgs) }()
	go func() { defer wg.Done(); atA = receive(a.Conn, 2*msgs) }()
	go func() {
		defer wg.Done()
		for seq := 0; seq < msgs; seq++ {
			if seq == msgs/3 {
				// Node 3 dies: no goodbye, its clients are cut off.
				nodes[2].Crash()
				_ = doomed.Conn.UnderlyingConn().Close()
			}
			for _, c := range []*hosttest.Client{a, b} {
				if err := c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "b r %p:%d", c, seq)); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	wg.Wait()
	for name, tl := range map[string]*tally{"a": atA, "b": atB} {
		for _, e := range tl.errs {
			t.Errorf("%s: %s", name, e)
		}
		if len(tl.next) != 2 {
			t.Errorf("%s heard %d senders, want 2", name, len(tl.next))
		}
	}
	// The killed node's client comes back on another node and rejoins.
	c2, _ := nodes[0].dial(t, "c", "r")
	waitSize(t, nodes[:2], "r", 3)
	if got := c2.Call("who r"); got != "a b c" {
		t.Errorf("who after the rejoin = %q", got)
	}
	b.Send("b r welcome back")
	c2.Expect("welcome back")
}
