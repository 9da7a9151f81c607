package bench

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
)

// A histogram of durations in ns, log-linear: exact below 256 ns, then 128
// buckets per power of two (under 1% error), up to about 18 minutes.
// Sharded so receivers on many goroutines rarely share a cache line.
const (
	subBits    = 7
	subCount   = 1 << subBits
	maxShift   = 33
	histBucket = 2*subCount + maxShift*subCount
)

type histShard struct {
	b [histBucket]atomic.Uint64
	_ [64]byte
}

type histogram struct {
	shards []histShard
}

func newHistogram() *histogram {
	return &histogram{shards: make([]histShard, max(4, 2*runtime.GOMAXPROCS(0)))}
}

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < 2*subCount {
		return int(u)
	}
	shift := bits.Len64(u) - (subBits + 1)
	if shift > maxShift {
		return histBucket - 1
	}
	return 2*subCount + (shift-1)*subCount + int(u>>uint(shift)) - subCount
}

// valueOf is the middle of bucket i.
func valueOf(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	shift := (i-2*subCount)/subCount + 1
	m := int64((i-2*subCount)%subCount + subCount)
	return m<<uint(shift) + int64(1)<<uint(shift-1)
}

// add records v in the shard of key (a connection's index).
func (h *histogram) add(key int, v int64) {
	h.shards[key%len(h.shards)].b[bucketOf(v)].Add(1)
}

// counts sums the shards.
func (h *histogram) counts() (c []uint64, n uint64) {
	c = make([]uint64, histBucket)
	for s := range h.shards {
		for i := range c {
			x := h.shards[s].b[i].Load()
			c[i] += x
			n += x
		}
	}
	return c, n
}

// quantiles returns the durations at each q in qs (0 when empty) and the
// number of samples.
func (h *histogram) quantiles(qs ...float64) ([]time.Duration, uint64) {
	c, n := h.counts()
	out := make([]time.Duration, len(qs))
	if n == 0 {
		return out, 0
	}
	for k, q := range qs {
		rank := uint64(q*float64(n) + 0.5)
		rank = min(max(rank, 1), n)
		var sum uint64
		for i, x := range c {
			sum += x
			if sum >= rank {
				out[k] = time.Duration(valueOf(i))
				break
			}
		}
	}
	return out, n
}
