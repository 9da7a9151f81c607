package plugin_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wshost/wshost/host"
)

// dialProbeWith is dialProbe with request headers.
func dialProbeWith(t testing.TB, f *fixture, path string, header http.Header) *probeClient {
	t.Helper()
	c, resp, err := f.TryDial(path, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", path, err, status)
	}
	c.Bind(t)
	reply := c.Call("id")
	id, ok := strings.CutPrefix(reply, "= ")
	if !ok {
		t.Fatalf("id: got %q", reply)
	}
	return &probeClient{Client: c, t: t, id: id}
}

// lenValue is a probe reply "= LEN VALUE" for a present value.
func lenValue(v string) string {
	if v == "" {
		return "= 0"
	}
	return "= " + strconv.Itoa(len(v)) + " " + v
}

// TestABIConnInfo: every conn_info key, present, empty and absent, asked
// by the connection itself and by another one.
func TestABIConnInfo(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	header := http.Header{
		"X-Test":  {"v1", "v2"},
		"X-Empty": {""},
	}
	a := dialProbeWith(t, f, "/ws/probe?name=bob&name=alice&x=&sp=a%20b&uni=%C3%A9", header)
	b := dialProbe(t, f, "/ws/probe")
	remote := a.UnderlyingConn().LocalAddr().String()
	for _, asker := range []*probeClient{a, b} {
		runSteps(t, asker, idReplacer(a, b), []step{
			{"id", "info {a} id", lenValue(a.id)},
			{"remote_addr", "info {a} remote_addr", lenValue(remote)},
			{"path", "info {a} path", lenValue("/ws/probe")},
			{"query: first value", "info {a} query.name", "= 3 bob"},
			{"query: present but empty", "info {a} query.x", "= 0"},
			{"query: decoded", "info {a} query.sp", "= 3 a b"},
			{"query: decoded UTF-8", "info {a} query.uni", "= 2 é"},
			{"query: absent", "info {a} query.missing", "= -1"},
			{"query: case matters", "info {a} query.NAME", "= -1"},
			{"query: empty name", "info {a} query.", "= -1"},
			{"header: first value", "info {a} header.X-Test", "= 2 v1"},
			{"header: lower case", "info {a} header.x-test", "= 2 v1"},
			{"header: upper case", "info {a} header.X-TEST", "= 2 v1"},
			{"header: present but empty", "info {a} header.x-empty", "= 0"},
			{"header: standard", "info {a} header.sec-websocket-version", "= 2 13"},
			{"header: absent", "info {a} header.X-Missing", "= -1"},
			{"subprotocol: none negotiated", "info {a} subprotocol", "= 0"},
			{"attr: not set", "info {a} attr.nick", "= -1"},
			{"unknown key", "info {a} bogus", "= -1"},
			{"empty key", "info {a} -", "= -1"},
			{"unknown prefix", "info {a} cookie.x", "= -1"},
			{"unknown connection", "info {unknown} id", "= -1"},
			{"the other connection's path", "info {b} path", lenValue("/ws/probe")},
			{"the other connection's query", "info {b} query.name", "= -1"},
		})
	}
}

// TestABIConnInfoSubprotocol: the subprotocol key is the one negotiated.
func TestABIConnInfoSubprotocol(t *testing.T) {
	f := newFixture(t, host.Config{Subprotocols: []string{"chat.v2", "chat.v1"}})
	f.install(t, "probe", "probe.wasm", "")
	for _, tc := range []struct {
		name, offered, want string
	}{
		{"one offered", "chat.v1", "chat.v1"},
		{"the one in common", "other, chat.v2", "chat.v2"},
		{"none in common", "other", ""},
	} {
		c := dialProbeWith(t, f, "/ws/probe", http.Header{"Sec-Websocket-Protocol": {tc.offered}})
		if got := c.Subprotocol(); got != tc.want {
			t.Errorf("%s: handshake chose %q, want %q", tc.name, got, tc.want)
		}
		if got := c.Call("info " + c.id + " subprotocol"); got != lenValue(tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, lenValue(tc.want))
		}
	}
}

// TestABIConnInfoBuffer: a buffer too small gets what fits, the result is
// the full size, nothing is written past the buffer, and an absent key
// writes nothing.
func TestABIConnInfoBuffer(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe?q=%C3%A9t%C3%A9")
	ids := idReplacer(a)
	runSteps(t, a, ids, []step{
		{"no buffer", "infobuf {a} path 0", "= 9 ####"},
		{"1 byte", "infobuf {a} path 1", "= 9 /####"},
		{"3 bytes", "infobuf {a} path 3", "= 9 /ws####"},
		{"one short", "infobuf {a} path 8", "= 9 /ws/prob####"},
		{"exact", "infobuf {a} path 9", "= 9 /ws/probe####"},
		{"larger", "infobuf {a} path 12", "= 9 /ws/probe#######"},
		{"id, exact", "infobuf {a} id " + strconv.Itoa(len(a.id)), "= " + strconv.Itoa(len(a.id)) + " " + a.id + "####"},
		{"absent key writes nothing", "infobuf {a} bogus 4", "= -1 ########"},
		{"unknown connection writes nothing", "infobuf {unknown} id 4", "= -1 ########"},
		// "été" is 5 bytes: a 2-byte buffer holds "é", 5 the whole value.
		{"UTF-8, whole", "infobuf {a} query.q 5", "= 5 été####"},
		{"UTF-8, first character", "infobuf {a} query.q 2", "= 5 é####"},
	})
	// Empty but present, written into an empty and a larger buffer.
	b := dialProbe(t, f, "/ws/probe?e=")
	runSteps(t, b, idReplacer(b), []step{
		{"empty value, no buffer", "infobuf {a} query.e 0", "= 0 ####"},
		{"empty value, buffer", "infobuf {a} query.e 4", "= 0 ########"},
	})
}

// TestABIConnSet: conn_set sets, overwrites and removes attributes that
// conn_info reads back as attr.NAME, from any connection.
func TestABIConnSet(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	ids := idReplacer(a, b)
	runSteps(t, a, ids, []step{
		{"not set", "info {a} attr.nick", "= -1"},
		{"set", "set {a} nick alice", "= 0"},
		{"read", "info {a} attr.nick", "= 5 alice"},
		{"overwrite", "set {a} nick alice two", "= 0"},
		{"read the new value", "info {a} attr.nick", "= 9 alice two"},
		{"set on another connection", "set {b} nick bob", "= 0"},
		{"attributes are per connection", "info {b} attr.nick", "= 3 bob"},
		{"a's unchanged", "info {a} attr.nick", "= 9 alice two"},
		{"a second key", "set {a} room lobby", "= 0"},
		{"second key", "info {a} attr.room", "= 5 lobby"},
		{"remove with an empty value", "set {a} nick -", "= 0"},
		{"removed", "info {a} attr.nick", "= -1"},
		{"the other key stays", "info {a} attr.room", "= 5 lobby"},
		{"remove again", "set {a} nick -", "= 0"},
		{"a key with a dot", "set {a} x.y z", "= 0"},
		{"read a key with a dot", "info {a} attr.x.y", "= 1 z"},
		{"attr keys do not shadow others", "info {a} id", lenValue(a.id)},
		{"unknown connection", "set {unknown} nick x", "= -1"},
	})
	// Another connection (maybe in another instance) sees a's attributes.
	runSteps(t, b, ids, []step{
		{"seen by b", "info {a} attr.room", "= 5 lobby"},
		{"set by b on a", "set {a} by b", "= 0"},
	})
	a.expect("info "+a.id+" attr.by", "= 1 b")
	// The host's view agrees.
	aid, _ := strconv.ParseUint(a.id, 10, 64)
	if v, err := f.Endpoint("probe").ConnInfo(host.ConnID(aid), "attr.room"); err != nil || v != "lobby" {
		t.Errorf("host: attr.room = %q, %v; want lobby", v, err)
	}
}
