package host

import (
	"compress/flate"
	"fmt"
	"testing"
)

func benchText(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"room":"lobby","nick":"user%d","text":"message number %d for everyone"}`, i%50, i)
	}
	return b[:n]
}

// BenchmarkDeflateFrame is the cost of compressing one message, paid once
// per message however many members receive it.
func BenchmarkDeflateFrame(b *testing.B) {
	for _, n := range []int{256, 1 << 10, 16 << 10} {
		for _, level := range []int{flate.BestSpeed, 6} {
			b.Run(fmt.Sprintf("%dB/level%d", n, level), func(b *testing.B) {
				plain := NewMessageFrame(benchText(n), false).b
				b.SetBytes(int64(n))
				b.ReportAllocs()
				var z []byte
				for b.Loop() {
					z = deflateFrame(plain, level)
				}
				b.ReportMetric(float64(len(z))/float64(len(plain)), "wire/plain")
			})
		}
	}
}

// BenchmarkWire: what the writer pays per queued frame.
func BenchmarkWire(b *testing.B) {
	off := NewMessageFrame(benchText(1<<10), false)
	on := NewMessageFrame(benchText(1<<10), false)
	on.z = &deflated{level: flate.BestSpeed}
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			_ = off.wire(false)
		}
	})
	b.Run("compressed-cached", func(b *testing.B) {
		for b.Loop() {
			_ = on.wire(true)
		}
	})
}
