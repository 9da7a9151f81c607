package examples_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/tetratelabs/wazero"
	"go.uber.org/goleak"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/plugins/examples"
	"github.com/wshost/wshost/plugins/examples/nativechat"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// chatServers serves the Wasm chat (the embedded chat.wasm) and the native
// chat side by side, so one scenario can run against both.
func chatServers(t *testing.T) *hosttest.Server {
	t.Helper()
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() })
	srv := hosttest.NewServer(t, host.Config{})
	cache := wazero.NewCompilationCache()
	t.Cleanup(func() { cache.Close(context.Background()) })
	p = plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache})
	if err := p.Install(context.Background(), "chat", examples.Chat(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Mount("native", nativechat.Handler{}, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestChatBehaviour runs the chat's documented behaviour (chat/README.md)
// against the Wasm plugin and the native handler: both must answer the
// same bytes.
func TestChatBehaviour(t *testing.T) {
	srv := chatServers(t)
	for _, name := range []string{"chat", "native"} {
		t.Run(name, func(t *testing.T) {
			path := "/ws/" + name
			alice := srv.Dial(t, path+"?nick=alice")
			alice.Expect("* welcome alice! you are in #general. commands: /nick NAME, /join ROOM, /who")
			bob := srv.Dial(t, path+"?nick=bob&room=general")
			bob.Expect("* welcome bob! you are in #general. commands: /nick NAME, /join ROOM, /who")
			alice.Expect("* bob joined #general")

			alice.Send("  hello bob \t")
			alice.Expect("[general] alice: hello bob")
			bob.Expect("[general] alice: hello bob")

			bob.Send("/who")
			bob.Expect("* in #general: alice, bob")

			bob.Send("/nick b0b")
			alice.Expect("* bob is now known as b0b")
			bob.Expect("* bob is now known as b0b")
			bob.Send("/nick not valid!")
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
			if err := alice.WriteMessage(websocket.BinaryMessage, []byte{1}); err != nil {
				t.Fatal(err)
			}
			alice.Expect("! binary messages are not supported")

			carol := srv.Dial(t, path+"?nick=a%20b&room=lounge")
			welcome := carol.ReadText()
			var id uint64
			if _, err := fmt.Sscanf(welcome, "* welcome guest-%d!", &id); err != nil {
				t.Fatalf("an invalid nick gets a guest nick: %q", welcome)
			}
			alice.Expect(fmt.Sprintf("* guest-%d joined #lounge", id))
			carol.Send("/who")
			carol.Expect(fmt.Sprintf("* in #lounge: alice, guest-%d", id))

			carol.Close()
			alice.Expect(fmt.Sprintf("* guest-%d left #lounge", id))
			bob.Send("bye")
			bob.Expect("[general] b0b: bye")
		})
	}
}
