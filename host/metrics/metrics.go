// Package metrics exports a wshost server's metrics to Prometheus.
//
// # Wiring
//
// A Metrics is made first, because the server serves its Handler and the
// plugins report to it; once both exist, Watch tells it what to read on
// each scrape:
//
//	m := metrics.New()
//	srv := host.New(host.Config{Routes: map[string]http.Handler{"/metrics": m.Handler()}})
//	plugins := plugin.NewPlugins(srv, plugin.Options{Observer: m})
//	m.Watch(srv, plugins)
//
// The handler may as well be served on a listener of its own
// (http.ListenAndServe(addr, m.Handler())).
//
// # Cost
//
// Nothing here runs on the event path but CallObserver.Call: with metrics
// on, each plugin callback call adds two clock readings, two counter
// increments and one histogram observation (atomic adds, no allocation).
// The host's own counters (connections, handshakes, messages, bytes, queue
// drops) are atomic adds it makes whether metrics are on or not, sharded by
// connection; they, the rooms and the instances are read when /metrics is
// scraped.
//
// # Families
//
// Every name starts with wshost_. From the host, read on scrape:
//
//	wshost_ready                                  gauge: 1 while /readyz answers 200
//	wshost_handshakes_total{result}               accepted, rejected (403 by on_open), fault (500),
//	                                              origin, caps, bad_handshake, not_found,
//	                                              shutting_down, upgrade_failed
//	wshost_connections{plugin}                    gauge: live connections
//	wshost_messages_received_total{plugin}        data messages from clients
//	wshost_received_bytes_total{plugin}           their payload bytes (decompressed)
//	wshost_messages_sent_total{plugin}            frames written from send queues
//	wshost_sent_bytes_total{plugin}               bytes written to sockets (headers, control frames, compression included)
//	wshost_queue_dropped_messages_total{plugin}   frames thrown away by send queue overflows
//	wshost_slow_consumer_closes_total{plugin}     connections closed 1008 for it
//	wshost_handler_errors_total{plugin}           on_message results that were errors but not faults
//	wshost_rooms{plugin}                          gauge: rooms (brokers that list rooms only)
//	wshost_room_members{plugin}                   gauge: memberships over all rooms
//
// From the plugins:
//
//	wshost_plugin_info{plugin,version,sha256}     gauge 1 for the version serving
//	wshost_plugin_instances{plugin}               gauge: started instances
//	wshost_plugin_calls_total{plugin,version,callback}
//	wshost_plugin_call_duration_seconds{plugin,version,callback}   histogram; waiting for an instance included
//	wshost_plugin_faults_total{plugin,version}    traps and deadlines (timeouts included)
//	wshost_plugin_timeouts_total{plugin,version}  callbacks stopped at their deadline
//	wshost_plugin_reloads_total{plugin}           versions that replaced a serving one (not rollbacks)
//	wshost_plugin_reload_failures_total{plugin}   new content refused: the last good version kept serving
//	wshost_plugin_rollbacks_total{plugin}         automatic rollbacks of a faulting reload
//
// The series of a version are deleted once it is freed after a reload, so
// reloads do not grow the series without bound. Go runtime and process
// metrics (go_*, process_*) are exported too.
package metrics

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
)

// Metrics holds wshost's metric families in a registry of its own. It
// implements plugin.Observer. Safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	calls     *prometheus.CounterVec
	durations *prometheus.HistogramVec
	faults    *prometheus.CounterVec
	timeouts  *prometheus.CounterVec
	reloads   *prometheus.CounterVec
	failures  *prometheus.CounterVec
	rollbacks *prometheus.CounterVec

	watched atomic.Pointer[watched]
}

// watched is what Watch was given. Immutable.
type watched struct {
	srv     *host.Server
	plugins *plugin.Plugins
}

// CallBuckets are the upper bounds, in seconds, of the call duration
// histogram: from 10µs to the default call timeout (100ms) and past it.
var CallBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
}

// New returns metrics in a fresh registry holding every family above, the
// Go runtime's and the process's.
func New() *Metrics {
	pluginVersion := []string{"plugin", "version"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wshost_plugin_calls_total",
			Help: "Plugin callback calls, by plugin, version and callback.",
		}, []string{"plugin", "version", "callback"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wshost_plugin_call_duration_seconds",
			Help:    "Wall time of plugin callback calls, waiting for a free instance included.",
			Buckets: CallBuckets,
		}, []string{"plugin", "version", "callback"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wshost_plugin_faults_total",
			Help: "Plugin callback calls that faulted: trapped, ran past their deadline, or found no instance.",
		}, pluginVersion),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wshost_plugin_timeouts_total",
			Help: "Plugin callback calls stopped at their deadline (call_timeout); also counted as faults.",
		}, pluginVersion),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wshost_plugin_reloads_total",
			Help: "Plugin versions loaded to replace a serving one (hot reloads; rollbacks not included).",
		}, []string{"plugin"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wshost_plugin_reload_failures_total",
			Help: "New plugin content refused (invalid module or manifest, failed rollback); the last good version, if any, kept serving.",
		}, []string{"plugin"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wshost_plugin_rollbacks_total",
			Help: "Automatic rollbacks of a reload that faulted in more than half of its first calls.",
		}, []string{"plugin"}),
	}
	m.reg.MustRegister(
		m.calls, m.durations, m.faults, m.timeouts, m.reloads, m.failures, m.rollbacks,
		(*scrapeCollector)(m),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the registry the families are in, to add more or gather them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text (or OpenMetrics)
// format, on GET /metrics say.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Watch makes each scrape read srv's counters, rooms and readiness and, when
// plugins is not nil, the plugins' versions and instances. A later call
// replaces the earlier one.
func (m *Metrics) Watch(srv *host.Server, plugins *plugin.Plugins) {
	m.watched.Store(&watched{srv: srv, plugins: plugins})
}

// Loaded implements plugin.Observer.
func (m *Metrics) Loaded(ev plugin.LoadEvent) {
	switch {
	case ev.Removed, ev.Unchanged:
	case ev.RolledBack:
		m.rollbacks.WithLabelValues(ev.Name).Inc()
	case ev.Err != nil:
		m.failures.WithLabelValues(ev.Name).Inc()
	default:
		// The series exist from the first load, at 0.
		m.failures.WithLabelValues(ev.Name)
		m.rollbacks.WithLabelValues(ev.Name)
		c := m.reloads.WithLabelValues(ev.Name)
		if ev.Version.Number > 1 {
			c.Inc()
		}
	}
}

// Version implements plugin.Observer: the returned observer has its series
// resolved once, so a call only adds to them.
func (m *Metrics) Version(name string, number uint64) plugin.CallObserver {
	v := strconv.FormatUint(number, 10)
	o := &versionObserver{m: m, plugin: name, version: v}
	for _, cb := range plugin.Callbacks() {
		o.calls[cb] = m.calls.WithLabelValues(name, v, cb.String())
		o.durations[cb] = m.durations.WithLabelValues(name, v, cb.String())
	}
	o.faults = m.faults.WithLabelValues(name, v)
	o.timeouts = m.timeouts.WithLabelValues(name, v)
	return o
}

// versionObserver counts one plugin version's calls. Immutable but for the
// metrics it adds to; safe for concurrent use.
type versionObserver struct {
	m               *Metrics
	plugin, version string
	calls           [4]prometheus.Counter
	durations       [4]prometheus.Observer
	faults          prometheus.Counter
	timeouts        prometheus.Counter
	retireOnce      sync.Once
}

// Call implements plugin.CallObserver.
func (o *versionObserver) Call(cb plugin.Callback, d time.Duration, err error) {
	if int(cb) >= len(o.calls) {
		return
	}
	o.calls[cb].Inc()
	o.durations[cb].Observe(d.Seconds())
	if err != nil {
		o.faults.Inc()
		if errors.Is(err, plugin.ErrDeadline) {
			o.timeouts.Inc()
		}
	}
}

// Retired implements plugin.CallObserver: the version's series are deleted.
func (o *versionObserver) Retired() {
	o.retireOnce.Do(func() {
		for _, cb := range plugin.Callbacks() {
			o.m.calls.DeleteLabelValues(o.plugin, o.version, cb.String())
			o.m.durations.DeleteLabelValues(o.plugin, o.version, cb.String())
		}
		o.m.faults.DeleteLabelValues(o.plugin, o.version)
		o.m.timeouts.DeleteLabelValues(o.plugin, o.version)
	})
}

var _ plugin.Observer = (*Metrics)(nil)
