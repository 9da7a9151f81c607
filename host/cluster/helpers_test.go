package cluster_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/cluster"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/internal/natstest"
)

// testOptions make nodes notice each other quickly.
func testOptions(url string) cluster.Options {
	return cluster.Options{
		URL:         url,
		Logger:      slog.New(slog.DiscardHandler),
		Heartbeat:   100 * time.Millisecond,
		NodeTimeout: time.Second,
	}
}

// node is one wshost node of a test cluster.
type node struct {
	*cluster.Node
	srv *hosttest.Server
}

// join joins the cluster at url; the node is closed at cleanup, after
// what is cleaned up later (a server using it, say).
func join(t testing.TB, url string) *cluster.Node {
	t.Helper()
	cn, err := cluster.Join(context.Background(), testOptions(url))
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	t.Cleanup(func() { _ = cn.Close() })
	return cn
}

// startNode joins the cluster at url and serves cmdHandler at /ws/cmd.
func startNode(t *testing.T, url string) *node {
	t.Helper()
	cn := join(t, url)
	srv := hosttest.NewServer(t, host.Config{
		Logger:  slog.New(slog.DiscardHandler),
		Cluster: cn,
		NodeID:  cn.ID(),
		State:   cn.State(),
	})
	// The traffic tests send bursts of 2,400 messages to every client.
	if _, err := srv.Mount("cmd", cmdHandler{}, host.Limits{SendQueueMessages: 1 << 14}); err != nil {
		t.Fatal(err)
	}
	return &node{Node: cn, srv: srv}
}

// startCluster runs a NATS server and n nodes.
func startCluster(t *testing.T, n int) (*natstest.Server, []*node) {
	t.Helper()
	ns := natstest.Start(t)
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = startNode(t, ns.URL)
	}
	hosttest.Eventually(t, "every node sees the others", func() bool {
		for _, nd := range nodes {
			if nd.Stats().Nodes != n-1 {
				return false
			}
		}
		return true
	})
	return ns, nodes
}

// dial connects a client with a nick to room on nd and returns it with its
// connection id.
func (nd *node) dial(t *testing.T, nick, room string) (*hosttest.Client, host.ConnID) {
	t.Helper()
	c := nd.srv.Dial(t, "/ws/cmd?nick="+nick+"&room="+room)
	id, err := strconv.ParseUint(c.Call("id"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return c, host.ConnID(id)
}

// waitSize waits until every node counts want members in room.
func waitSize(t *testing.T, nodes []*node, room string, want int) {
	t.Helper()
	for _, nd := range nodes {
		hosttest.EventuallyEqual(t, fmt.Sprintf("room %s on node %d", room, nd.ID()), want, func() int {
			return nd.srv.Endpoint("cmd").RoomSize(room)
		})
	}
}

// cmdHandler is a native handler driven by text commands, so tests can make
// any connection call the host API:
//
//	id                  → the connection's id
//	b ROOM TEXT         broadcast TEXT to ROOM (nobody left out)
//	s ID TEXT           send TEXT to connection ID
//	x ID                close connection ID with 4000
//	j ROOM / l ROOM     join / leave
//	size ROOM           → the room's size
//	who ROOM            → the members' nicks, sorted, space-separated
//	set K V / get K / del K / add K N   → state_*
type cmdHandler struct{}

func (cmdHandler) Open(_ context.Context, ep *host.Endpoint, id host.ConnID) error {
	if nick, err := ep.ConnInfo(id, "query.nick"); err == nil {
		if err := ep.ConnSet(id, "nick", nick); err != nil {
			return err
		}
	}
	if room, err := ep.ConnInfo(id, "query.room"); err == nil && room != "" {
		return ep.Join(id, room)
	}
	return nil
}

func (cmdHandler) Message(_ context.Context, ep *host.Endpoint, id host.ConnID, msg []byte, _ bool) error {
	cmd, rest, _ := strings.Cut(string(msg), " ")
	arg, text, _ := strings.Cut(rest, " ")
	reply := func(s string) error { return ep.Send(id, []byte(s), false) }
	result := func(err error) error {
		if err != nil {
			return reply("err " + err.Error())
		}
		return reply("ok")
	}
	switch cmd {
	case "id":
		return reply(id.String())
	case "b":
		_, err := ep.Broadcast(arg, []byte(text), false, 0)
		return err
	case "s", "x":
		to, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return reply("err " + err.Error())
		}
		if cmd == "x" {
			return result(ep.Close(host.ConnID(to), 4000, "closed by "+id.String()))
		}
		return result(ep.Send(host.ConnID(to), []byte(text), false))
	case "j":
		return result(ep.Join(id, arg))
	case "l":
		return result(ep.Leave(id, arg))
	case "size":
		return reply(strconv.Itoa(ep.RoomSize(arg)))
	case "who":
		var nicks []string
		for _, m := range ep.RoomMembers(arg, nil) {
			nick, err := ep.ConnInfo(m, "attr.nick")
			if err != nil {
				nick = "?" + m.String()
			}
			nicks = append(nicks, nick)
		}
		slices.Sort(nicks)
		return reply(strings.Join(nicks, " "))
	case "set":
		return result(ep.StateSet(arg, []byte(text)))
	case "get":
		v, err := ep.StateGet(arg)
		if err != nil {
			return reply("err " + err.Error())
		}
		if len(v) == 8 && strings.HasPrefix(arg, "n") {
			return reply(strconv.FormatInt(int64(binary.LittleEndian.Uint64(v)), 10))
		}
		return reply(string(v))
	case "del":
		return result(ep.StateDelete(arg))
	case "add":
		d, _ := strconv.ParseInt(text, 10, 64)
		n, err := ep.StateAdd(arg, d)
		if err != nil {
			return reply("err " + err.Error())
		}
		return reply(strconv.FormatInt(n, 10))
	}
	return reply("err unknown command " + cmd)
}

func (cmdHandler) Error(context.Context, *host.Endpoint, host.ConnID, host.ErrorKind, string) {}
func (cmdHandler) Close(context.Context, *host.Endpoint, host.ConnID, int, string)            {}
