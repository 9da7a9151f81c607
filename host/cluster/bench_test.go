package cluster_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/internal/natstest"
)

// counter is a room member that counts what it is given.
type counter struct {
	id host.ConnID
	n  *atomic.Int64
}

func (c counter) ID() host.ConnID            { return c.id }
func (c counter) Deliver(f *host.Frame) bool { c.n.Add(1); return true }

// BenchmarkPublish compares a broadcast to 100 local members through the
// in-memory broker (baseline) and through a cluster node, whose Publish
// also numbers the message and hands it to NATS for the other nodes.
func BenchmarkPublish(b *testing.B) {
	ns := natstest.Start(b)
	node := join(b, ns.URL)
	msg := host.NewMessageFrame([]byte(`{"t":"1732580000000000000","from":"alice","text":"hello, room"}`), false)
	for _, bc := range []struct {
		name   string
		broker host.Broker
	}{
		{"memory", host.NewMemoryBroker()},
		{"cluster", node},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n atomic.Int64
			for i := 1; i <= 100; i++ {
				if err := bc.broker.Join("chat", "room", counter{host.ConnID(i), &n}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				bc.broker.Publish("chat", "room", msg, 0)
			}
		})
	}
}

// BenchmarkState compares state_add in memory (baseline: one endpoint's
// map) with the cluster's JetStream key/value round trip.
func BenchmarkState(b *testing.B) {
	ns := natstest.Start(b)
	node := join(b, ns.URL)
	srv := host.New(host.Config{})
	ep, err := srv.Mount("chat", cmdHandler{}, host.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
			if _, err := ep.StateAdd("n", 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cluster", func(b *testing.B) {
		st := node.State()
		i := 0
		for b.Loop() {
			i++
			if _, err := st.Add("chat", "n"+strconv.Itoa(i%16), 1, host.DefaultStateBytes); err != nil {
				b.Fatal(err)
			}
		}
	})
}
