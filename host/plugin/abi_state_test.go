package plugin_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
)

// counterHex is how the probe shows an 8-byte counter read with sget.
func counterHex(n int64) string {
	return "hex:" + hex.EncodeToString(binary.LittleEndian.AppendUint64(nil, uint64(n)))
}

// TestABIState: state_get, state_set, state_delete and state_add.
func TestABIState(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	ascii8 := int64(binary.LittleEndian.Uint64([]byte("12345678")))
	runSteps(t, a, idReplacer(a, b), []step{
		{"get missing", "sget k", "= -1"},
		{"set", "sset k v", "= 0"},
		{"get", "sget k", "= 1 v"},
		{"overwrite", "sset k value two", "= 0"},
		{"get the new value", "sget k", "= 9 value two"},
		{"set an empty value", "sset e -", "= 0"},
		{"an empty value is a value", "sget e", "= 0"},
		{"delete the empty value", "sdel e", "= 0"},
		{"deleted", "sget e", "= -1"},
		{"delete missing", "sdel e", "= -1"},
		{"delete never set", "sdel never", "= -1"},
		{"add on a missing key counts from 0", "sadd n 5", "= 0 5"},
		{"add a negative delta", "sadd n -7", "= 0 -2"},
		{"add 0 reads", "sadd n 0", "= 0 -2"},
		{"the counter is 8 bytes, little-endian", "sget n", "= 8 " + counterHex(-2)},
		{"add 0 on a missing key creates 0", "sadd zero 0", "= 0 0"},
		{"created", "sget zero", "= 8 " + strings.Repeat("\x00", 8)}, // valid UTF-8: shown as is
		{"add on a 9-byte value", "sadd k 1", "= -2"},
		{"the value is untouched", "sget k", "= 9 value two"},
		{"set an empty value again", "sset e -", "= 0"},
		{"add on an empty value", "sadd e 1", "= -2"},
		{"still empty", "sget e", "= 0"},
		{"any 8-byte value is a counter", "sset eight 12345678", "= 0"},
		{"add to it", "sadd eight 1", "= 0 " + strconv.FormatInt(ascii8+1, 10)},
		{"a set counter is a value", "sset n 7", "= 0"},
		{"add on the 1-byte value", "sadd n 1", "= -2"},
	})
	// The store is the plugin's: b, and the host, see a's keys.
	runSteps(t, b, idReplacer(a, b), []step{
		{"b reads a's key", "sget k", "= 9 value two"},
		{"b adds to a's counter", "sadd zero 3", "= 0 3"},
	})
	a.expect("sadd zero 0", "= 0 3")
	if got := stateString(f, "probe", "k"); got != "value two" {
		t.Errorf("host: k = %q, want %q", got, "value two")
	}
	if got := stateCounter(f, "probe", "zero"); got != 3 {
		t.Errorf("host: zero = %d, want 3", got)
	}
	// A value the host set is the plugin's to read.
	if err := f.Endpoint("probe").StateSet("from-host", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	a.expect("sget from-host", "= 2 hi")
	// Another plugin has its own store.
	f.install(t, "probe2", "probe.wasm", "")
	other := dialProbe(t, f, "/ws/probe2")
	other.expect("sget k", "= -1")
}

// TestABIStateLimit: a state_set or state_add that would pass the state
// limit is ERR_LIMIT and stores nothing; shrinking or deleting frees room.
// The sizes leave margin for keys counting toward the total or not.
func TestABIStateLimit(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "[limits]\nstate_bytes = 100\n")
	a := dialProbe(t, f, "/ws/probe")
	x := func(n int) string { return strings.Repeat("x", n) }
	runSteps(t, a, idReplacer(a), []step{
		{"fits", "sset a " + x(95), "= 0"},
		{"set past the limit", "sset b " + x(30), "= -5"},
		{"nothing stored", "sget b", "= -1"},
		{"add past the limit", "sadd c 1", "= -5"},
		{"no counter stored", "sget c", "= -1"},
		{"growing a past the limit", "sset a " + x(120), "= -5"},
		{"a unchanged", "sget a", "= 95 " + x(95)},
		{"shrinking fits", "sset a " + x(10), "= 0"},
		{"now b fits", "sset b " + x(30), "= 0"},
		{"and c", "sadd c 1", "= 0 1"},
		{"full again", "sset d " + x(60), "= -5"},
		{"delete frees", "sdel b", "= 0"},
		{"then d fits", "sset d " + x(60), "= 0"},
	})
}

// TestABIConfig: config_get reads the manifest's [config] table: strings
// as they are, other TOML values as JSON; a reload brings the new table.
func TestABIConfig(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", `[config]
greeting = "hello world"
empty = ""
n = 42
neg = -7
pi = 1.5
on = true
list = [1, 2, 3]
words = ["a", "b"]
"dotted.key" = "d"
`)
	a := dialProbe(t, f, "/ws/probe")
	runSteps(t, a, idReplacer(a), []step{
		{"string", "config greeting", "= 11 hello world"},
		{"empty string", "config empty", "= 0"},
		{"integer", "config n", "= 2 42"},
		{"negative integer", "config neg", "= 2 -7"},
		{"float", "config pi", "= 3 1.5"},
		{"bool", "config on", "= 4 true"},
		{"array", "config list", "= 7 [1,2,3]"},
		{"array of strings", "config words", `= 9 ["a","b"]`},
		{"quoted key with a dot", "config dotted.key", "= 1 d"},
		{"missing", "config missing", "= -1"},
		{"empty key", "config -", "= -1"},
	})
	f.install(t, "probe", "probe.wasm", "[config]\ngreeting = \"hi\"\n")
	runSteps(t, a, idReplacer(a), []step{
		{"after a reload: new value", "config greeting", "= 2 hi"},
		{"after a reload: removed key", "config n", "= -1"},
	})
	f.install(t, "probe", "probe.wasm", "")
	a.expect("config greeting", "= -1")
}

// TestABIConfigTableValue: a [config] value that is a TOML table is, like
// every non-string value, read as JSON. (The manifest parser refuses the
// table's keys as unknown keys.)
func TestABIConfigTableValue(t *testing.T) {
	for _, tc := range []struct {
		name, manifest string
	}{
		{"inline table", "[config]\nsub = {x = \"y\"}\n"},
		{"sub-table", "[config]\n[config.sub]\nx = \"y\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, host.Config{})
			if err := f.plugins.Install(context.Background(), "probe", readTestdata(t, "probe.wasm"), []byte(tc.manifest)); err != nil {
				t.Fatalf("a [config] table value is refused: %v", err)
			}
			a := dialProbe(t, f, "/ws/probe")
			a.expect("config sub", `= 9 {"x":"y"}`)
			a.expect("config x", "= -1") // the table's key is not a top-level key
		})
	}
}

// logRecorder keeps every log record a fixture's logger receives.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

type recordHandler struct {
	r     *logRecorder
	attrs []slog.Attr
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordHandler) Handle(_ context.Context, rec slog.Record) error {
	m := make(map[string]string)
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	h.r.mu.Lock()
	h.r.recs = append(h.r.recs, logRecord{rec.Level, rec.Message, m})
	h.r.mu.Unlock()
	return nil
}

func (h recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recordHandler{h.r, append(slices.Clip(h.attrs), as...)}
}

func (h recordHandler) WithGroup(string) slog.Handler { return h }

// find returns the first record with message msg.
func (r *logRecorder) find(msg string) (logRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.msg == msg {
			return rec, true
		}
	}
	return logRecord{}, false
}

// newRecordingFixture is newFixture with a logger that records everything.
func newRecordingFixture(t testing.TB) (*fixture, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	logger := slog.New(recordHandler{r: rec})
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() })
	srv := hosttest.NewServer(t, host.Config{Logger: logger})
	p = plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: logger})
	return &fixture{Server: srv, plugins: p}, rec
}

// TestABILog: log returns, writes at the level given, tagged with the
// plugin, its version and the connection; on_message's non-zero result is
// counted and logged and changes nothing else.
func TestABILog(t *testing.T) {
	f, logs := newRecordingFixture(t)
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	for _, tc := range []struct {
		name  string
		level int
		text  string
		want  slog.Level
	}{
		{"debug", 0, "a debug line", slog.LevelDebug},
		{"info", 1, "an info line", slog.LevelInfo},
		{"warn", 2, "a warn line", slog.LevelWarn},
		{"error", 3, "an error line", slog.LevelError},
	} {
		a.expect("log "+strconv.Itoa(tc.level)+" "+tc.text, "= 0")
		rec, ok := logs.find(tc.text)
		if !ok {
			t.Errorf("%s: %q was not logged", tc.name, tc.text)
			continue
		}
		if rec.level != tc.want {
			t.Errorf("%s: logged at %v, want %v", tc.name, rec.level, tc.want)
		}
		if rec.attrs["plugin"] != "probe" || rec.attrs["conn"] != a.id || rec.attrs["version"] == "" {
			t.Errorf("%s: tagged %v, want plugin=probe, conn=%s and a version", tc.name, rec.attrs, a.id)
		}
	}
	// Levels outside 0..3 and empty lines don't break anything.
	a.expect("log 7 an odd level", "= 0")
	a.expect("log -1 a negative level", "= 0")
	a.expect("log 1 -", "= 0")
	if _, ok := logs.find("an odd level"); !ok {
		t.Error("a line at level 7 was not logged")
	}

	// Past the host-call budget a log is dropped, and the callback goes on.
	// With a budget of 1, event_read is the only call that counts: the log
	// is dropped and the reply refused, and on_message returns 1.
	f.install(t, "tight", "probe.wasm", "[limits]\nhost_calls = 1\n")
	tight := f.Dial(t, "/ws/tight")
	tight.Send("log 3 over the budget")
	hosttest.EventuallyEqual(t, "tight's handler errors", uint64(1), f.Endpoint("tight").HandlerErrors)
	if rec, ok := logs.find("over the budget"); ok {
		t.Errorf("a log past the budget was written: %+v", rec)
	}

	ep := f.Endpoint("probe")
	before := ep.HandlerErrors()
	a.Send("fail on purpose")
	a.expect("id", "= "+a.id) // no reply to fail; the connection goes on
	if got := ep.HandlerErrors() - before; got != 1 {
		t.Errorf("handler errors: +%d, want +1", got)
	}
	if rec, ok := logs.find("message handler: on purpose"); !ok || rec.level != slog.LevelError {
		t.Errorf("the SDK's error line: %+v, %v; want it at error level", rec, ok)
	}
	if got := stateString(f, "probe", "error:"+a.id); got != "" {
		t.Errorf("a handler error was reported with on_error: %q", got)
	}
}

// TestABINow: now is the Unix time in nanoseconds.
func TestABINow(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	var last int64
	for range 3 {
		before := time.Now()
		reply := a.Call("now")
		after := time.Now()
		ns, err := strconv.ParseInt(strings.TrimPrefix(reply, "= "), 10, 64)
		if err != nil {
			t.Fatalf("now: %q", reply)
		}
		got := time.Unix(0, ns)
		if got.Before(before.Add(-time.Second)) || got.After(after.Add(time.Second)) {
			t.Errorf("now = %v, want between %v and %v", got, before, after)
		}
		if ns < last {
			t.Errorf("now went back: %d after %d", ns, last)
		}
		last = ns
	}
}

// TestABIHostCallBudget: every host call counts; past the budget calls
// return ERR_LIMIT (the reply's send too) and the callback goes on; each
// callback gets a fresh budget.
func TestABIHostCallBudget(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "instances = 1\n[limits]\nhost_calls = 50\n")
	a := dialProbe(t, f, "/ws/probe")
	ep := f.Endpoint("probe")
	before := ep.HandlerErrors()
	for _, tc := range []struct {
		name, cmd string
		reply     bool // the reply's send was within budget
		last      string
	}{
		// event_read + N room_size + send
		{"well within", "hostcalls 10", true, "= 10 0"},
		{"the reply is the 50th call", "hostcalls 48", true, "= 48 0"},
		{"the reply is the 51st call", "hostcalls 49", false, "= 49 0"},
		{"past the budget", "hostcalls 60", false, "= 49 11"},
		{"far past the budget", "hostcalls 1000", false, "= 49 951"},
		{"a fresh budget", "hostcalls 48", true, "= 48 0"},
	} {
		a.Send(tc.cmd)
		if tc.reply {
			if got := a.ReadText(); got != tc.last {
				t.Errorf("%s: reply %q, want %q", tc.name, got, tc.last)
			}
		}
		// With one instance, lasthostcalls reads what that command counted;
		// its reply is the next message, so a refused reply left nothing.
		if got := a.Call("lasthostcalls"); got != tc.last {
			t.Errorf("%s: lasthostcalls %q, want %q", tc.name, got, tc.last)
		}
	}
	// The three commands whose reply was refused returned 1 from on_message.
	if got := ep.HandlerErrors() - before; got != 3 {
		t.Errorf("handler errors: +%d, want +3", got)
	}
	if got := stateString(f, "probe", "error:"+a.id); got != "" {
		t.Errorf("running out of budget was reported as an error: %q", got)
	}
}

// TestABIReloadKeepsHostState: a reload (a new manifest) keeps the
// connection open and its rooms, attributes and the plugin's state; a
// manifest identical to the serving one is no reload.
func TestABIReloadKeepsHostState(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "[config]\nv = \"1\"\n")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	ids := idReplacer(a, b)
	runSteps(t, a, ids, []step{
		{"config before", "config v", "= 1 1"},
		{"set state", "sset k kept", "= 0"},
		{"set a counter", "sadd n 5", "= 0 5"},
		{"set an attribute", "set {a} nick alice", "= 0"},
		{"join", "join {a} room", "= 0"},
		{"join b", "join {b} room", "= 0"},
	})
	version := func() uint64 {
		v, ok := f.plugins.Engine("probe").Current()
		if !ok {
			t.Fatal("no version serving")
		}
		return v.Number
	}
	v1 := version()
	f.install(t, "probe", "probe.wasm", "[config]\nv = \"2\"\n")
	if v2 := version(); v2 != v1+1 {
		t.Fatalf("version %d after the reload, want %d", v2, v1+1)
	}
	runSteps(t, a, ids, []step{
		{"the new version serves", "config v", "= 1 2"},
		{"state kept", "sget k", "= 4 kept"},
		{"counter kept", "sadd n 1", "= 0 6"},
		{"attribute kept", "info {a} attr.nick", "= 5 alice"},
		{"rooms kept", "rooms {a}", "= 5 room"},
		{"members kept", "members room", "= 2 " + sortedIDs(a, b)},
	})
	b.expect("id", "= "+b.id) // b's connection is open too
	f.install(t, "probe", "probe.wasm", "[config]\nv = \"2\"\n")
	if got := version(); got != v1+1 {
		t.Errorf("identical content reloaded: version %d, want %d", got, v1+1)
	}
}
