// Package natstest runs a real NATS server with JetStream in the test's
// process, on a random 127.0.0.1 port, for the cluster tests.
package natstest

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an in-process NATS server. Owned by the test goroutine.
type Server struct {
	*server.Server
	opts server.Options
	// URL is the client URL, "nats://127.0.0.1:PORT"; it stays the same
	// across Restart.
	URL string
}

// Start runs a NATS server with JetStream storing in a temporary directory
// and shuts it down at cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{opts: server.Options{
		Host:      "127.0.0.1",
		Port:      freePort(t),
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}}
	s.URL = "nats://127.0.0.1:" + strconv.Itoa(s.opts.Port)
	s.run(t)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) run(t testing.TB) {
	t.Helper()
	opts := s.opts
	ns, err := server.NewServer(&opts)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatalf("nats server not ready on %s", s.URL)
	}
	s.Server = ns
}

// Stop shuts the server down (a restart can follow).
func (s *Server) Stop() {
	if s.Server != nil {
		s.Shutdown()
		s.WaitForShutdown()
		s.Server = nil
	}
}

// Restart runs the server again on the same port with the same store.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.run(t)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
