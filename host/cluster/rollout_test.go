package cluster_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/cluster"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/internal/natstest"
	"github.com/wshost/wshost/plugins/examples"
)

// pluginNode is a node that runs the plugins pushed to the cluster.
type pluginNode struct {
	*cluster.Node
	srv     *hosttest.Server
	plugins *plugin.Plugins
}

func startPluginNode(t *testing.T, url string) *pluginNode {
	t.Helper()
	cn, err := cluster.Join(context.Background(), testOptions(url))
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	t.Cleanup(func() { _ = cn.Close() })
	log := slog.New(slog.DiscardHandler)
	srv := hosttest.NewServer(t, host.Config{Logger: log, Cluster: cn, NodeID: cn.ID(), State: cn.State()})
	plugins := plugin.NewPlugins(srv.Server, plugin.Options{Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cn.WatchPlugins(ctx, func(ctx context.Context, name string, wasm, manifest []byte) (string, error) {
			return cluster.StatusLoaded, plugins.Install(ctx, name, wasm, manifest)
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch plugins: %v", err)
		}
		plugins.Close()
	})
	return &pluginNode{Node: cn, srv: srv, plugins: plugins}
}

func push(t *testing.T, url string, wasm []byte) (cluster.PushResult, error) {
	t.Helper()
	// Compiling the Go chat takes seconds on a busy machine, under -race.
	ctx, cancel := context.WithTimeout(context.Background(), 6*hosttest.Timeout)
	defer cancel()
	return cluster.Push(ctx, testOptions(url), "chat", wasm, nil, cluster.PushOptions{})
}

func TestPushRollsOutToEveryNode(t *testing.T) {
	ns := natstest.Start(t)
	var nodes []*pluginNode
	for range 3 {
		nodes = append(nodes, startPluginNode(t, ns.URL))
	}
	res, err := push(t, ns.URL, examples.Chat())
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if len(res.Reports) != 3 {
		t.Fatalf("reports %+v, want one per node", res.Reports)
	}
	for _, rep := range res.Reports {
		if rep.Status != cluster.StatusLoaded {
			t.Errorf("node %d: %s %s", rep.Node, rep.Status, rep.Error)
		}
	}

	// The Go chat plugin, one user per node, one room.
	var users []*hosttest.Client
	for i, nick := range []string{"alice", "bob", "carol"} {
		c := nodes[i].srv.Dial(t, "/ws/chat?nick="+nick+"&room=lobby")
		c.Expect("* welcome " + nick + "! you are in #lobby. commands: /nick NAME, /join ROOM, /who")
		users = append(users, c)
	}
	hosttest.EventuallyEqual(t, "lobby's size", 3, func() int { return nodes[0].srv.Endpoint("chat").RoomSize("lobby") })
	users[0].Send("hi all")
	for _, u := range users {
		for {
			if msg := u.ReadText(); msg == "[lobby] alice: hi all" {
				break
			} else if !strings.HasPrefix(msg, "* ") {
				t.Fatalf("unexpected %q", msg)
			}
		}
	}
	users[2].Send("/who")
	if got := users[2].ReadText(); !strings.Contains(got, "alice") || !strings.Contains(got, "bob") || !strings.Contains(got, "carol") {
		t.Errorf("/who on node 3 = %q, want all three", got)
	}

	// A version every node refuses: reported, rolled back, the chat goes on.
	bad := []byte("\x00asm\x01\x00\x00\x00")
	res, err = push(t, ns.URL, bad)
	if !errors.Is(err, cluster.ErrRefused) {
		t.Fatalf("push of a module without exports: %v, want ErrRefused", err)
	}
	if len(res.Reports) != 3 || res.RolledBack == "" {
		t.Errorf("result %+v: want three refusals and a rollback", res)
	}
	users[1].Send("still here")
	users[0].Expect("[lobby] bob: still here")

	// A node started now runs the last good version.
	late := startPluginNode(t, ns.URL)
	hosttest.Eventually(t, "the late node runs chat", func() bool { return late.srv.Endpoint("chat") != nil })
	d := late.srv.Dial(t, "/ws/chat?nick=dave&room=lobby")
	d.Expect("* welcome dave! you are in #lobby. commands: /nick NAME, /join ROOM, /who")
	users[0].Expect("* dave joined #lobby")
}
