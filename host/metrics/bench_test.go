package metrics_test

import (
	"context"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/metrics"
	"github.com/wshost/wshost/host/plugin"
)

// BenchmarkEngineOverheadMetrics is plugin's BenchmarkEngineOverhead/wasm
// with metrics on: on_message → send to a connection that is not live,
// called directly, so the difference is what observing a call costs.
func BenchmarkEngineOverheadMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			srv := host.New(host.Config{Logger: quietLogger()})
			opts := plugin.Options{Cache: cache, Logger: quietLogger()}
			if on {
				opts.Observer = metrics.New()
			}
			p := plugin.NewPlugins(srv, opts)
			defer p.Close()
			if err := p.Install(context.Background(), "echo", testdata(b, "echo.wasm"), nil); err != nil {
				b.Fatal(err)
			}
			ep, e := srv.Endpoint("echo"), p.Engine("echo")
			msg := []byte("hello, this is a chat message of typical size")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Message(ctx, ep, 1<<60, msg, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
