package cluster_test

import (
	"testing"

	"go.uber.org/goleak"
)

// nats.go v1.55.0's ObjectStore.Put (Push) starts a goroutine that reads a
// channel field its own deferred cleanup may already have set to nil, and
// then waits on the nil channel for good: a race in the library.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}
