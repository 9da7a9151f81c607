package host

import (
	"fmt"
	"log/slog"
	"net/http"
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
	// HandshakeTimeout bounds writing the 101 response. Default 10s.
	HandshakeTimeout time.Duration

	// CheckOrigin decides whether a browser's Origin may connect. Nil: the
	// Origin header, when present, must match the Host (same origin).
	CheckOrigin func(r *http.Request) bool
	// Subprotocols the server speaks. The first one the client offers that is
	// in this list is chosen (the client's preference wins). Nil: none.
	Subprotocols []string

	// Pages serves every path that is not /ws/NAME or /healthz (the chat
	// page, say). Nil: 404.
	Pages http.Handler

	// Broker carries room fan-out. Nil: an in-memory broker for one node.
	Broker Broker
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
	if c.Broker == nil {
		c.Broker = NewMemoryBroker()
	}
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
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
