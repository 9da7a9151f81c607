package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes res as one JSON object on a line.
func WriteJSON(w io.Writer, res *Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteTable writes res as a summary table.
func WriteTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("scenario", "%s", res.Scenario)
	row("connections", "%d open at the end, %.0f opened/s", res.Conns, res.ConnectPerS)
	if len(res.ConnsPerURL) > 0 {
		row("per URL", "%s", joinInts(res.ConnsPerURL))
	}
	if res.Scenario != "idle" {
		row("load", "%d rooms, %d senders × %g msg/s", res.Rooms, res.Senders, res.Rate)
	}
	row("measured", "%.2f s", res.DurationS)
	if res.Scenario != "idle" {
		row("sent", "%d", res.Sent)
		row("delivered", "%d (%.0f/s)", res.Delivered, res.DeliveriesPerS)
		row("latency", "p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  (%d samples)", res.P50ms, res.P99ms, res.P999ms, res.Samples)
	}
	if res.Scenario == "reload" {
		row("reloads", "%d", res.Reloads)
		row("steady", "p50 %.3f ms  p99 %.3f ms", res.SteadyP50ms, res.SteadyP99ms)
		row("during reloads", "p50 %.3f ms  p99 %.3f ms", res.ReloadP50ms, res.ReloadP99ms)
	}
	if res.ServerCPUs > 0 || res.ServerRSSKiBPerConn != 0 {
		row("server CPU", "%.2f s, %.3f µs per delivery", res.ServerCPUs, res.ServerCPUusPerDelivery)
		row("server RSS", "%.1f KiB per connection", res.ServerRSSKiBPerConn)
	}
	if res.Servers > 1 {
		each := make([]string, len(res.ServerCPUsEach))
		for i, v := range res.ServerCPUsEach {
			each[i] = fmt.Sprintf("%.2f", v)
		}
		row("servers", "%d: CPU s each %s; RSS %d KiB at the end (%d at the start)",
			res.Servers, strings.Join(each, " "), res.ServerRSSKiB, res.ServerRSSKiBAt0)
	}
	if res.BrokerRSSKiB > 0 {
		row("broker CPU", "%.2f s, %.3f µs per delivery", res.BrokerCPUs, res.BrokerCPUusPerDelivery)
		row("broker RSS", "%d KiB at the end (%d at the start)", res.BrokerRSSKiB, res.BrokerRSSKiBAt0)
	}
	row("drops", "%d", res.Drops)
	row("errors", "%d", res.Errors)
	return tw.Flush()
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}
