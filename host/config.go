package host

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// Config configures a Server. Its zero value works: every zero field takes
// the default documented beside it. A plain value: New copies it.
type Config struct {
	// Logger receives the server's logs. Nil: slog.Default().
	Logger *slog.Logger

	// PingInterval is how often the host pings an idle peer. Default 20s.
	PingInterval time.Duration
	// PongTimeout is how long after a ping the peer may stay silent before
	// it is considered dead and dropped (close code 1006 to the handler).
	// Default 20s.
	PongTimeout time.Duration
	// WriteTimeout bounds one write to a peer. Default 10s.
	WriteTimeout time.Duration
	// CloseTimeout is how long the host waits for the peer's close frame
	// after sending its own, before it drops the TCP connection. Default 2s.
	CloseTimeout time.Duration
	// HandshakeTimeout bounds reading a request's header (in Run: a client
	// that sends it slowly or not at all is cut off) and writing the 101
	// response. Default 10s.
	HandshakeTimeout time.Duration

	// CheckOrigin decides whether a browser's Origin may connect. Nil: the
	// Origin header, when present, must match the Host (same origin) or be
	// one of AllowedOrigins.
	CheckOrigin func(r *http.Request) bool
	// AllowedOrigins are the origins, like "https://chat.example.com", whose
	// pages may connect besides the host's own, when CheckOrigin is nil;
	// "*" allows any. Empty: same origin only. A refused origin gets 403.
	AllowedOrigins []string

	// MaxConnections caps the connections of the whole server, counted from
	// before Open until their Close was delivered; past it a handshake gets
	// 503. Zero: unlimited.
	MaxConnections int
	// MaxConnectionsPerIP caps the connections from one client address (the
	// host of the request's RemoteAddr, or the forwarded client address
	// behind a trusted proxy: TrustedProxies); past it a handshake gets 429.
	// Zero: unlimited.
	MaxConnectionsPerIP int
	// TrustedProxies are the reverse proxies (nginx, a load balancer) whose
	// forwarded client address is believed. When a request's TCP peer is in
	// one of these prefixes, the client's address is taken from
	// X-Forwarded-For — the right-most hop that is not itself a trusted
	// proxy — or, without that header, from X-Real-IP. That address is
	// what conn_info "remote_addr" reports (as IP:0: proxies do not forward
	// the client's port) and what MaxConnectionsPerIP counts. From any
	// other peer both headers are ignored. Empty: never believed.
	TrustedProxies []netip.Prefix

	// Subprotocols the server speaks. The first one the client offers that is
	// in this list is chosen (the client's preference wins). Nil: none.
	Subprotocols []string

	// Pages serves every path that is not /ws/NAME, /healthz, /readyz or
	// one of Routes (the chat page, say). Nil: 404.
	Pages http.Handler
	// Routes are more handlers served on the same listener, by
	// http.ServeMux pattern: {"/metrics": m.Handler()}, say (Server.Handle
	// adds one after New). A pattern that clashes with the server's own
	// (/ws/{name}, /healthz, /readyz, "/" when Pages is set) or with
	// another is logged at error level and not served.
	Routes map[string]http.Handler

	// Broker carries room fan-out. Nil: an in-memory broker for one node
	// (or Cluster, when that is set).
	Broker Broker
	// Cluster joins other nodes: rooms, sends and attributes span them, and
	// it is the broker. Nil: this node alone.
	Cluster Cluster
	// NodeID is this node's id in a cluster, carried by every connection id
	// it issues; a cluster must never give two nodes (or two starts of one
	// node) the same id. Zero outside a cluster.
	NodeID uint16
	// State holds the plugins' state_* keys. Nil: in memory, per endpoint.
	State StateStore

	// Compression configures permessage-deflate. Default: off.
	Compression Compression
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	setDefault(&c.PingInterval, 20*time.Second)
	setDefault(&c.PongTimeout, 20*time.Second)
	setDefault(&c.WriteTimeout, 10*time.Second)
	setDefault(&c.CloseTimeout, 2*time.Second)
	setDefault(&c.HandshakeTimeout, 10*time.Second)
	if c.Cluster != nil {
		c.Broker = c.Cluster
	}
	if c.Broker == nil {
		c.Broker = NewMemoryBroker()
	}
	c.Compression = c.Compression.withDefaults()
	return c
}

// Limits are the per-endpoint limits the host enforces. The zero value of
// each field takes the ABI v1 default. A plain value, safe to copy.
type Limits struct {
	// MaxMessageBytes bounds one whole message, in and out. Default 1 MiB.
	MaxMessageBytes int
	// SendQueueMessages bounds a connection's send queue by count. Default 1024.
	SendQueueMessages int
	// SendQueueBytes bounds a connection's send queue by bytes. Default 8 MiB.
	SendQueueBytes int
	// StateBytes bounds the endpoint's key/value state (keys plus values).
	// Default 64 MiB.
	StateBytes int
	// CloseOnFault closes a connection with 1011 after its handler faulted.
	// Default false: the connection stays open.
	CloseOnFault bool

	// RateMessages bounds the data messages a connection may send, per
	// second on average, and RateMessagesBurst how many it may send at once
	// (default: RateMessages). RateBytes and RateBytesBurst bound their
	// bytes the same way (default burst: RateBytes, at least
	// MaxMessageBytes). Past either, the connection is closed with 1008 and
	// the handler gets Error(KindProtocol, "rate limit: …"). Zero rate:
	// unlimited. Open connections keep the rates they started with.
	RateMessages      int
	RateMessagesBurst int
	RateBytes         int
	RateBytesBurst    int
}

// Default limits of ABI v1 §5.
const (
	DefaultMaxMessageBytes   = 1 << 20
	DefaultSendQueueMessages = 1024
	DefaultSendQueueBytes    = 8 << 20
	DefaultStateBytes        = 64 << 20
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	setDefault(&l.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&l.SendQueueMessages, DefaultSendQueueMessages)
	setDefault(&l.SendQueueBytes, DefaultSendQueueBytes)
	setDefault(&l.StateBytes, DefaultStateBytes)
	l.rateDefaults()
	return l
}

// Validate reports limits that cannot work together.
func (l Limits) Validate() error {
	l = l.WithDefaults()
	switch {
	case l.MaxMessageBytes < 0, l.SendQueueMessages < 0, l.SendQueueBytes < 0, l.StateBytes < 0:
		return fmt.Errorf("%w: limits must not be negative", ErrConfig)
	case l.SendQueueBytes < l.MaxMessageBytes+maxFrameHeader:
		return fmt.Errorf("%w: send queue bytes (%d) must hold one message of the message limit (%d)",
			ErrConfig, l.SendQueueBytes, l.MaxMessageBytes)
	}
	return l.validateRates()
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
