package plugin

import (
	"cmp"
	"slices"
	"time"
)

// Observer is told what the engines of a Plugins do, for metrics (package
// host/metrics implements it). With Options.Observer nil nothing is
// measured: the event path pays one nil check. Implementations must be safe
// for concurrent use and must not block.
type Observer interface {
	// Loaded is told of every LoadEvent, as Options.OnLoad is.
	Loaded(ev LoadEvent)
	// Version is called when version number of plugin is loaded, before
	// it serves. The CallObserver it returns (nil: none) is told of each of
	// that version's callback calls.
	Version(plugin string, number uint64) CallObserver
}

// CallObserver is told of the callback calls of one plugin version, from
// many goroutines at once. It must not block.
type CallObserver interface {
	// Call reports one callback call: its wall time, waiting for a free
	// instance included, and its error: nil, or one wrapping ErrTrap or
	// ErrDeadline (a fault). A missing optional export is no call.
	Call(cb Callback, d time.Duration, err error)
	// Retired is called once the version is freed: no call follows.
	Retired()
}

// Callback names a plugin export the host calls. A plain value.
type Callback uint8

// The callbacks of ABI v1.
const (
	CallbackOpen    = Callback(exOpen)
	CallbackMessage = Callback(exMessage)
	CallbackClose   = Callback(exClose)
	CallbackError   = Callback(exError)
)

// Callbacks lists every callback.
func Callbacks() []Callback {
	return []Callback{CallbackOpen, CallbackMessage, CallbackClose, CallbackError}
}

// String is the export's name: "on_open", "on_message", "on_close", "on_error".
func (cb Callback) String() string {
	if cb >= Callback(exportCount) {
		return "unknown"
	}
	return export(cb).String()
}

// Status describes one plugin for an operator (the admin API). A plain value.
type Status struct {
	Name string
	// Loaded: a version is serving (Version describes it).
	Loaded  bool
	Version VersionInfo
	// Instances is the number of started instances, of every version still
	// running events.
	Instances int64
	// Rollbacks counts the automatic rollbacks of this plugin.
	Rollbacks uint64
	// LastError is the last refusal of new content (or a rollback's
	// reason), LastErrorAt when it happened; "" for none since the plugin
	// was first installed.
	LastError   string
	LastErrorAt time.Time
}

// Status lists the plugins installed, and those whose first install
// failed, by name.
func (p *Plugins) Status() []Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errMu.Lock()
	defer p.errMu.Unlock()
	out := make([]Status, 0, len(p.served)+len(p.errs))
	for name, s := range p.served {
		st := Status{Name: name, Instances: s.engine.Instances(), Rollbacks: s.rollbacks.Load()}
		st.Version, st.Loaded = s.engine.Current()
		out = append(out, st)
	}
	for name, le := range p.errs {
		i := slices.IndexFunc(out, func(st Status) bool { return st.Name == name })
		if i < 0 {
			out = append(out, Status{Name: name})
			i = len(out) - 1
		}
		out[i].LastError, out[i].LastErrorAt = le.err, le.at
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// loadError is the last refusal reported for a plugin name.
type loadError struct {
	err string
	at  time.Time
}
