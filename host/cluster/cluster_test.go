package cluster_test

import (
	"fmt"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

func TestIDsCarryTheNode(t *testing.T) {
	_, nodes := startCluster(t, 3)
	seen := map[uint16]bool{}
	for _, nd := range nodes {
		if nd.ID() == 0 || seen[nd.ID()] {
			t.Fatalf("node id %d given twice or zero", nd.ID())
		}
		seen[nd.ID()] = true
		_, id := nd.dial(t, "a", "")
		if id.Node() != nd.ID() {
			t.Errorf("connection %d of node %d says node %d", id, nd.ID(), id.Node())
		}
	}
}

func TestCrossNodeBroadcastSendAndRooms(t *testing.T) {
	_, nodes := startCluster(t, 3)
	var clients []*clientOn
	for i, nd := range nodes {
		c, id := nd.dial(t, fmt.Sprintf("n%d", i), "lobby")
		clients = append(clients, &clientOn{c, id})
	}
	waitSize(t, nodes, "lobby", 3)
	if rooms, err := nodes[1].srv.Endpoint("cmd").Rooms(); err != nil || len(rooms) != 1 || rooms[0] != (host.RoomInfo{Name: "lobby", Members: 3}) {
		t.Errorf("rooms on node 2 = %v, %v; want lobby with 3 members", rooms, err)
	}

	clients[0].Send("b lobby hello from 0")
	for _, c := range clients {
		c.Expect("hello from 0")
	}
	if got := clients[2].Call("who lobby"); got != "n0 n1 n2" {
		t.Errorf("who on node 3 = %q, want all three nicks", got)
	}
	if got := clients[1].Call(fmt.Sprintf("s %d psst", clients[2].id)); got != "ok" {
		t.Fatalf("send across nodes: %s", got)
	}
	clients[2].Expect("psst")
	if got := clients[1].Call(fmt.Sprintf("s %d nobody", host.ConnID(uint64(clients[2].id)+1000))); got == "ok" {
		t.Error("send to an unknown connection on another node said ok")
	}
	if got := clients[0].Call("l lobby"); got != "ok" {
		t.Fatal(got)
	}
	waitSize(t, nodes, "lobby", 2)
	clients[1].Send("b lobby after 0 left")
	clients[1].Expect("after 0 left")
	clients[2].Expect("after 0 left")

	if got := clients[0].Call(fmt.Sprintf("x %d", clients[2].id)); got != "ok" {
		t.Fatalf("close across nodes: %s", got)
	}
	clients[2].ExpectClose(4000)
	waitSize(t, nodes, "lobby", 1)
}

type clientOn struct {
	*hosttest.Client
	id host.ConnID
}
