package cluster

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wshost/wshost/host"
)

// kvState is host.StateStore over JetStream key/value: one bucket per
// namespace (plugin), bounded by the plugin's state limit, one value per
// key. It survives any node's loss. Safe for concurrent use.
type kvState struct {
	n       *Node
	mu      sync.Mutex // guards buckets
	buckets map[string]*kvBucket
}

// kvBucket is one namespace's bucket and the limit it was made with.
type kvBucket struct {
	kv    jetstream.KeyValue
	limit int
}

func newKVState(n *Node) *kvState {
	return &kvState{n: n, buckets: make(map[string]*kvBucket)}
}

// State is the cluster's host.StateStore: host.Config.State.
func (n *Node) State() host.StateStore { return n.state }

var _ host.StateStore = (*kvState)(nil)

// bucket returns the namespace's bucket, made (or its byte limit changed)
// when needed. Get and Delete pass limit 0: whatever limit it has.
func (s *kvState) bucket(ctx context.Context, ns string, limit int) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.buckets[ns]; b != nil && (limit == 0 || b.limit == limit) {
		return b.kv, nil
	}
	cfg := jetstream.KeyValueConfig{
		Bucket:      s.n.opts.Name + "_state_" + hex.EncodeToString([]byte(ns)),
		Description: "wshost: state_* of plugin " + ns,
		History:     1,
		Replicas:    s.n.opts.Replicas,
	}
	if limit > 0 {
		cfg.MaxBytes = int64(limit)
	}
	kv, err := s.n.js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state bucket of %q: %w: %w", ns, err, ErrUnavailable)
	}
	s.buckets[ns] = &kvBucket{kv: kv, limit: limit} // limit 0: not known yet
	return kv, nil
}

// stateKey encodes any key as a valid NATS key.
func stateKey(key string) string { return "k" + token.EncodeToString([]byte(key)) }

func (s *kvState) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.n.opts.OpTimeout)
}

func (s *kvState) Get(ns, key string) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	kv, err := s.bucket(ctx, ns, 0)
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, stateKey(key))
	if err != nil {
		return nil, stateErr(key, err)
	}
	return e.Value(), nil
}

func (s *kvState) Set(ns, key string, val []byte, limit int) error {
	ctx, cancel := s.ctx()
	defer cancel()
	kv, err := s.bucket(ctx, ns, limit)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, stateKey(key), val); err != nil {
		return stateErr(key, err)
	}
	return nil
}

func (s *kvState) Delete(ns, key string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	kv, err := s.bucket(ctx, ns, 0)
	if err != nil {
		return err
	}
	for {
		e, err := kv.Get(ctx, stateKey(key))
		if err != nil {
			return stateErr(key, err)
		}
		err = kv.Delete(ctx, stateKey(key), jetstream.LastRevision(e.Revision()))
		if !conflict(err) {
			return stateErr(key, err)
		}
	}
}

// Add is a compare-and-set loop on the key's revision, so concurrent adds
// from every node count once each.
func (s *kvState) Add(ns, key string, delta int64, limit int) (int64, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	kv, err := s.bucket(ctx, ns, limit)
	if err != nil {
		return 0, err
	}
	k := stateKey(key)
	for {
		var v int64
		var rev uint64
		e, err := kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return 0, stateErr(key, err)
		default:
			if len(e.Value()) != 8 {
				return 0, fmt.Errorf("state key %q holds %d bytes, not an 8-byte counter: %w", key, len(e.Value()), host.ErrBadArg)
			}
			v, rev = int64(binary.LittleEndian.Uint64(e.Value())), e.Revision()
		}
		v += delta
		b := binary.LittleEndian.AppendUint64(nil, uint64(v))
		if rev == 0 {
			_, err = kv.Create(ctx, k, b)
		} else {
			_, err = kv.Update(ctx, k, b, rev)
		}
		if err == nil {
			return v, nil
		}
		if !conflict(err) {
			return 0, stateErr(key, err)
		}
	}
}

// conflict reports a compare-and-set that lost a race.
func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

// stateErr maps JetStream's errors to the host's.
func stateErr(key string, err error) error {
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return fmt.Errorf("state key %q: %w", key, host.ErrNotFound)
	case errors.Is(err, jetstream.ErrMaxBytesExceeded),
		errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "maximum bytes"):
		return fmt.Errorf("state key %q: the plugin's state is full: %w: %w", key, err, host.ErrLimit)
	}
	return fmt.Errorf("state key %q: %w: %w: %w", key, err, ErrUnavailable, host.ErrLimit)
}
