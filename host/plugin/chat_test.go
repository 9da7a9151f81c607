package plugin_test

import (
	"context"
	"os"
	"testing"

	"github.com/wshost/wshost/host"
)

func installChat(t testing.TB, f *fixture) {
	t.Helper()
	wasm, err := os.ReadFile("../../plugins/examples/chat.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.plugins.Install(context.Background(), "chat", wasm, nil); err != nil {
		t.Fatal(err)
	}
}

func TestChatRooms(t *testing.T) {
	f := newFixture(t, host.Config{})
	installChat(t, f)
	alice := f.Dial(t, "/ws/chat?nick=alice")
	alice.Expect("* welcome alice! you are in #general. commands: /nick NAME, /join ROOM, /who")
	bob := f.Dial(t, "/ws/chat?nick=bob")
	bob.Expect("* welcome bob! you are in #general. commands: /nick NAME, /join ROOM, /who")
	alice.Expect("* bob joined #general")
	alice.Send("hi bob")
	alice.Expect("[general] alice: hi bob")
	bob.Expect("[general] alice: hi bob")
	bob.Send("/who")
	bob.Expect("* in #general: alice, bob")
}
