package plugin

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wshost/wshost/host"
)

// Manifest is a plugin's optional NAME.toml: its limits and its [config]
// table. The zero value means every default of ABI v1 §5. A plain value;
// treat Config as read-only once parsed.
//
//	instances = 2            # 1: every event handled in turn by one instance
//	close_on_fault = false   # true: a faulted callback closes its connection (1011)
//
//	[limits]
//	memory_bytes = 67108864  # linear memory per instance
//	call_timeout = "100ms"   # one callback's wall time
//	host_calls = 10000       # host calls per callback
//	message_bytes = 1048576  # one message, in and out
//	state_bytes = 67108864   # state_* total
//	queue_messages = 1024    # send queue per connection, by count
//	queue_bytes = 8388608    # send queue per connection, by bytes
//	rate_messages = 0        # messages a connection may send per second; 0: unlimited
//	rate_messages_burst = 0  # ... and at once (0: rate_messages)
//	rate_bytes = 0           # message bytes per second; 0: unlimited
//	rate_bytes_burst = 0     # ... and at once (0: rate_bytes, at least message_bytes)
//
//	[config]                 # read by the plugin with config_get
//	greeting = "hello"
type Manifest struct {
	Instances    int               `toml:"instances"`
	CloseOnFault bool              `toml:"close_on_fault"`
	Limits       ManifestLimits    `toml:"limits"`
	Config       map[string]string `toml:"-"`
}

// ManifestLimits is the [limits] table of a Manifest; zero fields take the
// ABI defaults. A plain value.
type ManifestLimits struct {
	MemoryBytes   int           `toml:"memory_bytes"`
	CallTimeout   time.Duration `toml:"call_timeout"`
	HostCalls     int           `toml:"host_calls"`
	MessageBytes  int           `toml:"message_bytes"`
	StateBytes    int           `toml:"state_bytes"`
	QueueMessages int           `toml:"queue_messages"`
	QueueBytes    int           `toml:"queue_bytes"`
	// Past a rate the connection is closed with 1008 after an on_error
	// PROTOCOL "rate limit: …".
	RateMessages      int `toml:"rate_messages"`
	RateMessagesBurst int `toml:"rate_messages_burst"`
	RateBytes         int `toml:"rate_bytes"`
	RateBytesBurst    int `toml:"rate_bytes_burst"`
}

// Defaults of ABI v1 §5 that the engine enforces.
const (
	DefaultMemoryBytes = 64 << 20
	DefaultCallTimeout = 100 * time.Millisecond
	DefaultHostCalls   = 10_000
	maxMemoryBytes     = 4 << 30 // wasm32
)

// ParseManifest decodes NAME.toml. Unknown keys and impossible values are
// errors that name the key.
func ParseManifest(data []byte) (Manifest, error) {
	var raw struct {
		Manifest
		Config map[string]any `toml:"config"`
	}
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] != "config" { // [config] tables are kept whole in raw.Config
			unknown = append(unknown, k.String())
		}
	}
	if len(unknown) > 0 {
		return Manifest{}, fmt.Errorf("%w: unknown key %s", ErrManifest, strings.Join(unknown, ", "))
	}
	m := raw.Manifest
	if len(raw.Config) > 0 {
		m.Config = make(map[string]string, len(raw.Config))
		for k, v := range raw.Config {
			m.Config[k] = configString(v)
		}
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// configString renders a [config] value: strings as they are, dates and
// times in RFC 3339, anything else (numbers, booleans, arrays, tables) as
// JSON.
func configString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Validate reports values that cannot work, naming the key.
func (m Manifest) Validate() error {
	l := m.Limits
	checks := []struct {
		key string
		bad bool
	}{
		{"instances", m.Instances < 0},
		{"limits.memory_bytes", l.MemoryBytes < 0 || l.MemoryBytes > maxMemoryBytes},
		{"limits.call_timeout", l.CallTimeout < 0},
		{"limits.host_calls", l.HostCalls < 0},
		{"limits.message_bytes", l.MessageBytes < 0},
		{"limits.state_bytes", l.StateBytes < 0},
		{"limits.queue_messages", l.QueueMessages < 0},
		{"limits.queue_bytes", l.QueueBytes < 0},
		{"limits.rate_messages", l.RateMessages < 0},
		{"limits.rate_messages_burst", l.RateMessagesBurst < 0},
		{"limits.rate_bytes", l.RateBytes < 0},
		{"limits.rate_bytes_burst", l.RateBytesBurst < 0},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("%w: %s is out of range", ErrManifest, c.key)
		}
	}
	if l.RateMessagesBurst > 0 && l.RateMessages == 0 {
		return fmt.Errorf("%w: limits.rate_messages_burst needs limits.rate_messages", ErrManifest)
	}
	if l.RateBytesBurst > 0 && l.RateBytes == 0 {
		return fmt.Errorf("%w: limits.rate_bytes_burst needs limits.rate_bytes", ErrManifest)
	}
	if err := m.HostLimits().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrManifest, err)
	}
	return nil
}

// HostLimits are the limits the host enforces for this plugin's endpoint.
func (m Manifest) HostLimits() host.Limits {
	return host.Limits{
		MaxMessageBytes:   m.Limits.MessageBytes,
		SendQueueMessages: m.Limits.QueueMessages,
		SendQueueBytes:    m.Limits.QueueBytes,
		RateMessages:      m.Limits.RateMessages,
		RateMessagesBurst: m.Limits.RateMessagesBurst,
		RateBytes:         m.Limits.RateBytes,
		RateBytesBurst:    m.Limits.RateBytesBurst,
		StateBytes:        m.Limits.StateBytes,
		CloseOnFault:      m.CloseOnFault,
	}.WithDefaults()
}

// engineLimits are the limits the engine enforces, defaults applied.
// Immutable once a version is built.
type engineLimits struct {
	instances   int
	memoryPages uint32
	callTimeout time.Duration
	hostCalls   int
}

func (m Manifest) engineLimits() engineLimits {
	l := engineLimits{
		instances:   m.Instances,
		memoryPages: uint32(m.Limits.MemoryBytes / 65536),
		callTimeout: m.Limits.CallTimeout,
		hostCalls:   m.Limits.HostCalls,
	}
	if l.instances == 0 {
		l.instances = runtime.NumCPU()
	}
	if m.Limits.MemoryBytes == 0 {
		l.memoryPages = DefaultMemoryBytes / 65536
	}
	if l.callTimeout == 0 {
		l.callTimeout = DefaultCallTimeout
	}
	if l.hostCalls == 0 {
		l.hostCalls = DefaultHostCalls
	}
	return l
}
