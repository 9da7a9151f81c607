package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// validName is the ABI's plugin name: [a-z0-9][a-z0-9_-]*.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidName reports whether name may be served at /ws/NAME.
func ValidName(name string) bool { return len(name) <= 128 && validName.MatchString(name) }

// Server serves WebSocket endpoints at /ws/NAME, the health checks at
// /healthz and /readyz, Config.Routes, and Config.Pages elsewhere. Safe for
// concurrent use.
//
// Lock order: Server.mu, then an endpoint's connTable shards.
type Server struct {
	scratch   sync.Pool  // *writeScratch for the connections' writer runs
	readPools readPools  // idle readers' buffers
	parking   idlePoller // idle readers parked without a goroutine
	cfg       Config
	log       *slog.Logger
	ids       idSource
	upgrader  websocket.Upgrader
	mux       *http.ServeMux
	ready     atomic.Bool

	mu        sync.RWMutex
	endpoints map[string]*Endpoint
	closing   bool
	conns     sync.WaitGroup // connections being served; Add under mu

	origins originPolicy // Config.AllowedOrigins; immutable
	caps    connCaps     // Config.MaxConnections, MaxConnectionsPerIP

	handshakes [handshakeResults]atomic.Uint64
}

// New returns a Server with cfg (zero fields take their defaults).
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		endpoints: make(map[string]*Endpoint),
		mux:       http.NewServeMux(),
		origins:   newOriginPolicy(cfg.AllowedOrigins),
	}
	s.ids.node = cfg.NodeID
	if err := ValidateOrigins(cfg.AllowedOrigins); err != nil {
		s.log.Warn("an allowed origin can never match", "err", err)
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout:  cfg.HandshakeTimeout,
		EnableCompression: cfg.Compression.Enabled,
		// gorilla reads frames through the readBufferSize buffer the
		// hijack hands it (hijackWriter) instead of net/http's 4 KiB one,
		// which every idle connection would hold; the reader looks at it
		// before it waits for data (idleReader).
		ReadBufferSize: 0,
		// The host writes frames itself (conn_write.go), so gorilla never
		// needs a write buffer; with a pool it keeps none per connection
		// instead of net/http's hijacked 4 KiB one.
		WriteBufferPool: noWriteBuffers{},
		CheckOrigin:     func(*http.Request) bool { return true }, // checked before Open
		Error:           func(http.ResponseWriter, *http.Request, int, error) {},
	}
	s.mux.HandleFunc("GET /ws/{name}", s.serveWebSocket)
	s.mux.HandleFunc("/ws/{name}", serveWrongMethod)
	s.mux.HandleFunc("/healthz", s.serveHealth)
	s.mux.HandleFunc("/readyz", s.serveReady)
	if cfg.Pages != nil {
		s.mux.Handle("/", cfg.Pages)
	}
	for pattern, h := range cfg.Routes {
		if err := s.Handle(pattern, h); err != nil {
			s.log.Error("route not served", "err", err)
		}
	}
	return s
}

// Handle serves h at pattern (an http.ServeMux pattern, like "/admin/") on
// the server's listener, as Config.Routes does, for handlers that need the
// Server to be built first (the admin API). ErrConfig for a nil handler or
// a pattern that is invalid or clashes with one already served.
func (s *Server) Handle(pattern string, h http.Handler) (err error) {
	if h == nil {
		return fmt.Errorf("%w: route %q: nil handler", ErrConfig, pattern)
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: route %q: %v", ErrConfig, pattern, v)
		}
	}()
	s.mux.Handle(pattern, h)
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetReady sets what /healthz answers: 200 when ready, 503 before.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "starting: plugins not loaded yet", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// serveReady answers /readyz: 200 while the server takes traffic (plugins
// loaded, not shutting down), 503 before and during shutdown, so a load
// balancer stops sending new clients before the connections are closed.
func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.isClosing():
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	case !s.ready.Load():
		http.Error(w, "starting: plugins not loaded yet", http.StatusServiceUnavailable)
	default:
		fmt.Fprintln(w, "ok")
	}
}

// Mount serves h at /ws/name with limits l. ErrConfig for a bad name or
// limits, or a name already mounted.
func (s *Server) Mount(name string, h Handler, l Limits) (*Endpoint, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("%w: endpoint name %q must match [a-z0-9][a-z0-9_-]*", ErrConfig, name)
	}
	ep := &Endpoint{name: name, srv: s, handler: h, log: s.log.With("plugin", name)}
	if err := ep.SetLimits(l); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, ErrServerClosed
	}
	if _, ok := s.endpoints[name]; ok {
		return nil, fmt.Errorf("%w: endpoint %q is already mounted", ErrConfig, name)
	}
	s.endpoints[name] = ep
	return ep, nil
}

// Unmount stops serving name: new connections get 404 and open ones are
// closed with 1001. The returned channel is closed once every one of them
// got its Close event (at once when name was not mounted).
func (s *Server) Unmount(name string) <-chan struct{} {
	s.mu.Lock()
	ep := s.endpoints[name]
	delete(s.endpoints, name)
	s.mu.Unlock()
	drained := make(chan struct{})
	if ep == nil {
		close(drained)
		return drained
	}
	ep.closeAll(CloseGoingAway, "plugin removed")
	go func() {
		ep.conns.live.Wait()
		close(drained)
	}()
	return drained
}

// Endpoint returns the endpoint mounted at name, or nil.
func (s *Server) Endpoint(name string) *Endpoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.endpoints[name]
}

// beginConn looks up the endpoint and counts the connection as served.
func (s *Server) beginConn(name string) (*Endpoint, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closing {
		return nil, false
	}
	ep := s.endpoints[name]
	if ep == nil {
		return nil, false
	}
	s.conns.Add(1)
	return ep, true
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	ep, ok := s.beginConn(r.PathValue("name"))
	if !ok {
		if s.isClosing() {
			s.countHandshake(HandshakeShuttingDown)
			http.Error(w, "server shutting down", http.StatusServiceUnavailable)
			return
		}
		s.countHandshake(HandshakeNotFound)
		http.Error(w, fmt.Sprintf("no plugin is served at %s", r.URL.Path), http.StatusNotFound)
		return
	}
	readerStarted := false // it then owns the s.conns count and the admission
	defer func() {
		if !readerStarted {
			s.conns.Done()
		}
	}()
	// From here on RemoteAddr is the client's, as a trusted proxy forwarded
	// it (forwarded.go): Open, conn_info and the per-IP cap all see it.
	r.RemoteAddr = s.clientAddr(r)
	if msg := handshakeProblem(r); msg != "" {
		s.countHandshake(HandshakeBadRequest)
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	if msg := s.originRefusal(r); msg != "" {
		s.countHandshake(HandshakeOrigin)
		http.Error(w, msg, http.StatusForbidden)
		return
	}
	ip, ok := s.admitConn(w, r)
	if !ok {
		s.countHandshake(HandshakeCaps)
		return
	}
	c, ctx := s.serveConn(ep, w, r)
	if c == nil {
		s.releaseConn(ip)
		return
	}
	readerStarted = true
	// The reader runs in goroutines of its own, from here to the
	// connection's end. This HTTP handler goroutine returns instead of
	// reading, so net/http lets go of its per-connection state (buffered
	// reader and writers, the request) and the reader's stack is no deeper
	// than the reading needs.
	s.startReader(ctx, c, ip)
}

func (s *Server) isClosing() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closing
}

// handshakeProblem says what makes r not a WebSocket handshake, in words
// an operator behind a proxy can act on; "" when it is one.
func handshakeProblem(r *http.Request) string {
	switch {
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		return "this is a WebSocket endpoint: the request has no 'Upgrade: websocket' header (a plain HTTP request, or a proxy that does not forward Upgrade)"
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return "this is a WebSocket endpoint: the request has no 'Connection: Upgrade' header (a proxy that does not forward Connection?)"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return "unsupported WebSocket version: need Sec-WebSocket-Version: 13"
	case r.Header.Get("Sec-WebSocket-Key") == "":
		return "missing Sec-WebSocket-Key header"
	}
	return ""
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func (s *Server) selectSubprotocol(r *http.Request) string {
	for _, offered := range websocket.Subprotocols(r) {
		for _, ours := range s.cfg.Subprotocols {
			if offered == ours {
				return ours
			}
		}
	}
	return ""
}

// serveConn runs Open and upgrades. It returns the upgraded connection, for
// its reader (startReader), and the context of its Handler calls; nil when Open
// rejected it or the upgrade failed (the response or Close went out).
func (s *Server) serveConn(ep *Endpoint, w http.ResponseWriter, r *http.Request) (*Conn, context.Context) {
	// Not the request's context: the reader would keep its chain (the
	// request's and net/http's connection contexts) for the connection's
	// life, and no Handler needs its values or its cancellation.
	ctx := context.Background()
	info := connInfo{
		remoteAddr:  r.RemoteAddr,
		path:        r.URL.Path,
		rawQuery:    r.URL.RawQuery,
		header:      packHeader(r.Header),
		subprotocol: s.selectSubprotocol(r),
	}
	c := newConn(s.ids.next(), ep, info)
	if !ep.register(c) { // the endpoint closed since beginConn
		if s.isClosing() {
			s.countHandshake(HandshakeShuttingDown)
			http.Error(w, "server shutting down", http.StatusServiceUnavailable)
			return nil, nil
		}
		s.countHandshake(HandshakeNotFound)
		http.Error(w, fmt.Sprintf("no plugin is served at %s", r.URL.Path), http.StatusNotFound)
		return nil, nil
	}
	if err := ep.callOpen(ctx, c); err != nil {
		ep.leaveAll(c)
		c.clearAttrs()
		c.dropQueued()
		ep.forget(c)
		if errors.Is(err, ErrRejected) {
			s.countHandshake(HandshakeRejected)
			http.Error(w, "connection rejected by the plugin", http.StatusForbidden)
			return nil, nil
		}
		s.countHandshake(HandshakeFault)
		ep.log.Warn("open failed", "conn", c.id, "err", err)
		http.Error(w, "the plugin failed to open the connection", http.StatusInternalServerError)
		return nil, nil
	}

	var respHeader http.Header
	if info.subprotocol != "" {
		respHeader = http.Header{"Sec-Websocket-Protocol": {info.subprotocol}}
	}
	hw := &hijackWriter{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(hw, r, respHeader)
	if err != nil {
		// Open accepted it, so it gets its Close all the same.
		s.countHandshake(HandshakeUpgradeFailed)
		ep.log.Info("upgrade failed", "conn", c.id, "err", err)
		if hw.conn != nil {
			_ = hw.conn.Close()
		}
		c.mu.Lock()
		c.state = stateClosed
		c.mu.Unlock()
		ep.deliverClose(ctx, c, CloseAbnormal, "", KindIO, "handshake: "+err.Error())
		return nil, nil
	}
	s.countHandshake(HandshakeAccepted)
	ws.SetReadLimit(int64(ep.Limits().MaxMessageBytes))
	onClose := func(code int, reason string) {
		kind, text := KindProtocol, "protocol: "+reason
		if code == CloseTooBig {
			text = fmt.Sprintf("protocol: message over the limit of %d bytes", ep.Limits().MaxMessageBytes)
		}
		_ = c.startClose(code, reason, kind, text)
	}
	hw.conn.onClose.Store(&onClose)
	c.setSocket(ws, hw.conn.Conn, hw.conn.deflate) // starts the ping timer and the writer for Open's frames
	c.idle = newIdleReader(hw.conn.Conn, hw.conn, hw.br)
	return c, ctx
}

// readBufferSize is the size of gorilla/websocket's read buffer per
// connection. A frame header (14 bytes at most) and a control frame (125
// bytes of payload) must fit; a message's payload bigger than it is read
// straight into the reader's message buffer. gorilla keeps the hijack's
// buffer only when it is over 256 bytes.
const readBufferSize = 512

// noWriteBuffers is the write buffer pool gorilla/websocket gets: it writes
// no messages (the host does), so it never asks for one, and a pool keeps
// it from holding the hijacked 4 KiB buffer for the connection's life.
// Should it ask (NextWriter, WriteMessage), it gets nil and allocates one
// for that write. Stateless; safe for concurrent use.
type noWriteBuffers struct{}

func (noWriteBuffers) Get() any  { return nil }
func (noWriteBuffers) Put(x any) {}

// hijackWriter hands gorilla/websocket an interceptConn when it hijacks,
// and a read buffer of readBufferSize bytes (br), which gorilla then reads
// frames through (Upgrader.ReadBufferSize 0 reuses the hijack's) and the
// reader looks at before it waits for data. Owned by the goroutine serving
// the request.
type hijackWriter struct {
	http.ResponseWriter
	conn *interceptConn
	br   *bufio.Reader // nil when net/http had read ahead (gorilla refuses it)
}

func (hw *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(hw.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	hw.conn = &interceptConn{Conn: nc}
	if brw.Reader.Buffered() > 0 {
		// The client sent data before the handshake's end: gorilla refuses
		// the connection on seeing it.
		return hw.conn, brw, nil
	}
	hw.br = bufio.NewReaderSize(hw.conn, readBufferSize)
	return hw.conn, bufio.NewReadWriter(hw.br, brw.Writer), nil
}

// Shutdown closes every connection with 1001, waits until each got its Close
// (or ctx ends, then drops the rest), and refuses new ones.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	eps := make([]*Endpoint, 0, len(s.endpoints))
	for _, ep := range s.endpoints {
		eps = append(eps, ep)
	}
	s.mu.Unlock()
	for _, ep := range eps {
		ep.closeAll(CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	defer s.parking.close() // no reader is parked once every connection ended
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	for _, ep := range eps {
		for _, c := range ep.conns.snapshot() {
			c.dropSocket()
		}
	}
	<-done
	return fmt.Errorf("shutdown: connections were dropped: %w", ctx.Err())
}

// Run serves on ln until ctx ends, then shuts down: connections are closed
// with 1001 and given up to grace to finish.
func (s *Server) Run(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: s.cfg.HandshakeTimeout, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.Shutdown(sctx)
	_ = hs.Shutdown(sctx)
	<-errc
	return err
}
