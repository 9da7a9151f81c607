// The cross-language suite: one scenario, every language's plugins.
//
// Every language (Go, C, C++, Rust, AssemblyScript, WAT) has a chat plugin
// under examples/ and a conformance plugin under conformance/ (README.md
// there is its protocol). `make plugins` builds them all from source; this
// test runs the same conformance scenario and the same chat scenario against
// each, through real sockets, so a language whose plugin (or SDK) behaves
// differently fails. WSHOST_LANGS=c,rust limits it to some languages.
package plugins_test

import (
	"context"

	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tetratelabs/wazero"
	"go.uber.org/goleak"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/plugins/examples/nativechat"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// language names a language's two plugins, relative to this directory.
type language struct {
	name, chat, conformance string
}

func languages(t testing.TB) []language {
	all := []language{
		{"go", "examples/chat.wasm", "../host/plugin/testdata/probe.wasm"},
		{"c", "examples/chat-c/chat.wasm", "conformance/c/conformance.wasm"},
		{"cpp", "examples/chat-cpp/chat.wasm", "conformance/cpp/conformance.wasm"},
		{"rust", "examples/chat-rust/chat.wasm", "conformance/rust/conformance.wasm"},
		{"as", "examples/chat-as/chat.wasm", "conformance/as/conformance.wasm"},
		{"wat", "examples/chat-wat/chat.wasm", "conformance/wat/conformance.wasm"},
	}
	only := os.Getenv("WSHOST_LANGS")
	if only == "" {
		return all
	}
	var some []language
	for _, l := range all {
		for _, name := range strings.Split(only, ",") {
			if strings.TrimSpace(name) == l.name {
				some = append(some, l)
			}
		}
	}
	if len(some) == 0 {
		t.Fatalf("WSHOST_LANGS=%q names no language", only)
	}
	return some
}

func readPlugin(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: build every language's plugins first with `make plugins`", err)
	}
	return b
}

// suite is one server with every selected language's plugins installed.
type suite struct {
	*hosttest.Server
	plugins *plugin.Plugins
	langs   []language
}

const conformanceManifest = `
[limits]
call_timeout = "100ms"

[config]
greeting = "hello"
`

func newSuite(t testing.TB) *suite {
	t.Helper()
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() })
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("WSHOST_TEST_LOG") != "" {
		log = slog.Default()
	}
	srv := hosttest.NewServer(t, host.Config{Logger: log})
	cache := wazero.NewCompilationCache()
	t.Cleanup(func() { cache.Close(context.Background()) })
	p = plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: log})
	s := &suite{Server: srv, plugins: p, langs: languages(t)}
	if _, err := srv.Mount("chat-native", nativechat.Handler{}, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, l := range s.langs {
		if err := p.Install(context.Background(), "chat-"+l.name, readPlugin(t, l.chat), nil); err != nil {
			t.Fatalf("%s chat: %v", l.name, err)
		}
		if err := p.Install(context.Background(), "conf-"+l.name, readPlugin(t, l.conformance), []byte(conformanceManifest)); err != nil {
			t.Fatalf("%s conformance: %v", l.name, err)
		}
	}
	return s
}

func TestCrossLanguage(t *testing.T) {
	s := newSuite(t)
	for _, l := range s.langs {
		t.Run(l.name+"/conformance", func(t *testing.T) { conformanceScenario(t, s, "conf-"+l.name) })
		t.Run(l.name+"/chat", func(t *testing.T) { chatScenario(t, s, "chat-"+l.name) })
	}
	// The same chat as a native Go handler: the baseline the plugins match.
	t.Run("native/chat", func(t *testing.T) { chatScenario(t, s, "chat-native") })
}

// conformanceScenario calls every host function and checks every error code
// through the conformance protocol (conformance/README.md).
func conformanceScenario(t *testing.T, s *suite, name string) {
	path := "/ws/" + name
	a := s.Dial(t, path+"?open=join:lobby")
	b := s.Dial(t, path)
	ida := strings.TrimPrefix(a.Call("id"), "= ")
	idb := strings.TrimPrefix(b.Call("id"), "= ")
	if na, err1 := strconv.ParseUint(ida, 10, 64); err1 != nil || na == 0 {
		t.Fatalf("id: %q", ida)
	} else if nb, err2 := strconv.ParseUint(idb, 10, 64); err2 != nil || nb <= na {
		t.Fatalf("ids %q then %q: want increasing", ida, idb)
	}
	r := strings.NewReplacer("{a}", ida, "{b}", idb, "{path}", path, "{pathlen}", strconv.Itoa(len(path)),
		"{idlen}", strconv.Itoa(len(ida)), "{x124}", strings.Repeat("x", 124))
	call := func(c *hosttest.Client, cmd, want string) {
		t.Helper()
		if got := c.Call(r.Replace(cmd)); got != r.Replace(want) {
			t.Errorf("%s: %q → %q, want %q", name, r.Replace(cmd), got, r.Replace(want))
		}
	}

	call(a, "echo hello  world", "hello  world")
	if err := a.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2, 255}); err != nil {
		t.Fatal(err)
	}
	if typ, msg := a.Read(); typ != websocket.BinaryMessage || string(msg) != "\x00\x01\x02\xff" {
		t.Errorf("binary echo: %d %q", typ, msg)
	}
	call(a, "nonsense", "= ?")

	// send
	call(a, "send {b} hi there", "= 0")
	b.Expect("hi there")
	call(a, "sendbin {b} raw", "= 0")
	if typ, msg := b.Read(); typ != websocket.BinaryMessage || string(msg) != "raw" {
		t.Errorf("sendbin: %d %q", typ, msg)
	}
	call(a, "sendflags {b} 1 flagged", "= 0")
	b.Read()
	call(a, "sendflags {b} 2 x", "= -2")
	call(a, "send 999999999999 x", "= -1")

	// rooms
	call(a, "join {b} lobby", "= 0")
	call(a, "join {b} lobby", "= 0")
	call(a, "size lobby", "= 2")
	call(a, "size nowhere", "= 0")
	call(a, "members lobby", "= 2 {a},{b}")
	call(a, "members nowhere", "= 0")
	call(a, "rooms {b}", "= 6 lobby")
	call(a, "join {b} annex", "= 0")
	call(a, "rooms {b}", "= 12 annex,lobby")
	call(a, "broadcast lobby {a} to b", "= 1")
	b.Expect("to b")
	a.Send("broadcast lobby 0 to all")
	a.Expect("to all")
	a.Expect("= 2")
	b.Expect("to all")
	call(a, "broadcast nowhere 0 x", "= 0")
	call(a, "leave {b} annex", "= 0")
	call(a, "leave {b} annex", "= -1")
	call(a, "size annex", "= 0")
	call(a, "leave {b} lobby", "= 0")
	call(a, "rooms {b}", "= 0")

	// conn_info, conn_set
	call(a, "info {a} id", "= {idlen} {a}")
	call(a, "info {a} path", "= {pathlen} {path}")
	call(a, "info {a} query.open", "= 10 join:lobby")
	call(a, "info {a} query.missing", "= -1")
	call(a, "info {a} header.sec-websocket-version", "= 2 13")
	call(a, "info {a} nokey", "= -1")
	call(a, "info 999999999999 id", "= -1")
	call(a, "infobuf {a} query.open 4", "= 10 join####")
	call(a, "infobuf {a} query.open 12", "= 10 join:lobby######")
	call(a, "set {b} colour blue", "= 0")
	call(a, "info {b} attr.colour", "= 4 blue")
	call(a, "set {b} colour -", "= 0")
	call(a, "info {b} attr.colour", "= -1")

	// state
	call(a, "sset k value one", "= 0")
	call(a, "sget k", "= 9 value one")
	call(a, "sset empty -", "= 0")
	call(a, "sget empty", "= 0")
	call(a, "sdel k", "= 0")
	call(a, "sdel k", "= -1")
	call(a, "sget k", "= -1")
	call(a, "sadd n 5", "= 0 5")
	call(a, "sadd n -7", "= 0 -2")
	call(a, "sget n", "= 8 hex:feffffffffffffff")
	call(a, "sset s abc", "= 0")
	call(a, "sadd s 1", "= -2")

	// config, log, now, budget, bad pointers
	call(a, "config greeting", "= 5 hello")
	call(a, "config nope", "= -1")
	call(a, "log 1 hello from the conformance plugin", "= 0")
	got := a.Call("now")
	ns, err := strconv.ParseInt(strings.TrimPrefix(got, "= "), 10, 64)
	if err != nil || time.Since(time.Unix(0, ns)).Abs() > time.Minute {
		t.Errorf("now: %q, want about %d", got, time.Now().UnixNano())
	}
	call(a, "hostcalls 100", "= 100 0")
	call(a, "badptr", "= -2 -2 -2 -2 -2")

	// close
	call(a, "close {b} 999 x", "= -2")
	call(a, "close {b} 1001 x", "= -2")
	call(a, "close {b} 4000 {x124}", "= -3")
	call(a, "close 999999999999 4000 x", "= -1")
	call(a, "close {b} 4001 done", "= 0")
	call(a, "close {b} 4001 again", "= -4")
	b.ExpectClose(4001)
	var last string
	hosttest.Eventually(t, "on_close of b", func() bool {
		last = a.Call(r.Replace("sget close:{b}"))
		return last == "= 10 4001 done|"
	})

	// on_open
	for _, tc := range []struct {
		query  string
		status int
	}{{"reject", 403}, {"trap", 500}, {"joinreject:ghost", 403}} {
		if _, resp, err := s.TryDial(path+"?open="+tc.query, nil); err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Errorf("open=%s: %v %v, want HTTP %d", tc.query, resp, err, tc.status)
		}
	}
	call(a, "size ghost", "= 0")
	c := s.Dial(t, path+"?open=send:first")
	c.Expect("first")
	d := s.Dial(t, path+"?open=close")
	d.ExpectClose(4000)

	// faults: on_error kind 3, the connection stays open
	idc := strings.TrimPrefix(c.Call("id"), "= ")
	c.Send("trap")
	hosttest.Eventually(t, "on_error after a trap", func() bool {
		return strings.HasPrefix(a.Call("sget error:"+idc), "= ") && strings.Contains(a.Call("sget error:"+idc), " 3 trap:")
	})
	c.Send("loop")
	hosttest.Eventually(t, "on_error after the deadline", func() bool {
		return strings.Contains(a.Call("sget error:"+idc), " 3 deadline:")
	})
	call(c, "echo still here", "still here")
}

// chatScenario is the chat's documented behaviour (examples/chat/README.md).
func chatScenario(t *testing.T, s *suite, name string) {
	path := "/ws/" + name
	alice := s.Dial(t, path+"?nick=alice")
	alice.Expect("* welcome alice! you are in #general. commands: /nick NAME, /join ROOM, /who")
	bob := s.Dial(t, path+"?nick=bob&room=general")
	bob.Expect("* welcome bob! you are in #general. commands: /nick NAME, /join ROOM, /who")
	alice.Expect("* bob joined #general")

	alice.Send("  hello bob \t")
	alice.Expect("[general] alice: hello bob")
	bob.Expect("[general] alice: hello bob")
	alice.Send(" \r\n")
	bob.Send("/who")
	bob.Expect("* in #general: alice, bob")

	bob.Send("/nick b0b")
	alice.Expect("* bob is now known as b0b")
	bob.Expect("* bob is now known as b0b")
	bob.Send("/nick not valid!")
	bob.Expect("! invalid nick: use 1-32 letters, digits, _ or -")
	bob.Send("/nick " + strings.Repeat("n", 33))
	bob.Expect("! invalid nick: use 1-32 letters, digits, _ or -")
	bob.Send("/nick")
	bob.Expect("! invalid nick: use 1-32 letters, digits, _ or -")

	alice.Send("/join lounge")
	bob.Expect("* alice left #general")
	alice.Expect("* alice joined #lounge")
	alice.Send("/join lounge")
	alice.Expect("! you are already in #lounge")
	alice.Send("/join bad/room")
	alice.Expect("! invalid room: use 1-64 letters, digits, _ or -")
	alice.Send("/dance now")
	alice.Expect("! unknown command: /dance")
	alice.Send("/WHO")
	alice.Expect("! unknown command: /WHO")
	if err := alice.WriteMessage(websocket.BinaryMessage, []byte{1}); err != nil {
		t.Fatal(err)
	}
	alice.Expect("! binary messages are not supported")
	alice.Send("héllo — ünïcode ✓")
	alice.Expect("[lounge] alice: héllo — ünïcode ✓")

	carol := s.Dial(t, path+"?nick=a%20b&room=lounge")
	welcome := carol.ReadText()
	var id uint64
	if _, err := fmt.Sscanf(welcome, "* welcome guest-%d!", &id); err != nil {
		t.Fatalf("an invalid nick gets a guest nick: %q", welcome)
	}
	if want := fmt.Sprintf("* welcome guest-%d! you are in #lounge. commands: /nick NAME, /join ROOM, /who", id); welcome != want {
		t.Fatalf("welcome %q, want %q", welcome, want)
	}
	alice.Expect(fmt.Sprintf("* guest-%d joined #lounge", id))
	carol.Send("/who")
	carol.Expect(fmt.Sprintf("* in #lounge: alice, guest-%d", id))
	dave := s.Dial(t, path+"?nick=Zed&room=bad%20room")
	dave.Expect("* welcome Zed! you are in #general. commands: /nick NAME, /join ROOM, /who")
	bob.Expect("* Zed joined #general")
	bob.Send("/who")
	bob.Expect("* in #general: Zed, b0b")

	carol.Close()
	alice.Expect(fmt.Sprintf("* guest-%d left #lounge", id))
	dave.Close()
	bob.Expect("* Zed left #general")
	bob.Send("bye")
	bob.Expect("[general] b0b: bye")
}
