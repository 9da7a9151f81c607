package plugin

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
)

// version is one loaded build of a plugin: its runtime, compiled module,
// limits and config, and a pool of instances. Safe for concurrent use.
//
// A version is acquired for each event and released after it; once retired
// (replaced by a newer version) it refuses new acquisitions, and the last
// release closes it.
type version struct {
	engine   *Engine
	number   uint64
	sha256   [sha256.Size]byte
	loadedAt time.Time
	loadTime time.Duration
	limits   engineLimits
	config   map[string]string

	runtime  wazero.Runtime
	compiled wazero.CompiledModule

	pool chan *instance // nil entries are slots to fill on demand
	obs  CallObserver   // nil: no metrics; set before the version serves

	refs      atomic.Int64 // in-flight events, plus retiredBit once retired
	closeOnce sync.Once

	// probation: a reload whose first calls are counted (probation.go).
	probation bool
	calls     atomic.Int64
	faults    atomic.Int64
	tripped   atomic.Bool
}

const retiredBit = int64(1) << 62

// acquire takes a reference; false when the version is retired.
func (v *version) acquire() bool {
	if v.refs.Add(1)&retiredBit != 0 {
		v.release()
		return false
	}
	return true
}

func (v *version) release() {
	if v.refs.Add(-1) == retiredBit {
		v.close()
	}
}

// retire refuses new events; the version closes when the last one ends.
func (v *version) retire() {
	if v.refs.Add(retiredBit) == retiredBit {
		v.close()
	}
}

func (v *version) close() {
	v.closeOnce.Do(func() {
		// Every reference is gone, so every instance is back in the pool.
		for range cap(v.pool) {
			if inst := <-v.pool; inst != nil {
				inst.close()
			}
		}
		_ = v.runtime.Close(context.Background())
		if v.obs != nil {
			v.obs.Retired()
		}
	})
}

// get takes an instance, instantiating one into an empty slot. It blocks
// while every instance is busy.
func (v *version) get(ctx context.Context) (*instance, error) {
	var inst *instance
	select {
	case inst = <-v.pool:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for an instance: %w", ctx.Err())
	}
	if inst != nil {
		return inst, nil
	}
	inst, err := v.instantiate(ctx)
	if err != nil {
		v.pool <- nil
		return nil, err
	}
	return inst, nil
}

// put returns an instance; a nil or unusable one frees its slot.
func (v *version) put(inst *instance, usable bool) {
	if !usable {
		inst.close()
		inst = nil
	}
	v.pool <- inst
}
