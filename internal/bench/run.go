package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/internal/pluginfile"
)

const (
	dialTimeout  = 10 * time.Second
	writeTimeout = 10 * time.Second
	closeGrace   = 2 * time.Second // for the server's answer to our close frames
	dialWorkers  = 64              // concurrent handshakes without -connect-rate
)

// Result is a run's figures. The JSON names are stable; a figure that was
// not measured (no -server-pid, no latency samples) is 0.
type Result struct {
	Scenario  string  `json:"scenario"`
	Conns     int     `json:"conns"` // connections open when the measurement ended
	Rooms     int     `json:"rooms"`
	Senders   int     `json:"senders"`
	Rate      float64 `json:"rate"`
	DurationS float64 `json:"duration_s"` // measured window

	Sent           uint64  `json:"sent"`
	Delivered      uint64  `json:"delivered"`
	DeliveriesPerS float64 `json:"deliveries_per_s"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	P999ms         float64 `json:"p999_ms"`
	Samples        uint64  `json:"latency_samples"`

	ServerCPUs             float64 `json:"server_cpu_s"`
	ServerCPUusPerDelivery float64 `json:"server_cpu_us_per_delivery"`
	ServerRSSKiBPerConn    float64 `json:"server_rss_kib_per_conn"`
	ConnectPerS            float64 `json:"connect_per_s"`
	Drops                  uint64  `json:"drops"`
	Errors                 uint64  `json:"errors"`
	Reloads                uint64  `json:"reloads"`

	// Only with several -url: connections open at the end on each URL, in
	// the order given.
	ConnsPerURL []int `json:"conns_per_url,omitempty"`
	// Only with several -server-pid: the count, each one's CPU seconds
	// (ServerCPUs is their sum) and the servers' summed RSS at the end.
	Servers         int       `json:"servers,omitempty"`
	ServerCPUsEach  []float64 `json:"server_cpu_s_each,omitempty"`
	ServerRSSKiB    int64     `json:"server_rss_kib,omitempty"`
	ServerRSSKiBAt0 int64     `json:"server_rss_kib_start,omitempty"`
	// Only with -broker-pid: the brokers' CPU over the measured window, per
	// delivery, and their RSS at the start and at the end (summed).
	BrokerCPUs             float64 `json:"broker_cpu_s,omitempty"`
	BrokerCPUusPerDelivery float64 `json:"broker_cpu_us_per_delivery,omitempty"`
	BrokerRSSKiB           int64   `json:"broker_rss_kib,omitempty"`
	BrokerRSSKiBAt0        int64   `json:"broker_rss_kib_start,omitempty"`
	// Latency of messages sent within min(reload-every/2, 500ms) after a
	// rewrite of the plugin file (reload) and of the others (steady).
	SteadyP50ms float64 `json:"steady_p50_ms"`
	SteadyP99ms float64 `json:"steady_p99_ms"`
	ReloadP50ms float64 `json:"reload_p50_ms"`
	ReloadP99ms float64 `json:"reload_p99_ms"`
}

type conn struct {
	idx     int
	url     int // index in the URLs
	room    string
	ws      *websocket.Conn
	done    chan struct{} // closed when the reader returns
	mu      sync.Mutex    // guards pending (echo)
	pending map[int64]struct{}
}

type runner struct {
	cfg    Config
	tmpl   template
	finder tsFinder
	echo   bool
	log    io.Writer

	sent, delivered, errs, drops, reloads atomic.Uint64
	open                                  atomic.Int64
	measuring                             atomic.Bool
	closing                               atomic.Bool

	steady, reload *histogram // reload: samples sent just after a rewrite
	lastReload     atomic.Int64
	prevReload     atomic.Int64
	reloadWindow   int64

	errOnce sync.Once
}

// Run performs the scenario and returns its figures. It ends by itself after
// the connections are open, the warmup and the duration; ctx ends it early
// (the figures then cover the time measured). progress gets one line a
// second.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	r := &runner{
		cfg: cfg, tmpl: compile(cfg.Template), finder: newTSFinder(cfg.TSRegex),
		echo: cfg.Scenario == "echo", log: progress,
		steady: newHistogram(), reload: newHistogram(),
	}
	r.reloadWindow = int64(min(cfg.ReloadEvery/2, 500*time.Millisecond))
	var reloadBase []byte
	if cfg.Scenario == "reload" {
		b, err := os.ReadFile(cfg.ReloadFile)
		if err != nil {
			return nil, fmt.Errorf("-reload-file: %w", err)
		}
		reloadBase = b
	}
	pids, bpids := cfg.ServerPIDs, cfg.BrokerPIDs
	rss0, err := sumRSS(pids)
	if err != nil {
		return nil, fmt.Errorf("-server-pid: %w", err)
	}
	brss0, err := sumRSS(bpids)
	if err != nil {
		return nil, fmt.Errorf("-broker-pid: %w", err)
	}

	start := time.Now()
	stopProgress := r.startProgress(start)
	defer stopProgress()

	// Connect.
	conns := r.connect(ctx)
	connectDur := time.Since(start)
	res := &Result{Scenario: cfg.Scenario, Rooms: cfg.Rooms, Senders: cfg.senders(), Rate: cfg.Rate}
	if cfg.Scenario == "idle" {
		res.Senders, res.Rate = 0, 0
	}
	if len(conns) > 0 && connectDur > 0 {
		res.ConnectPerS = float64(len(conns)) / connectDur.Seconds()
	}
	defer r.shutdown(conns)
	if len(conns) == 0 {
		return nil, fmt.Errorf("no connection could be opened (%d errors)", r.errs.Load())
	}

	// Send, warm up, measure.
	stopSend := make(chan struct{})
	var senders sync.WaitGroup
	for _, c := range conns {
		if c.idx < cfg.senders() {
			senders.Add(1)
			go func() { defer senders.Done(); r.send(c, stopSend) }()
		}
	}
	stopSenders := sync.OnceFunc(func() { close(stopSend); senders.Wait() })
	defer stopSenders()

	sleep(ctx, cfg.Warmup)
	cpu0, bcpu0 := eachCPU(pids), eachCPU(bpids)
	sent0, deliv0 := r.sent.Load(), r.delivered.Load()
	t0 := time.Now()
	r.measuring.Store(true)

	stopReload := func() {}
	if cfg.Scenario == "reload" {
		stopReload = r.startReloads(reloadBase)
	}
	sleep(ctx, cfg.Duration)
	r.measuring.Store(false)
	elapsed := time.Since(t0)
	sent1, deliv1 := r.sent.Load(), r.delivered.Load()
	cpu1, bcpu1 := eachCPU(pids), eachCPU(bpids)
	rss1, _ := sumRSS(pids)
	brss1, _ := sumRSS(bpids)
	stopReload()
	stopSenders()

	res.Conns = int(r.open.Load())
	res.DurationS = elapsed.Seconds()
	res.Sent, res.Delivered = sent1-sent0, deliv1-deliv0
	res.DeliveriesPerS = float64(res.Delivered) / elapsed.Seconds()
	all := newHistogram()
	for _, h := range []*histogram{r.steady, r.reload} {
		for s := range h.shards {
			for i := range h.shards[s].b {
				all.shards[s].b[i].Add(h.shards[s].b[i].Load())
			}
		}
	}
	q, n := all.quantiles(0.5, 0.99, 0.999)
	res.P50ms, res.P99ms, res.P999ms, res.Samples = ms(q[0]), ms(q[1]), ms(q[2]), n
	q, _ = r.steady.quantiles(0.5, 0.99)
	res.SteadyP50ms, res.SteadyP99ms = ms(q[0]), ms(q[1])
	q, _ = r.reload.quantiles(0.5, 0.99)
	res.ReloadP50ms, res.ReloadP99ms = ms(q[0]), ms(q[1])
	perDelivery := func(s float64) float64 {
		if res.Delivered > 0 && cfg.Scenario != "idle" { // idle delivers only strays
			return s * 1e6 / float64(res.Delivered)
		}
		return 0
	}
	if len(pids) > 0 {
		for i := range pids {
			res.ServerCPUs += cpu1[i] - cpu0[i]
		}
		res.ServerCPUusPerDelivery = perDelivery(res.ServerCPUs)
		if res.Conns > 0 {
			res.ServerRSSKiBPerConn = float64(rss1-rss0) / float64(res.Conns)
		}
	}
	if len(pids) > 1 {
		res.Servers = len(pids)
		for i := range pids {
			res.ServerCPUsEach = append(res.ServerCPUsEach, cpu1[i]-cpu0[i])
		}
		res.ServerRSSKiB, res.ServerRSSKiBAt0 = rss1, rss0
	}
	if len(bpids) > 0 {
		for i := range bpids {
			res.BrokerCPUs += bcpu1[i] - bcpu0[i]
		}
		res.BrokerCPUusPerDelivery = perDelivery(res.BrokerCPUs)
		res.BrokerRSSKiB, res.BrokerRSSKiBAt0 = brss1, brss0
	}
	if n := len(cfg.urls()); n > 1 {
		res.ConnsPerURL = make([]int, n)
		for _, c := range conns {
			select {
			case <-c.done: // closed before the end
			default:
				res.ConnsPerURL[c.url]++
			}
		}
	}
	res.Reloads = r.reloads.Load()

	r.shutdown(conns)
	res.Drops, res.Errors = r.drops.Load(), r.errs.Load()
	if reloadBase != nil {
		if err := pluginfile.WriteAtomic(cfg.ReloadFile, reloadBase); err != nil {
			r.errorf("restore -reload-file: %v", err)
		}
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errorf counts an error and reports the first one on the progress writer.
func (r *runner) errorf(format string, args ...any) {
	r.errs.Add(1)
	r.errOnce.Do(func() { fmt.Fprintf(r.log, "wsbench: first error: "+format+"\n", args...) })
}

func (r *runner) startProgress(start time.Time) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				fmt.Fprintf(r.log, "%6.1fs  conns %d  sent %d  delivered %d  errors %d  drops %d\n",
					now.Sub(start).Seconds(), r.open.Load(), r.sent.Load(), r.delivered.Load(), r.errs.Load(), r.drops.Load())
			}
		}
	}()
	return sync.OnceFunc(func() { close(stop); <-done })
}

// connect opens the connections (at -connect-rate if set) and returns
// those that opened, each with its reader running.
func (r *runner) connect(ctx context.Context) []*conn {
	cfg := r.cfg
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := make([]*conn, cfg.Conns)
	idx := make(chan int)
	var wg sync.WaitGroup
	for range min(dialWorkers, cfg.Conns) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				conns[i] = r.dial(ctx, i)
			}
		}()
	}
	var tick <-chan time.Time
	if cfg.ConnectRate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / cfg.ConnectRate))
		defer t.Stop()
		tick = t.C
	}
feed:
	for i := range cfg.Conns {
		if tick != nil && i > 0 {
			select {
			case <-tick:
			case <-ctx.Done():
				break feed
			}
		}
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idx)
	wg.Wait()
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

func (r *runner) dial(ctx context.Context, i int) *conn {
	cfg := r.cfg
	room := "r" + strconv.Itoa(i%cfg.Rooms)
	v := Vars{Room: room, Conn: i}
	nd := &net.Dialer{Timeout: dialTimeout}
	if len(cfg.Src) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: cfg.Src[i%len(cfg.Src)].AsSlice()}
	}
	d := websocket.Dialer{
		HandshakeTimeout: dialTimeout,
		ReadBufferSize:   2048,
		WriteBufferSize:  2048,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil || !loopbackAddr(ap.Addr()) {
				return nil, fmt.Errorf("refusing to dial %s: not in 127.0.0.0/8", addr)
			}
			return nd.DialContext(ctx, network, addr)
		},
	}
	ws, resp, err := d.DialContext(ctx, Expand(cfg.urlOf(i), v), nil)
	if err != nil {
		if ctx.Err() == nil {
			if resp != nil {
				err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
			}
			r.errorf("connection %d: %v", i, err)
		}
		return nil
	}
	for _, h := range cfg.Hello {
		_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(Expand(h, v))); err != nil {
			r.errorf("connection %d: hello: %v", i, err)
			_ = ws.Close()
			return nil
		}
	}
	c := &conn{idx: i, url: i % len(cfg.urls()), room: room, ws: ws, done: make(chan struct{})}
	if r.echo {
		c.pending = make(map[int64]struct{})
	}
	r.open.Add(1)
	go r.read(c)
	return c
}

// read counts what c receives until it closes; a close we did not start is
// a drop.
func (r *runner) read(c *conn) {
	defer close(c.done)
	defer r.open.Add(-1)
	var buf bytes.Buffer
	var ts []int64
	for {
		typ, rd, err := c.ws.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			if !r.closing.Load() {
				r.drops.Add(1)
				r.errOnce.Do(func() { fmt.Fprintf(r.log, "wsbench: connection %d dropped: %v\n", c.idx, err) })
			}
			return
		}
		now := time.Now().UnixNano()
		ts = ts[:0]
		if typ == websocket.TextMessage {
			ts = r.finder.find(buf.Bytes(), ts)
		}
		r.delivered.Add(uint64(max(1, len(ts))))
		if !r.measuring.Load() {
			continue
		}
		for _, t := range ts {
			lat := now - t
			if lat < 0 || lat > int64(time.Hour) {
				continue // not a time we wrote
			}
			if r.echo {
				c.mu.Lock()
				_, own := c.pending[t]
				delete(c.pending, t)
				c.mu.Unlock()
				if !own {
					continue
				}
			}
			h := r.steady
			if r.duringReload(t) {
				h = r.reload
			}
			h.add(c.idx, lat)
		}
	}
}

// send writes the template at -rate until stop.
func (r *runner) send(c *conn, stop <-chan struct{}) {
	every := time.Duration(float64(time.Second) / r.cfg.Rate)
	// A random phase, so senders do not all fire at once.
	phase := time.NewTimer(rand.N(every) + 1)
	select {
	case <-stop:
		phase.Stop()
		return
	case <-phase.C:
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var b []byte
	v := Vars{Room: c.room, Conn: c.idx}
	for {
		v.TS = time.Now().UnixNano()
		b = r.tmpl.append(b[:0], v)
		if r.echo {
			c.mu.Lock()
			if len(c.pending) > 100_000 { // replies that never came
				clear(c.pending)
			}
			c.pending[v.TS] = struct{}{}
			c.mu.Unlock()
		}
		_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
			if !r.closing.Load() {
				r.errorf("connection %d: send: %v", c.idx, err)
			}
			return
		}
		r.sent.Add(1)
		v.Seq++
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// shutdown closes every connection cleanly: a close frame, the server's
// answer (for closeGrace at most), then the socket. Idempotent.
func (r *runner) shutdown(conns []*conn) {
	if r.closing.Swap(true) {
		return
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	for _, c := range conns {
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	deadline := time.NewTimer(closeGrace)
	defer deadline.Stop()
	for _, c := range conns {
		select {
		case <-c.done:
		case <-deadline.C:
		}
		_ = c.ws.Close()
	}
	for _, c := range conns {
		<-c.done
	}
}

// duringReload reports whether a message sent at ts (Unix ns) went out in
// the window after a rewrite of the plugin file.
func (r *runner) duringReload(ts int64) bool {
	for _, at := range []int64{r.lastReload.Load(), r.prevReload.Load()} {
		if at != 0 && ts >= at && ts-at < r.reloadWindow {
			return true
		}
	}
	return false
}

// startReloads rewrites -reload-file every -reload-every with a new
// version: base plus a custom section "reload" holding a counter.
func (r *runner) startReloads(base []byte) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.cfg.ReloadEvery)
		defer t.Stop()
		var n uint64
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			n++
			now := time.Now().UnixNano()
			r.prevReload.Store(r.lastReload.Load())
			r.lastReload.Store(now)
			if err := pluginfile.WriteAtomic(r.cfg.ReloadFile, withReloadSection(base, n)); err != nil {
				r.errorf("rewrite -reload-file: %v", err)
				continue
			}
			r.reloads.Add(1)
		}
	}()
	return sync.OnceFunc(func() { close(quit); <-done })
}

// withReloadSection returns wasm with a custom section (id 0) named
// "reload" appended, holding n: a new version of the same module.
func withReloadSection(wasm []byte, n uint64) []byte {
	return pluginfile.WithCustomSection(wasm, "reload", strconv.FormatUint(n, 10))
}
