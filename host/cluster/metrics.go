package cluster

import "github.com/prometheus/client_golang/prometheus"

// collector exports a Node's Stats to Prometheus. Safe for concurrent use.
type collector struct {
	n     *Node
	descs map[string]*prometheus.Desc
}

var counterHelp = map[string]string{
	"wshost_cluster_published_total":   "Messages published to other nodes.",
	"wshost_cluster_received_total":    "Messages received from other nodes.",
	"wshost_cluster_lost_total":        "Messages to other nodes that could not be handed to NATS.",
	"wshost_cluster_dropped_total":     "Messages from other nodes NATS dropped because this node fell behind.",
	"wshost_cluster_missed_total":      "Broadcasts from other nodes that never arrived (gaps in their numbering).",
	"wshost_cluster_disconnects_total": "Times the NATS connection was lost.",
	"wshost_cluster_reconnects_total":  "Times the NATS connection came back.",
	"wshost_cluster_resyncs_total":     "Directory snapshots asked of other nodes.",
	"wshost_cluster_nodes_lost_total":  "Nodes dropped after a silence.",
}

// Collector returns the node's metrics: the counters of Stats, the nodes
// seen and whether NATS is connected.
func (n *Node) Collector() prometheus.Collector {
	c := &collector{n: n, descs: map[string]*prometheus.Desc{}}
	for name, help := range counterHelp {
		c.descs[name] = prometheus.NewDesc(name, help, nil, nil)
	}
	c.descs["wshost_cluster_nodes"] = prometheus.NewDesc("wshost_cluster_nodes", "Other nodes this node sees.", nil, nil)
	c.descs["wshost_cluster_connected"] = prometheus.NewDesc("wshost_cluster_connected", "1 while NATS is connected.", nil, nil)
	c.descs["wshost_cluster_node_id"] = prometheus.NewDesc("wshost_cluster_node_id", "This node's id.", nil, nil)
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.Stats()
	connected := 0.0
	if st.Connected {
		connected = 1
	}
	for name, v := range map[string]uint64{
		"wshost_cluster_published_total":   st.Published,
		"wshost_cluster_received_total":    st.Received,
		"wshost_cluster_lost_total":        st.Lost,
		"wshost_cluster_dropped_total":     st.Dropped,
		"wshost_cluster_missed_total":      st.Missed,
		"wshost_cluster_disconnects_total": st.Disconnects,
		"wshost_cluster_reconnects_total":  st.Reconnects,
		"wshost_cluster_resyncs_total":     st.Resyncs,
		"wshost_cluster_nodes_lost_total":  st.NodesLost,
	} {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v))
	}
	ch <- prometheus.MustNewConstMetric(c.descs["wshost_cluster_nodes"], prometheus.GaugeValue, float64(st.Nodes))
	ch <- prometheus.MustNewConstMetric(c.descs["wshost_cluster_connected"], prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(c.descs["wshost_cluster_node_id"], prometheus.GaugeValue, float64(st.Node))
}
