package hosttest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
)

// Timeout bounds every wait of these helpers.
const Timeout = 10 * time.Second

// Server is an in-process wshost server on a random 127.0.0.1 port.
type Server struct {
	*host.Server
	HTTP *httptest.Server
	// WS is the base WebSocket URL, "ws://127.0.0.1:PORT".
	WS string
}

// NewServer starts srv (nil: host.New(cfg)) and shuts it down at cleanup.
func NewServer(t testing.TB, cfg host.Config) *Server {
	t.Helper()
	srv := host.New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return &Server{Server: srv, HTTP: ts, WS: "ws" + strings.TrimPrefix(ts.URL, "http")}
}

// Client is a test WebSocket client. Owned by one test goroutine.
type Client struct {
	*websocket.Conn
	t testing.TB
}

// Dial connects to path (say "/ws/chat?nick=a") and fails the test if the
// handshake fails.
func (s *Server) Dial(t testing.TB, path string) *Client {
	t.Helper()
	c, resp, err := s.TryDial(path, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", path, err, status)
	}
	return c.bind(t)
}

// TryDial connects without failing the test, for handshakes meant to fail.
func (s *Server) TryDial(path string, header http.Header) (*Client, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: Timeout}
	conn, resp, err := d.Dial(s.WS+path, header)
	if err != nil {
		return nil, resp, err
	}
	c := &Client{Conn: conn}
	return c, resp, nil
}

func (c *Client) bind(t testing.TB) *Client {
	c.t = t
	t.Cleanup(func() { _ = c.Conn.Close() })
	return c
}

// Bind ties a client from TryDial to t (closed at cleanup).
func (c *Client) Bind(t testing.TB) *Client { return c.bind(t) }

// Send writes one text message.
func (c *Client) Send(text string) {
	c.t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(Timeout))
	if err := c.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		c.t.Fatalf("send %q: %v", text, err)
	}
}

// Read returns the next message, failing the test after Timeout.
func (c *Client) Read() (typ int, msg []byte) {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
	typ, msg, err := c.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return typ, msg
}

// ReadText returns the next message, which must be text.
func (c *Client) ReadText() string {
	c.t.Helper()
	typ, msg := c.Read()
	if typ != websocket.TextMessage {
		c.t.Fatalf("got a binary message %q, want text", msg)
	}
	return string(msg)
}

// Expect reads the next message and fails unless it is text want.
func (c *Client) Expect(want string) {
	c.t.Helper()
	if got := c.ReadText(); got != want {
		c.t.Fatalf("got message %q, want %q", got, want)
	}
}

// Call sends a command and returns the reply.
func (c *Client) Call(text string) string {
	c.t.Helper()
	c.Send(text)
	return c.ReadText()
}

// ExpectClose reads until the server's close frame and checks its code.
// Data messages before it are returned.
func (c *Client) ExpectClose(code int) (before []string) {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
	for {
		_, msg, err := c.ReadMessage()
		if err == nil {
			before = append(before, string(msg))
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("want close %d, got %v", code, err)
		}
		if ce.Code != code {
			c.t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Text, code)
		}
		return before
	}
}

// Eventually polls cond until it holds or Timeout passes.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// EventuallyEqual polls get until it returns want.
func EventuallyEqual[T comparable](t testing.TB, what string, want T, get func() T) {
	t.Helper()
	var last T
	deadline := time.Now().Add(Timeout)
	for {
		if last = get(); last == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %v, want %v", what, last, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// SyncBuffer is a bytes.Buffer that a server (its logger, say) and a test
// may use at once. Safe for concurrent use.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
