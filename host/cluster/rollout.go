package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// metaManifest is the metadata key of a pushed plugin's manifest.
const metaManifest = "manifest"

// Report is one node's answer to a pushed plugin version. A plain value.
type Report struct {
	Node   uint16    `json:"node"`
	Plugin string    `json:"plugin"`
	Digest string    `json:"digest"`
	Status string    `json:"status"` // StatusLoaded, StatusRefused or StatusOverridden
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at"`
}

// Report statuses.
const (
	StatusLoaded     = "loaded"
	StatusRefused    = "refused"
	StatusOverridden = "local override"
)

// Installer installs a pushed plugin on a node and says what became of it:
// StatusLoaded, StatusOverridden (a local file wins), or an error
// (StatusRefused; the last good version keeps serving).
type Installer func(ctx context.Context, name string, wasm, manifest []byte) (status string, err error)

// Digest names a plugin version: the SHA-256 of its module and manifest.
func Digest(wasm, manifest []byte) string {
	h := sha256.New()
	h.Write([]byte(strconv.Itoa(len(wasm))))
	h.Write([]byte{0})
	h.Write(wasm)
	h.Write(manifest)
	return hex.EncodeToString(h.Sum(nil))
}

func pluginsBucket(name string) string { return name + "_plugins" }
func rolloutBucket(name string) string { return name + "_rollout" }

// Keys of the rollout bucket: the version each plugin should run, and each
// node's report on it.
func currentKey(plugin string) string { return "p." + token.EncodeToString([]byte(plugin)) }
func reportKey(plugin string, node uint16) string {
	return "r." + token.EncodeToString([]byte(plugin)) + "." + strconv.Itoa(int(node))
}
func objectName(plugin, digest string) string { return plugin + "@" + digest }

// current is the value under currentKey. JSON.
type current struct {
	Plugin string `json:"plugin"`
	Digest string `json:"digest"`
}

func pluginStores(ctx context.Context, js jetstream.JetStream, o Options) (jetstream.ObjectStore, jetstream.KeyValue, error) {
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      pluginsBucket(o.Name),
		Description: "wshost: plugin versions pushed to the cluster, by digest",
		Replicas:    o.Replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("plugin store: %w: %w", err, ErrUnavailable)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      rolloutBucket(o.Name),
		Description: "wshost: the version each plugin runs, and each node's report",
		History:     1,
		Replicas:    o.Replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("rollout bucket: %w: %w", err, ErrUnavailable)
	}
	return obs, kv, nil
}

// WatchPlugins installs the version of every plugin the cluster says to
// run — those set already, then each change — with install, and reports
// the outcome for the pusher to see. It returns when ctx ends.
func (n *Node) WatchPlugins(ctx context.Context, install Installer) error {
	obs, kv, err := pluginStores(ctx, n.js, n.opts)
	if err != nil {
		return err
	}
	w, err := kv.Watch(ctx, "p.*")
	if err != nil {
		return fmt.Errorf("watch the rollout bucket: %w: %w", err, ErrUnavailable)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil { // the end of what was set already
				continue
			}
			var cur current
			if e.Operation() != jetstream.KeyValuePut || json.Unmarshal(e.Value(), &cur) != nil {
				n.log.Info("a plugin was withdrawn from the cluster; this node keeps serving it", "key", e.Key())
				continue
			}
			n.installPushed(ctx, obs, kv, cur, install)
		}
	}
}

func (n *Node) installPushed(ctx context.Context, obs jetstream.ObjectStore, kv jetstream.KeyValue, cur current, install Installer) {
	rep := Report{Node: n.id, Plugin: cur.Plugin, Digest: cur.Digest, At: time.Now().UTC()}
	wasm, manifest, err := fetchPlugin(ctx, obs, cur)
	if err == nil {
		rep.Status, err = install(ctx, cur.Plugin, wasm, manifest)
	}
	if err != nil {
		rep.Status, rep.Error = StatusRefused, err.Error()
		n.log.Warn("refused a pushed plugin; the last good version keeps serving", "plugin", cur.Plugin, "digest", cur.Digest, "err", err)
	} else {
		n.log.Info("pushed plugin", "plugin", cur.Plugin, "digest", cur.Digest, "status", rep.Status)
	}
	b, _ := json.Marshal(rep)
	if _, err := kv.Put(ctx, reportKey(cur.Plugin, n.id), b); err != nil {
		n.log.Warn("could not report on a pushed plugin", "plugin", cur.Plugin, "err", err)
	}
}

func fetchPlugin(ctx context.Context, obs jetstream.ObjectStore, cur current) (wasm, manifest []byte, err error) {
	r, err := obs.Get(ctx, objectName(cur.Plugin, cur.Digest))
	if err != nil {
		return nil, nil, fmt.Errorf("fetch plugin %q: %w", cur.Plugin, err)
	}
	defer r.Close()
	info, err := r.Info()
	if err != nil {
		return nil, nil, fmt.Errorf("fetch plugin %q: %w", cur.Plugin, err)
	}
	wasm, err = io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch plugin %q: %w", cur.Plugin, err)
	}
	if m := info.Metadata[metaManifest]; m != "" {
		manifest = []byte(m)
	}
	if got := Digest(wasm, manifest); got != cur.Digest {
		return nil, nil, fmt.Errorf("plugin %q: content digest %s, want %s", cur.Plugin, got, cur.Digest)
	}
	return wasm, manifest, nil
}

// PushResult is what the nodes answered to a push. A plain value.
type PushResult struct {
	Digest  string
	Reports []Report // one per node that answered, by node id
	Silent  []uint16 // live nodes that did not answer in time
	// RolledBack is the digest the cluster went back to after a refusal
	// ("" when it did not, or when there was no earlier version: then the
	// plugin was withdrawn and nodes keep what they serve).
	RolledBack string
}

// PushOptions tune Push. The zero value works.
type PushOptions struct {
	// KeepOnRefusal leaves the new version set even when a node refused
	// it. Default: a refusal sets the previous version again, so nodes
	// started later run the last good one too.
	KeepOnRefusal bool
}

// Push stores a plugin version in the cluster, sets it as the one to run
// and waits, until ctx ends, for every live node to answer. It needs no
// Node: it is what `wshost plugin push` runs. The error wraps ErrRefused
// when a node refused the version and context.DeadlineExceeded when a live
// node stayed silent.
func Push(ctx context.Context, opts Options, name string, wasm, manifest []byte, po PushOptions) (PushResult, error) {
	opts = opts.withDefaults()
	nc, err := nats.Connect(opts.URL, append([]nats.Option{nats.Name("wshost plugin push"), nats.Timeout(opts.ConnectTimeout)}, opts.NATS...)...)
	if err != nil {
		return PushResult{}, fmt.Errorf("connect to NATS at %s: %w: %w", opts.URL, err, ErrUnavailable)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return PushResult{}, fmt.Errorf("jetstream: %w: %w", err, ErrUnavailable)
	}
	// Listen to heartbeats first: the nodes alive are the ones to wait for.
	hbs := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(subjects{opts.Name}.hb(), hbs)
	if err != nil {
		return PushResult{}, fmt.Errorf("listen to heartbeats: %w: %w", err, ErrUnavailable)
	}
	defer sub.Unsubscribe()
	listenedSince := time.Now()

	obs, kv, err := pluginStores(ctx, js, opts)
	if err != nil {
		return PushResult{}, err
	}
	res := PushResult{Digest: Digest(wasm, manifest)}
	meta := jetstream.ObjectMeta{Name: objectName(name, res.Digest), Description: "wshost plugin " + name}
	if len(manifest) > 0 {
		meta.Metadata = map[string]string{metaManifest: string(manifest)}
	}
	if _, err := obs.Put(ctx, meta, bytes.NewReader(wasm)); err != nil {
		return res, fmt.Errorf("store plugin %q: %w: %w", name, err, ErrUnavailable)
	}
	var previous current
	if e, err := kv.Get(ctx, currentKey(name)); err == nil {
		_ = json.Unmarshal(e.Value(), &previous)
	}
	w, err := kv.Watch(ctx, "r."+token.EncodeToString([]byte(name))+".*", jetstream.UpdatesOnly())
	if err != nil {
		return res, fmt.Errorf("watch the reports: %w: %w", err, ErrUnavailable)
	}
	defer w.Stop()
	cur, _ := json.Marshal(current{Plugin: name, Digest: res.Digest})
	if _, err := kv.Put(ctx, currentKey(name), cur); err != nil {
		return res, fmt.Errorf("set plugin %q: %w: %w", name, err, ErrUnavailable)
	}
	live, answered, waitErr := awaitReports(ctx, opts, hbs, w, res.Digest, listenedSince)
	res, err = finish(res, live, answered, waitErr)
	switch {
	case errors.Is(err, ErrRefused) && !po.KeepOnRefusal:
		res.RolledBack = rollBack(ctx, kv, obs, name, previous)
	case err == nil:
		prune(ctx, obs, name, res.Digest, previous.Digest)
	}
	return res, err
}

// awaitReports collects the nodes' reports on digest until every node
// heard from has answered (after two heartbeats of listening) or ctx ends.
func awaitReports(ctx context.Context, opts Options, hbs <-chan *nats.Msg, w jetstream.KeyWatcher, digest string, since time.Time) (map[uint16]bool, map[uint16]Report, error) {
	live := map[uint16]bool{}
	answered := map[uint16]Report{}
	tick := time.NewTicker(opts.Heartbeat / 2)
	defer tick.Stop()
	for {
		settled := time.Since(since) > 2*opts.Heartbeat && len(live) > 0
		if settled && allAnswered(live, answered) {
			return live, answered, nil
		}
		select {
		case <-ctx.Done():
			return live, answered, ctx.Err()
		case m := <-hbs:
			var hb heartbeat
			if json.Unmarshal(m.Data, &hb) == nil {
				live[hb.Node] = !hb.Bye
				if hb.Bye {
					delete(live, hb.Node)
				}
			}
		case e := <-w.Updates():
			var rep Report
			if e != nil && e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &rep) == nil && rep.Digest == digest {
				answered[rep.Node] = rep
			}
		case <-tick.C:
		}
	}
}

// rollBack sets the previous version again (or withdraws the plugin when
// there was none) and returns the digest gone back to.
func rollBack(ctx context.Context, kv jetstream.KeyValue, obs jetstream.ObjectStore, name string, previous current) string {
	if previous.Digest == "" {
		_ = kv.Delete(ctx, currentKey(name))
		return ""
	}
	b, _ := json.Marshal(previous)
	if _, err := kv.Put(ctx, currentKey(name), b); err != nil {
		return ""
	}
	return previous.Digest
}

// prune deletes the plugin's stored versions other than keep.
func prune(ctx context.Context, obs jetstream.ObjectStore, name string, keep ...string) {
	list, err := obs.List(ctx)
	if err != nil {
		return
	}
	for _, info := range list {
		plugin, digest, ok := strings.Cut(info.Name, "@")
		if ok && plugin == name && !slices.Contains(keep, digest) {
			_ = obs.Delete(ctx, info.Name)
		}
	}
}

func allAnswered(live map[uint16]bool, answered map[uint16]Report) bool {
	for id := range live {
		if _, ok := answered[id]; !ok {
			return false
		}
	}
	return true
}

func finish(res PushResult, live map[uint16]bool, answered map[uint16]Report, waitErr error) (PushResult, error) {
	for _, rep := range answered {
		res.Reports = append(res.Reports, rep)
	}
	slices.SortFunc(res.Reports, func(a, b Report) int { return int(a.Node) - int(b.Node) })
	for id := range live {
		if _, ok := answered[id]; !ok {
			res.Silent = append(res.Silent, id)
		}
	}
	slices.Sort(res.Silent)
	var errs []error
	for _, rep := range res.Reports {
		if rep.Status == StatusRefused {
			errs = append(errs, fmt.Errorf("node %d: %s: %w", rep.Node, rep.Error, ErrRefused))
		}
	}
	if len(res.Silent) > 0 {
		errs = append(errs, fmt.Errorf("nodes %v did not answer: %w", res.Silent, context.DeadlineExceeded))
	} else if waitErr != nil && len(live) == 0 {
		errs = append(errs, fmt.Errorf("no node is running: %w", waitErr))
	}
	return res, errors.Join(errs...)
}
