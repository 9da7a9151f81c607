package plugin_test

import (
	"context"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
)

// nativeEcho is echo.wat's logic as a native Go handler: the baseline the
// Wasm engine is measured against. Safe for concurrent use.
type nativeEcho struct{}

func (nativeEcho) Open(context.Context, *host.Endpoint, host.ConnID) error { return nil }
func (nativeEcho) Message(_ context.Context, ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
	_ = ep.Send(id, msg, binary) // echo.wat ignores send's result too
	return nil
}
func (nativeEcho) Error(context.Context, *host.Endpoint, host.ConnID, host.ErrorKind, string) {}
func (nativeEcho) Close(context.Context, *host.Endpoint, host.ConnID, int, string)            {}

// benchHandlers serves nativeEcho at /ws/native, echo.wasm at /ws/wasm,
// and echo.wasm compiled without the callback deadline at
// /ws/wasm-no-deadline (never in production: it shows what the deadline
// costs).
func benchHandlers(b *testing.B) (*fixture, map[string]host.Handler) {
	f := newFixture(b, host.Config{})
	f.install(b, "wasm", "echo.wasm", "")
	if _, err := f.Mount("native", nativeEcho{}, host.Limits{}); err != nil {
		b.Fatal(err)
	}
	nd := plugin.NewPlugins(f.Server.Server, plugin.WithoutDeadline(plugin.Options{Logger: testLogger()}))
	b.Cleanup(nd.Close)
	if err := nd.Install(context.Background(), "wasm-no-deadline", readTestdata(b, "echo.wasm"), nil); err != nil {
		b.Fatal(err)
	}
	return f, map[string]host.Handler{
		"native":           nativeEcho{},
		"wasm":             f.plugins.Engine("wasm"),
		"wasm-no-deadline": nd.Engine("wasm-no-deadline"),
	}
}

var benchOrder = []string{"native", "wasm", "wasm-no-deadline"}

// BenchmarkEngineOverhead calls on_message → send directly, without a
// socket, for echo.wasm and for the same logic as a native handler, in the
// same run. The send goes to a connection id that is not live, so both do
// the same host work (checks and a lookup) and the difference between the
// two is the engine's own cost per event: taking an instance, the call
// into Wasm with its deadline, event_read and the host-call path.
func BenchmarkEngineOverhead(b *testing.B) {
	f, handlers := benchHandlers(b)
	msg := []byte("hello, this is a chat message of typical size")
	for _, name := range benchOrder {
		ep, h := f.Endpoint(name), handlers[name]
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := h.Message(ctx, ep, 1<<60, msg, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTrip measures a whole round trip through real sockets: the
// client sends a message, the handler echoes it, the client reads it.
func BenchmarkRoundTrip(b *testing.B) {
	f, _ := benchHandlers(b)
	for _, name := range benchOrder {
		c := f.Dial(b, "/ws/"+name)
		b.Run(name, func(b *testing.B) {
			msg := []byte("hello, this is a chat message of typical size")
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(1, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
