package browsertest

import (
	"path/filepath"
	"testing"

	"github.com/wshost/wshost/plugins/examples"
)

// TestChatInBrowser: two people chat through the embedded page in headless
// Chromium — one at "/", one under a path prefix as behind a reverse proxy —
// while the plugin is hot-reloaded (nobody reconnects) and the server is
// restarted (both pages reconnect by themselves, send what was typed while
// the server was down, and chat again).
func TestChatInBrowser(t *testing.T) {
	browser := newBrowser(t) // first: without Chromium the test fails at once

	dir := t.TempDir()
	wasmPath := filepath.Join(dir, "chat.wasm")
	chat := examples.Chat()
	v2 := withCustomSection(chat, "build", "2")
	writeAtomic(t, wasmPath, chat)
	compiledV2 := precompile(t, v2)

	srv := newChatServer(t, dir)
	srv.start()
	srv.waitLoaded(1)

	// Alice opens the page at / and picks her nick and room with the forms.
	alice := openPage(t, browser, "alice", srv.url("/"), true)
	alice.waitOnline()
	alice.waitFor("a guest nick", `/^guest-\d+$/.test(document.querySelector('[data-testid=current-nick]').textContent)`)
	alice.waitText("current-room", "general")
	alice.setField("nick-input", "nick-submit", "alice")
	alice.waitText("current-nick", "alice")
	alice.setField("room-input", "room-submit", "lobby")
	alice.waitText("current-room", "lobby")
	alice.waitMembers("alice")

	// Bob opens it under /prefix/ with his nick and room in the address, in
	// a separate browser profile.
	bob := openPage(t, browser, "bob", srv.url("/prefix/?nick=bob&room=lobby"), false)
	bob.waitOnline()
	bob.waitText("current-nick", "bob")
	bob.waitText("current-room", "lobby")
	if url := eval[string](bob, `wshostChat.socketURL`); url != "ws://"+srv.addr+"/prefix/ws/chat?nick=bob&room=lobby" {
		t.Errorf("bob's socket URL = %q, want the one beside the page, under /prefix/", url)
	}
	alice.waitLine("* bob joined #lobby")
	alice.waitMembers("alice", "bob")
	bob.waitMembers("alice", "bob")

	// They talk.
	alice.say("hello from alice")
	bob.waitLine("[lobby] alice: hello from alice")
	alice.waitLine("[lobby] alice: hello from alice")
	bob.say("hi alice, bob here")
	alice.waitLine("[lobby] bob: hi alice, bob here")
	bob.waitLine("[lobby] bob: hi alice, bob here")

	if n := srv.handshakes.Load(); n != 2 {
		t.Fatalf("%d WebSocket handshakes before the reload, want 2 (one per page)", n)
	}

	// Hot reload: a new build of the plugin lands in the directory while
	// both pages are open.
	compiledV2()
	writeAtomic(t, wasmPath, v2)
	srv.waitLoaded(2)
	alice.say("after the reload")
	bob.waitLine("[lobby] alice: after the reload")
	bob.say("still here")
	alice.waitLine("[lobby] bob: still here")

	// Nobody reconnected: the server saw no new handshake, and each page
	// opened exactly one connection and never left "online".
	if n := srv.handshakes.Load(); n != 2 {
		t.Errorf("%d WebSocket handshakes after the reload, want still 2", n)
	}
	for _, p := range []*page{alice, bob} {
		if n := eval[int](p, `wshostChat.connections`); n != 1 {
			t.Errorf("%s's page opened %d connections across the reload, want 1\n%s", p.name, n, p.dump())
		}
		if states := eval[[]string](p, `wshostChat.states`); len(states) != 2 || states[0] != "connecting" || states[1] != "online" {
			t.Errorf("%s's page went through states %v, want [connecting online]", p.name, states)
		}
	}

	// The server restarts on the same address. Both pages notice (close
	// 1001), show it, and reconnect by themselves into the same room with
	// the same nick.
	srv.stop()
	for _, p := range []*page{alice, bob} {
		p.waitFor("the page to notice the shutdown",
			`document.querySelector('[data-testid=status]').dataset.state !== 'online'`)
		p.waitLine("disconnected (code 1001: server shutting down)")
	}
	// While it is down, the page counts down to its next attempt and
	// queues what bob types.
	bob.waitFor("a reconnect countdown",
		`/^reconnecting in \d+s$/.test(document.querySelector('[data-testid=status-text]').textContent)`)
	bob.say("typed while the server was down")
	bob.waitFor("the queued-message notice",
		`!document.querySelector('[data-testid=queued]').hidden && wshostChat.queued.length === 1`)
	before := srv.handshakes.Load()
	srv.start()
	for _, p := range []*page{alice, bob} {
		p.waitOnline()
		if n := eval[int](p, `wshostChat.connections`); n != 2 {
			t.Errorf("%s's page opened %d connections, want 2 after the restart", p.name, n)
		}
	}
	if n := srv.handshakes.Load() - before; n < 2 {
		t.Errorf("%d handshakes after the restart, want at least 2", n)
	}
	bob.waitLine("[lobby] bob: typed while the server was down")
	bob.waitFor("the queue to empty",
		`document.querySelector('[data-testid=queued]').hidden && wshostChat.queued.length === 0`)
	alice.waitMembers("alice", "bob")
	bob.waitMembers("alice", "bob")
	bob.waitText("current-nick", "bob")
	alice.waitText("current-nick", "alice")
	alice.say("welcome back, bob")
	bob.waitLine("[lobby] alice: welcome back, bob")
	bob.say("thanks! /who says we are both here")
	alice.waitLine("[lobby] bob: thanks! /who says we are both here")

	alice.screenshot("chat-alice.png")
	bob.screenshot("chat-bob.png")
}
