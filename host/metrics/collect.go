package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wshost/wshost/host"
)

// The families read on scrape from the server and the plugins.
var (
	descReady = prometheus.NewDesc("wshost_ready",
		"1 while the server takes traffic (/readyz answers 200), 0 while starting or shutting down.", nil, nil)
	descHandshakes = prometheus.NewDesc("wshost_handshakes_total",
		"WebSocket handshakes at /ws/NAME by result: accepted, rejected (403 by on_open), fault (500: on_open failed), "+
			"origin (403: Origin not allowed), caps (503/429: connection caps), bad_handshake (400: not a WebSocket handshake), "+
			"not_found (404), shutting_down (503), upgrade_failed.", []string{"result"}, nil)
	descConns = prometheus.NewDesc("wshost_connections",
		"Live connections.", []string{"plugin"}, nil)
	descMsgsIn = prometheus.NewDesc("wshost_messages_received_total",
		"Data messages read from clients.", []string{"plugin"}, nil)
	descBytesIn = prometheus.NewDesc("wshost_received_bytes_total",
		"Payload bytes of the data messages read from clients, after decompression.", []string{"plugin"}, nil)
	descMsgsOut = prometheus.NewDesc("wshost_messages_sent_total",
		"Frames written to clients from their send queues (data messages and pongs).", []string{"plugin"}, nil)
	descBytesOut = prometheus.NewDesc("wshost_sent_bytes_total",
		"Bytes written to client sockets: frame headers, control frames and compression included.", []string{"plugin"}, nil)
	descDropped = prometheus.NewDesc("wshost_queue_dropped_messages_total",
		"Frames thrown away when a send queue overflowed, the one that overflowed it included.", []string{"plugin"}, nil)
	descSlow = prometheus.NewDesc("wshost_slow_consumer_closes_total",
		"Connections closed (1008) because their send queue overflowed.", []string{"plugin"}, nil)
	descHandlerErrors = prometheus.NewDesc("wshost_handler_errors_total",
		"on_message calls that returned an error that is not a fault (a non-zero result).", []string{"plugin"}, nil)
	descRooms = prometheus.NewDesc("wshost_rooms",
		"Rooms with at least one member.", []string{"plugin"}, nil)
	descMembers = prometheus.NewDesc("wshost_room_members",
		"Room memberships, summed over the plugin's rooms.", []string{"plugin"}, nil)

	descInfo = prometheus.NewDesc("wshost_plugin_info",
		"1 for the plugin version serving.", []string{"plugin", "version", "sha256"}, nil)
	descInstances = prometheus.NewDesc("wshost_plugin_instances",
		"Started plugin instances, of the serving version and of replaced ones still finishing events.", []string{"plugin"}, nil)
)

// scrapeCollector reads what Watch was given when the registry is gathered.
type scrapeCollector Metrics

// Describe implements prometheus.Collector.
func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descReady, descHandshakes, descConns, descMsgsIn, descBytesIn, descMsgsOut, descBytesOut,
		descDropped, descSlow, descHandlerErrors, descRooms, descMembers, descInfo, descInstances,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	w := (*Metrics)(c).watched.Load()
	if w == nil {
		return
	}
	if srv := w.srv; srv != nil {
		collectServer(ch, srv)
	}
	if w.plugins != nil {
		for _, st := range w.plugins.Status() {
			ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(st.Instances), st.Name)
			if st.Loaded {
				ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1,
					st.Name, strconv.FormatUint(st.Version.Number, 10), st.Version.SHA256)
			}
		}
	}
}

func collectServer(ch chan<- prometheus.Metric, srv *host.Server) {
	ready := 0.0
	if srv.Ready() {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, ready)
	for _, r := range host.HandshakeResults() {
		ch <- prometheus.MustNewConstMetric(descHandshakes, prometheus.CounterValue, float64(srv.Handshakes(r)), r.String())
	}
	counter := func(d *prometheus.Desc, v uint64, name string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), name)
	}
	for _, ep := range srv.Endpoints() {
		name, st := ep.Name(), ep.Stats()
		ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(st.Connections), name)
		counter(descMsgsIn, st.MessagesIn, name)
		counter(descBytesIn, st.BytesIn, name)
		counter(descMsgsOut, st.MessagesOut, name)
		counter(descBytesOut, st.BytesOut, name)
		counter(descDropped, st.QueueDropped, name)
		counter(descSlow, st.SlowCloses, name)
		counter(descHandlerErrors, st.HandlerErrors, name)
		rooms, err := ep.Rooms()
		if err != nil {
			continue // a broker that cannot list rooms: no room gauges
		}
		members := 0
		for _, r := range rooms {
			members += r.Members
		}
		ch <- prometheus.MustNewConstMetric(descRooms, prometheus.GaugeValue, float64(len(rooms)), name)
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(members), name)
	}
}
