package soak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/internal/pluginfile"
)

// PluginName is the name the broadcast plugin is served under: /ws/broadcast.
const PluginName = "broadcast"

// manifest raises the call timeout: on a loaded machine (thousands of
// goroutines on two CPUs, the race detector) a 100ms wall-clock callback
// deadline could trip while the goroutine merely waits for a CPU.
const manifest = "[limits]\ncall_timeout = \"2s\"\n"

// opTimeout bounds every single wait of the script (a dial, an echo, a
// closing handshake, a reload).
const opTimeout = 15 * time.Second

// Config shapes a run. Zero fields take the defaults of Short.
type Config struct {
	Conns        int           // connections held open (the population)
	RoomSize     int           // members per room
	SenderShare  float64       // share of connections that send
	SendEvery    time.Duration // a sender's mean pause between messages
	Duration     time.Duration // how long the load lasts
	ChurnEvery   time.Duration // how often connections are replaced
	ChurnShare   float64       // share of the population replaced each time
	DropShare    float64       // share of the replaced ones dropped abruptly (no close frame)
	ReloadEvery  time.Duration // how often the plugin file is replaced
	DialParallel int           // handshakes in flight at once
	Seed         uint64

	// Wasm is the broadcast plugin (testdata/broadcast.wasm). Required.
	Wasm []byte
	// Logger receives the server's logs. Nil: discarded.
	Logger *slog.Logger
	// Progress, if set, is told how the run goes every few seconds.
	Progress func(format string, args ...any)

	// What the process may keep after everything closed, over its baseline.
	GoroutineSlack int
	FDSlack        int
	HeapSlack      uint64
}

// Short is the version `go test` runs (also under -race): a few hundred
// connections for a few seconds.
func Short() Config {
	return Config{
		Conns:          300,
		RoomSize:       30,
		SenderShare:    0.15,
		SendEvery:      100 * time.Millisecond,
		Duration:       6 * time.Second,
		ChurnEvery:     200 * time.Millisecond,
		ChurnShare:     0.03,
		DropShare:      0.3,
		ReloadEvery:    time.Second,
		DialParallel:   32,
		Seed:           1,
		GoroutineSlack: 3,
		FDSlack:        2,
		HeapSlack:      1 << 20,
	}
}

// Long is the version `make soak` runs: thousands of connections for two
// minutes. Client and server share the process, so each connection costs
// two file descriptors: 4,000 of them stay well below a 20,000 limit.
func Long() Config {
	c := Short()
	c.Conns = 4000
	c.RoomSize = 50
	c.SenderShare = 0.1
	c.SendEvery = 250 * time.Millisecond
	c.Duration = 2 * time.Minute
	c.ChurnEvery = 500 * time.Millisecond
	c.ChurnShare = 0.01
	c.ReloadEvery = 3 * time.Second
	c.DialParallel = 64
	c.HeapSlack = 2 << 20
	return c
}

func (c Config) withDefaults() Config {
	d := Short()
	setDefault(&c.Conns, d.Conns)
	setDefault(&c.RoomSize, d.RoomSize)
	setDefault(&c.SenderShare, d.SenderShare)
	setDefault(&c.SendEvery, d.SendEvery)
	setDefault(&c.Duration, d.Duration)
	setDefault(&c.ChurnEvery, d.ChurnEvery)
	setDefault(&c.ChurnShare, d.ChurnShare)
	setDefault(&c.DropShare, d.DropShare)
	setDefault(&c.ReloadEvery, d.ReloadEvery)
	setDefault(&c.DialParallel, d.DialParallel)
	setDefault(&c.GoroutineSlack, d.GoroutineSlack)
	setDefault(&c.FDSlack, d.FDSlack)
	setDefault(&c.HeapSlack, d.HeapSlack)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = func(string, ...any) {}
	}
	return c
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Usage is what the process held: goroutines, open file descriptors (-1
// where /proc/self/fd is missing) and live heap after a GC.
type Usage struct {
	Goroutines int
	FDs        int
	Heap       uint64
}

// Report is what a run did and found.
type Report struct {
	Config   Config
	Duration time.Duration // the whole run, set-up and checks included
	Load     time.Duration // the load phase

	Rooms, PeakConns      int
	Opened                int // connections opened, churn included
	ClosedClean           int // closed by the script with a closing handshake
	Dropped, DroppedRST   int // dropped by the script without a close frame (RST: linger 0)
	Unexpected            int // closes (or failed writes) the script did not cause
	Senders               int
	Sent                  int // messages written
	Proven                int // of which certainly handled by the host (see the package doc)
	Delivered             int // messages received, own copies included
	Obligations           int // (receiver, message) pairs that had to arrive
	Missing               int // ... and did not
	Duplicates, Reordered int
	Gaps                  int // messages skipped inside a run
	Foreign               int // from another room, unknown senders or garbled
	NoEcho                int // senders whose own copy did not come back in time
	Reloads, ReloadErrors int
	HandlerErrors         uint64

	Before, After Usage
	Leaks         []string

	// Problems are the first problems found, for the log.
	Problems []string
	problems int
}

// OK reports a clean run.
func (r *Report) OK() bool { return r.problems == 0 && len(r.Leaks) == 0 }

// Err is nil for a clean run, else a summary of what went wrong.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "soak failed: %d problems, %d leaks", r.problems, len(r.Leaks))
	for _, p := range r.Problems {
		b.WriteString("\n  " + p)
	}
	for _, l := range r.Leaks {
		b.WriteString("\n  leak: " + l)
	}
	return errors.New(b.String())
}

func (r *Report) String() string {
	var b strings.Builder
	c := r.Config
	mib := func(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
	fmt.Fprintf(&b, "soak: %d connections in %d rooms of %d, %d%% senders every ~%s, churn %g%% every %s (%g%% dropped), reload every %s\n",
		c.Conns, r.Rooms, c.RoomSize, int(c.SenderShare*100), c.SendEvery, c.ChurnShare*100, c.ChurnEvery, c.DropShare*100, c.ReloadEvery)
	fmt.Fprintf(&b, "  duration      %s (load %s)\n", r.Duration.Round(time.Millisecond), r.Load.Round(time.Millisecond))
	fmt.Fprintf(&b, "  connections   opened %d, peak %d, closed cleanly %d, dropped %d (%d by RST), unexpected closes %d\n",
		r.Opened, r.PeakConns, r.ClosedClean, r.Dropped, r.DroppedRST, r.Unexpected)
	fmt.Fprintf(&b, "  messages      %d senders sent %d (%d proven handled), delivered %d (%.0f/s)\n",
		r.Senders, r.Sent, r.Proven, r.Delivered, float64(r.Delivered)/max(r.Load.Seconds(), 1e-9))
	fmt.Fprintf(&b, "  delivery      %d owed, missing %d, duplicates %d, reordered %d, gaps %d, foreign %d, no echo %d\n",
		r.Obligations, r.Missing, r.Duplicates, r.Reordered, r.Gaps, r.Foreign, r.NoEcho)
	fmt.Fprintf(&b, "  plugin        %d reloads, %d refused, %d handler errors\n", r.Reloads, r.ReloadErrors, r.HandlerErrors)
	fmt.Fprintf(&b, "  goroutines    %d -> %d   fds %d -> %d   heap %s -> %s\n",
		r.Before.Goroutines, r.After.Goroutines, r.Before.FDs, r.After.FDs, mib(r.Before.Heap), mib(r.After.Heap))
	verdict := "OK"
	if !r.OK() {
		verdict = fmt.Sprintf("FAILED: %d problems, %d leaks", r.problems, len(r.Leaks))
	}
	fmt.Fprintf(&b, "  result        %s", verdict)
	for _, p := range r.Problems {
		b.WriteString("\n    " + p)
	}
	for _, l := range r.Leaks {
		b.WriteString("\n    leak: " + l)
	}
	return b.String()
}

// Run runs the soak and returns its report; an error only when it could not
// run at all. Nothing else should run in the process meanwhile: the leak
// check counts the whole process's goroutines and file descriptors.
func Run(cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Wasm) == 0 {
		return nil, errors.New("soak: Config.Wasm is required")
	}
	start := time.Now()
	warmNetpoll()
	warmGoroutines(5*cfg.Conns + 1000)
	before := measure()
	rep := &Report{Config: cfg, Before: before}
	if err := runLoad(cfg, rep); err != nil {
		return rep, err
	}
	// Everything is closed; what the process holds must come back to the
	// baseline (connections' goroutines and sockets end asynchronously).
	deadline := time.Now().Add(opTimeout)
	for {
		rep.After = measure()
		rep.Leaks = leaks(cfg, before, rep.After)
		if len(rep.Leaks) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rep.Leaks) > 0 {
		rep.Leaks = append(rep.Leaks, "goroutines left:\n"+goroutineDump())
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func leaks(cfg Config, before, after Usage) []string {
	var out []string
	if after.Goroutines > before.Goroutines+cfg.GoroutineSlack {
		out = append(out, fmt.Sprintf("goroutines %d -> %d (slack %d)", before.Goroutines, after.Goroutines, cfg.GoroutineSlack))
	}
	if before.FDs >= 0 && after.FDs > before.FDs+cfg.FDSlack {
		out = append(out, fmt.Sprintf("open fds %d -> %d (slack %d)", before.FDs, after.FDs, cfg.FDSlack))
	}
	if after.Heap > before.Heap+cfg.HeapSlack {
		out = append(out, fmt.Sprintf("heap %d -> %d bytes (slack %d)", before.Heap, after.Heap, cfg.HeapSlack))
	}
	return out
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// warmNetpoll makes the runtime open its poller's descriptors before the
// baseline is taken: they stay open for good once the first socket exists.
func warmNetpoll() {
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		_ = ln.Close()
	}
}

// warmGoroutines runs n goroutines at once before the baseline is taken.
// The runtime keeps the descriptor of every goroutine that ever ran, for
// reuse, in the heap: without this, the heap after the run would be over
// the baseline by the run's peak of goroutines (about 400 bytes each), a
// figure that does not grow with the run's length and so is no leak.
func warmGoroutines(n int) {
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { <-release })
	}
	close(release)
	wg.Wait()
	for runtime.NumGoroutine() > base {
		time.Sleep(time.Millisecond)
	}
}

func measure() Usage {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := Usage{Goroutines: runtime.NumGoroutine(), FDs: -1, Heap: ms.HeapAlloc}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		u.FDs = len(ents) - 1 // the directory ReadDir itself had open
	}
	return u
}

// ---------------------------------------------------------------------------

// run is one soak run's shared state.
type run struct {
	cfg    Config
	rep    *Report
	start  time.Time
	url    string
	dialer websocket.Dialer

	nextID atomic.Int64
	mu     sync.Mutex
	all    []*client // every client ever opened
	probs  int
}

// now is the run's clock: monotonic nanoseconds since the start, the same
// for every goroutine.
func (r *run) now() int64 { return int64(time.Since(r.start)) }

// problem records a failure; the first ones are kept word for word.
func (r *run) problem(counter *int, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if counter != nil {
		*counter++
	}
	r.rep.problems++
	if len(r.rep.Problems) < 20 {
		r.rep.Problems = append(r.rep.Problems, fmt.Sprintf(format, args...))
	}
}

func (r *run) add(c *client) {
	r.mu.Lock()
	r.all = append(r.all, c)
	r.mu.Unlock()
}

func (r *run) count(counter *int, n int) {
	r.mu.Lock()
	*counter += n
	r.mu.Unlock()
}

const (
	modeLive int32 = iota
	modeClose
	modeDrop
)

// client is one WebSocket client. Its reader goroutine owns the receive
// records, its sender goroutine (senders only) the send records; both are
// read by the checks once the goroutines are done.
type client struct {
	r      *run
	id     int64
	room   int
	sender bool
	ws     *websocket.Conn

	connectedAt int64 // after the handshake: it had joined its room
	stopAt      int64 // before the script started closing or dropping it
	mode        atomic.Int32
	cleanClose  bool // the closing handshake ended with 1000

	// reader
	readerDone chan struct{}
	readErr    error
	endAt      int64 // when the reader ended
	pairs      map[int64]*run1
	received   int
	echoAt     []int64 // echoAt[k-1]: when the own copy of message k came back
	lastEcho   atomic.Int64
	echoSig    chan struct{}

	// sender
	wrote      []int64 // wrote[k-1]: just before message k was written
	stopOnce   sync.Once
	stopSend   chan struct{}
	senderDone chan struct{}
	noEcho     bool
}

// run1 is the run of one sender's messages a receiver got.
type run1 struct{ first, last int64 }

func (r *run) dial(rng *rand.Rand, rooms int) (*client, error) {
	c := &client{
		r:          r,
		id:         r.nextID.Add(1),
		room:       rng.IntN(rooms),
		sender:     rng.Float64() < r.cfg.SenderShare,
		readerDone: make(chan struct{}),
		pairs:      make(map[int64]*run1),
		echoSig:    make(chan struct{}, 1),
		stopSend:   make(chan struct{}),
		senderDone: make(chan struct{}),
	}
	ws, resp, err := r.dialer.Dial(fmt.Sprintf("%s?room=r%d", r.url, c.room), nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, fmt.Errorf("dial: %w (HTTP %d)", err, status)
	}
	c.ws = ws
	c.connectedAt = r.now()
	r.add(c)
	go c.read()
	if c.sender {
		go c.send(rng.Uint64())
	} else {
		close(c.senderDone)
	}
	return c, nil
}

// dialMany opens n clients, DialParallel at a time.
func (r *run) dialMany(rng *rand.Rand, rooms, n int) []*client {
	out := make([]*client, n)
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}
	sem := make(chan struct{}, r.cfg.DialParallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := r.dial(rand.New(rand.NewPCG(seeds[i], uint64(i))), rooms)
			if err != nil {
				r.problem(&r.rep.Unexpected, "%v", err)
				return
			}
			out[i] = c
		})
	}
	wg.Wait()
	live := out[:0]
	for _, c := range out {
		if c != nil {
			live = append(live, c)
		}
	}
	r.count(&r.rep.Opened, len(live))
	return live
}

func formatMsg(b []byte, sender, seq int64) []byte {
	b = strconv.AppendInt(b[:0], sender, 10)
	b = append(b, ' ')
	return strconv.AppendInt(b, seq, 10)
}

func parseMsg(msg []byte) (sender, seq int64, ok bool) {
	s, q, found := strings.Cut(string(msg), " ")
	if !found {
		return 0, 0, false
	}
	sender, err1 := strconv.ParseInt(s, 10, 64)
	seq, err2 := strconv.ParseInt(q, 10, 64)
	if err1 != nil || err2 != nil || sender <= 0 || seq <= 0 ||
		string(formatMsg(nil, sender, seq)) != string(msg) {
		return 0, 0, false
	}
	return sender, seq, true
}

func (c *client) read() {
	defer close(c.readerDone)
	r := c.r
	for {
		_, msg, err := c.ws.ReadMessage()
		now := r.now()
		if err != nil {
			c.readErr, c.endAt = err, now
			if c.mode.Load() == modeLive {
				r.problem(&r.rep.Unexpected, "client %d (room r%d) closed unexpectedly: %v", c.id, c.room, err)
			}
			return
		}
		s, k, ok := parseMsg(msg)
		if !ok {
			r.problem(&r.rep.Foreign, "client %d got a garbled message %q", c.id, msg)
			continue
		}
		c.received++
		p := c.pairs[s]
		switch {
		case p == nil:
			c.pairs[s] = &run1{first: k, last: k}
		case k == p.last+1:
			p.last = k
		case k >= p.first && k <= p.last:
			r.problem(&r.rep.Duplicates, "client %d got %q twice", c.id, msg)
		case k < p.first:
			r.problem(&r.rep.Reordered, "client %d got %q after %d %d", c.id, msg, s, p.last)
		default: // k > p.last+1
			r.problem(&r.rep.Gaps, "client %d got %q after %d %d: %d skipped", c.id, msg, s, p.last, k-p.last-1)
			r.count(&r.rep.Gaps, int(k-p.last-2))
			p.last = k
		}
		if s == c.id && k == int64(len(c.echoAt))+1 {
			c.echoAt = append(c.echoAt, now)
			c.lastEcho.Store(k)
			select {
			case c.echoSig <- struct{}{}:
			default:
			}
		}
	}
}

// send writes numbered messages until stopped, each after the previous one
// came back.
func (c *client) send(seed uint64) {
	defer close(c.senderDone)
	rng := rand.New(rand.NewPCG(seed, uint64(c.id)))
	mean := c.r.cfg.SendEvery
	t := time.NewTimer(time.Duration(rng.Int64N(int64(mean)))) // spread the first ones
	defer t.Stop()
	for {
		select {
		case <-c.stopSend:
			return
		case <-t.C:
		}
		if !c.sendOne(c.stopSend) {
			return
		}
		t.Reset(mean/2 + time.Duration(rng.Int64N(int64(mean))))
	}
}

// sendOne writes the next message and waits for its own copy, unless stop
// ends first. Only one goroutine at a time (the sender, then the script).
func (c *client) sendOne(stop <-chan struct{}) bool {
	r := c.r
	k := int64(len(c.wrote)) + 1
	var buf [40]byte
	c.wrote = append(c.wrote, r.now())
	_ = c.ws.SetWriteDeadline(time.Now().Add(opTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, formatMsg(buf[:0], c.id, k)); err != nil {
		if c.mode.Load() == modeLive {
			r.problem(&r.rep.Unexpected, "client %d: write %d: %v", c.id, k, err)
		}
		return false
	}
	timeout := time.NewTimer(opTimeout)
	defer timeout.Stop()
	for c.lastEcho.Load() < k {
		select {
		case <-c.echoSig:
		case <-stop:
			return false
		case <-c.readerDone:
			return false // reported by the reader if unexpected
		case <-timeout.C:
			c.noEcho = true
			r.problem(&r.rep.NoEcho, "client %d: message %d did not come back within %s", c.id, k, opTimeout)
			return false
		}
	}
	return true
}

func (c *client) stopSending() {
	c.stopOnce.Do(func() { close(c.stopSend) })
	<-c.senderDone
}

// closeClean ends the connection with a closing handshake (1000) and reads
// until the server's close frame.
func (c *client) closeClean() {
	r := c.r
	c.stopSending()
	c.stopAt = r.now()
	c.mode.Store(modeClose)
	err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(opTimeout))
	if err != nil {
		r.problem(&r.rep.Unexpected, "client %d: write close: %v", c.id, err)
	}
	select {
	case <-c.readerDone:
	case <-time.After(opTimeout):
		r.problem(&r.rep.Unexpected, "client %d: no close frame from the server within %s", c.id, opTimeout)
		_ = c.ws.NetConn().Close()
		<-c.readerDone
	}
	var ce *websocket.CloseError
	if errors.As(c.readErr, &ce) && ce.Code == websocket.CloseNormalClosure {
		c.cleanClose = true
	} else {
		r.problem(&r.rep.Unexpected, "client %d: closing handshake ended with %v, want close 1000", c.id, c.readErr)
	}
	_ = c.ws.Close()
	c.ws = nil
	r.count(&r.rep.ClosedClean, 1)
}

// drop closes the socket without a close frame; with rst, with a TCP reset.
func (c *client) drop(rst bool) {
	r := c.r
	c.stopSending()
	c.stopAt = r.now()
	c.mode.Store(modeDrop)
	if tc, ok := c.ws.NetConn().(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = c.ws.NetConn().Close()
	<-c.readerDone
	c.ws = nil
	r.count(&r.rep.Dropped, 1)
	if rst {
		r.count(&r.rep.DroppedRST, 1)
	}
}

// ---------------------------------------------------------------------------

// server is the in-process wshost: a plugins directory watched for changes.
type server struct {
	srv      *host.Server
	plugins  *plugin.Plugins
	dir      string
	url      string
	events   chan plugin.LoadEvent
	stopRun  context.CancelFunc
	runDone  chan error
	stopWat  context.CancelFunc
	watDone  chan error
	endpoint *host.Endpoint
}

func startServer(cfg Config) (*server, error) {
	dir, err := os.MkdirTemp("", "wshost-soak-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, events: make(chan plugin.LoadEvent, 256)}
	if err := os.WriteFile(filepath.Join(dir, PluginName+".toml"), []byte(manifest), 0o644); err != nil {
		return nil, err
	}
	if err := pluginfile.WriteAtomic(filepath.Join(dir, PluginName+".wasm"), cfg.Wasm); err != nil {
		return nil, err
	}
	s.srv = host.New(host.Config{Logger: cfg.Logger})
	s.plugins = plugin.NewPlugins(s.srv, plugin.Options{Logger: cfg.Logger, OnLoad: func(ev plugin.LoadEvent) {
		select {
		case s.events <- ev:
		default:
		}
	}})
	wctx, stopWat := context.WithCancel(context.Background())
	s.stopWat, s.watDone = stopWat, make(chan error, 1)
	ready := make(chan struct{})
	go func() { s.watDone <- s.plugins.WatchDir(wctx, dir, 20*time.Millisecond, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-s.watDone:
		s.watDone <- err
		s.stop()
		return nil, fmt.Errorf("watch plugins: %w", err)
	}
	if s.endpoint = s.srv.Endpoint(PluginName); s.endpoint == nil {
		s.stop()
		return nil, errors.New("the broadcast plugin did not load")
	}
	s.srv.SetReady(true)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.stop()
		return nil, err
	}
	rctx, stopRun := context.WithCancel(context.Background())
	s.stopRun, s.runDone = stopRun, make(chan error, 1)
	go func() { s.runDone <- s.srv.Run(rctx, ln, opTimeout) }()
	s.url = "ws://" + ln.Addr().String() + "/ws/" + PluginName
	return s, nil
}

// stop shuts the server down, then the watcher and the plugins; it returns
// what went wrong.
func (s *server) stop() []string {
	var errs []string
	if s.stopRun != nil {
		s.stopRun()
		if err := <-s.runDone; err != nil {
			errs = append(errs, fmt.Sprintf("server: %v", err))
		}
	}
	if s.stopWat != nil {
		s.stopWat()
		if err := <-s.watDone; err != nil {
			errs = append(errs, fmt.Sprintf("watch: %v", err))
		}
	}
	s.plugins.Close()
	_ = os.RemoveAll(s.dir)
	return errs
}

// reload replaces the plugin with version v of the same code (a custom
// section makes the bytes differ) and waits until it serves.
func (s *server) reload(r *run, v int) {
	wasm := pluginfile.WithCustomSection(r.cfg.Wasm, "soak", strconv.Itoa(v))
	if err := pluginfile.WriteAtomic(filepath.Join(s.dir, PluginName+".wasm"), wasm); err != nil {
		r.problem(&r.rep.ReloadErrors, "reload %d: %v", v, err)
		return
	}
	timeout := time.NewTimer(opTimeout)
	defer timeout.Stop()
	for {
		select {
		case ev := <-s.events:
			switch {
			case ev.Name != PluginName:
				continue
			case ev.Err != nil:
				r.problem(&r.rep.ReloadErrors, "reload %d refused: %v", v, ev.Err)
			case ev.Unchanged || ev.Removed:
				r.problem(&r.rep.ReloadErrors, "reload %d: unexpected event %+v", v, ev)
			default:
				r.count(&r.rep.Reloads, 1)
			}
			return
		case <-timeout.C:
			r.problem(&r.rep.ReloadErrors, "reload %d: not loaded within %s", v, opTimeout)
			return
		}
	}
}

// runLoad is the whole run but the leak check: every reference to the
// clients and the server is gone when it returns.
func runLoad(cfg Config, rep *Report) error {
	srv, err := startServer(cfg)
	if err != nil {
		return err
	}
	// Version 1's load event.
	select {
	case <-srv.events:
	case <-time.After(opTimeout):
	}
	r := &run{
		cfg:    cfg,
		rep:    rep,
		start:  time.Now(),
		url:    srv.url,
		dialer: websocket.Dialer{HandshakeTimeout: opTimeout, ReadBufferSize: 1024, WriteBufferSize: 1024},
	}
	rooms := max(1, cfg.Conns/cfg.RoomSize)
	rep.Rooms = rooms
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x50a4))

	live := r.dialMany(rng, rooms, cfg.Conns)
	rep.PeakConns = len(live)
	cfg.Progress("soak: %d connections open after %s", len(live), time.Duration(r.now()).Round(time.Millisecond))

	// The plugin is replaced every ReloadEvery while the load runs.
	loadStart := time.Now()
	stopReload := make(chan struct{})
	reloadDone := make(chan struct{})
	go func() {
		defer close(reloadDone)
		t := time.NewTicker(cfg.ReloadEvery)
		defer t.Stop()
		for v := 2; ; v++ {
			select {
			case <-stopReload:
				return
			case <-t.C:
			}
			srv.reload(r, v)
		}
	}()

	// Churn: replace a share of the population every ChurnEvery, some
	// closed cleanly and some dropped.
	var closing sync.WaitGroup
	churn := time.NewTicker(cfg.ChurnEvery)
	progress := time.NewTicker(5 * time.Second)
	end := time.After(cfg.Duration)
churning:
	for {
		select {
		case <-end:
			break churning
		case <-progress.C:
			r.mu.Lock()
			cfg.Progress("soak: %s: %d live, %d opened, %d reloads, %d problems",
				time.Since(loadStart).Round(time.Second), len(live), rep.Opened, rep.Reloads, rep.problems)
			r.mu.Unlock()
		case <-churn.C:
			n := max(1, int(float64(len(live))*cfg.ChurnShare))
			for range min(n, len(live)) {
				i := rng.IntN(len(live))
				c := live[i]
				live[i] = live[len(live)-1]
				live = live[:len(live)-1]
				drop, rst := rng.Float64() < cfg.DropShare, rng.IntN(2) == 0
				closing.Go(func() {
					if drop {
						c.drop(rst)
					} else {
						c.closeClean()
					}
				})
			}
			live = append(live, r.dialMany(rng, rooms, n)...)
			rep.PeakConns = max(rep.PeakConns, len(live))
		}
	}
	churn.Stop()
	progress.Stop()
	close(stopReload)
	<-reloadDone
	closing.Wait()
	rep.Load = time.Since(loadStart)

	// Quiesce: stop the senders, then each sends one last message (a fence)
	// whose own copy proves its previous message was handled.
	var wg sync.WaitGroup
	for _, c := range live {
		if c.sender {
			wg.Go(func() {
				c.stopSending()
				if !c.noEcho {
					c.sendOne(nil)
				}
			})
		}
	}
	wg.Wait()

	// The server holds exactly the connections the script holds: dropped
	// ones are gone, live ones are all there.
	waitFor(func() bool { return len(srv.endpoint.ConnIDs()) == len(live) })
	if n := len(srv.endpoint.ConnIDs()); n != len(live) {
		r.problem(&rep.Unexpected, "the server holds %d connections, the clients %d", n, len(live))
	}

	for _, c := range live {
		wg.Go(c.closeClean)
	}
	wg.Wait()
	waitFor(func() bool { return len(srv.endpoint.ConnIDs()) == 0 })
	if n := len(srv.endpoint.ConnIDs()); n != 0 {
		r.problem(&rep.Unexpected, "the server still holds %d connections after every client closed", n)
	}
	rep.HandlerErrors = srv.endpoint.HandlerErrors()
	if rep.HandlerErrors != 0 {
		r.problem(nil, "%d handler errors", rep.HandlerErrors)
	}
	for _, e := range srv.stop() {
		r.problem(nil, "%s", e)
	}
	r.verify()
	cfg.Progress("soak: done after %s", time.Since(r.start).Round(time.Millisecond))
	return nil
}

func waitFor(cond func() bool) {
	deadline := time.Now().Add(opTimeout)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// verify checks every receiver against every sender of its room, by the
// rule of the package doc.
func (r *run) verify() {
	rep := r.rep
	byID := make(map[int64]*client, len(r.all))
	senders := make(map[int][]*client)
	for _, c := range r.all {
		byID[c.id] = c
		rep.Delivered += c.received
		if c.sender {
			rep.Senders++
			rep.Sent += len(c.wrote)
			senders[c.room] = append(senders[c.room], c)
			rep.Proven += sort.Search(len(c.wrote), func(i int) bool { return c.handledAt(int64(i)+1) == never })
		}
	}
	for _, rc := range r.all {
		for sid, p := range rc.pairs {
			s := byID[sid]
			switch {
			case s == nil || !s.sender:
				r.problem(&rep.Foreign, "client %d got messages from %d, which never sent", rc.id, sid)
			case s.room != rc.room:
				r.problem(&rep.Foreign, "client %d (room r%d) got messages from %d (room r%d)", rc.id, rc.room, sid, s.room)
			case p.last > int64(len(s.wrote)):
				r.problem(&rep.Foreign, "client %d got message %d of %d, which sent %d", rc.id, p.last, sid, len(s.wrote))
			}
		}
		if !rc.cleanClose {
			continue // dropped: no obligation (it stopped reading at once)
		}
		for _, s := range senders[rc.room] {
			n := int64(len(s.wrote))
			// Owed: from the first message written after rc joined to the
			// last one certainly handled before rc started closing.
			a := int64(sort.Search(int(n), func(i int) bool { return s.wrote[i] > rc.connectedAt })) + 1
			b := int64(sort.Search(int(n), func(i int) bool { return s.handledAt(int64(i)+1) >= rc.stopAt }))
			if a > b {
				continue
			}
			rep.Obligations += int(b - a + 1)
			missing := b - a + 1
			if p := rc.pairs[s.id]; p != nil {
				lo, hi := max(a, p.first), min(b, p.last)
				if lo <= hi {
					missing -= hi - lo + 1
				}
			}
			if missing > 0 {
				r.problem(&rep.Missing, "client %d (room r%d, open %s..%s) missed %d of messages %d..%d of client %d",
					rc.id, rc.room, time.Duration(rc.connectedAt), time.Duration(rc.stopAt), missing, a, b, s.id)
				rep.Missing += int(missing) - 1
			}
		}
	}
}

const never = int64(1<<63 - 1)

// handledAt is when message k of sender c was certainly handled by the
// host (never when that is unknown): its own copy of message k+1 came back,
// or for its last message, the server answered its close frame.
func (c *client) handledAt(k int64) int64 {
	if k < int64(len(c.echoAt)) {
		return c.echoAt[k]
	}
	if k == int64(len(c.wrote)) && c.cleanClose {
		return c.endAt
	}
	return never
}
