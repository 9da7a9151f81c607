package cluster_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/cluster"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/internal/natstest"
)

// pluginNode is a node that runs the plugins pushed to the cluster.
type pluginNode struct {
	*cluster.Node
	srv     *hosttest.Server
	plugins *plugin.Plugins
}

func startPluginNode(t *testing.T, url string) *pluginNode {
	t.Helper()
	cn := join(t, url)
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*hosttest.Timeout)
	defer cancel()
	return cluster.Push(ctx, testOptions(url), "echo", wasm, nil, cluster.PushOptions{})
}

// echoes checks that nd serves the echo plugin.
func echoes(t *testing.T, nd *pluginNode) {
	t.Helper()
	c := nd.srv.Dial(t, "/ws/echo")
	defer c.Close()
	c.Send("ping")
	c.Expect("ping")
}

func TestPushRollsOutToEveryNode(t *testing.T) {
	echo, err := os.ReadFile("../plugin/testdata/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	ns := natstest.Start(t)
	var nodes []*pluginNode
	for range 3 {
		nodes = append(nodes, startPluginNode(t, ns.URL))
	}
	res, err := push(t, ns.URL, echo)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if len(res.Reports) != 3 {
		t.Fatalf("reports %+v, want one per node", res.Reports)
	}
	for i, rep := range res.Reports {
		if rep.Status != cluster.StatusLoaded {
			t.Errorf("node %d: %s %s", rep.Node, rep.Status, rep.Error)
		}
		echoes(t, nodes[i])
	}

	// A version every node refuses: reported, rolled back, echo goes on.
	bad := []byte("\x00asm\x01\x00\x00\x00")
	res, err = push(t, ns.URL, bad)
	if !errors.Is(err, cluster.ErrRefused) {
		t.Fatalf("push of a module without exports: %v, want ErrRefused", err)
	}
	if len(res.Reports) != 3 || res.RolledBack == "" {
		t.Errorf("result %+v: want three refusals and a rollback", res)
	}
	for _, rep := range res.Reports {
		if rep.Status != cluster.StatusRefused || !strings.Contains(rep.Error, "on_message") {
			t.Errorf("node %d: %s %q, want a refusal naming the missing export", rep.Node, rep.Status, rep.Error)
		}
	}
	for _, nd := range nodes {
		echoes(t, nd)
	}

	// A node started now runs the last good version.
	late := startPluginNode(t, ns.URL)
	hosttest.Eventually(t, "the late node runs echo", func() bool { return late.srv.Endpoint("echo") != nil })
	echoes(t, late)
}
