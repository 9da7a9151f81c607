package cluster

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// Options configure Join. The zero value works, given URL.
type Options struct {
	// URL is the NATS server, or several separated by commas.
	URL string
	// Name scopes the cluster: its subjects start with it and its JetStream
	// buckets are named after it, so several clusters can share one NATS.
	// Letters, digits, '-' and '_'. Default "wshost".
	Name string
	// Logger receives the node's logs. Nil: slog.Default().
	Logger *slog.Logger
	// Heartbeat is how often the node tells the others it is alive.
	// Default 1s.
	Heartbeat time.Duration
	// NodeTimeout is how long another node may stay silent before its
	// connections are dropped from this node's view. Default 5×Heartbeat.
	NodeTimeout time.Duration
	// ConnectTimeout bounds reaching NATS at Join. Default 5s.
	ConnectTimeout time.Duration
	// OpTimeout bounds one JetStream operation (a state_* call, say).
	// Default 2s.
	OpTimeout time.Duration
	// Replicas is how many copies JetStream keeps of the state and plugin
	// buckets (1 for one NATS server; 3 for a NATS cluster). Default 1.
	Replicas int
	// NATS are more options for the NATS connection (credentials, TLS).
	NATS []nats.Option
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "wshost"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	setDefault(&o.Heartbeat, time.Second)
	setDefault(&o.NodeTimeout, 5*o.Heartbeat)
	setDefault(&o.ConnectTimeout, 5*time.Second)
	setDefault(&o.OpTimeout, 2*time.Second)
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	return o
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
