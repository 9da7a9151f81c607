package browsertest

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wshost/wshost/plugins/examples"
)

// TestChatOverTLS: served over https, the page talks wss:// to the socket
// beside it, under a path prefix too, and chats.
func TestChatOverTLS(t *testing.T) {
	chromiumPath(t) // fail at once without Chromium
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "chat.wasm"), examples.Chat())
	cfg, spki := selfSigned(t)
	srv := newChatServer(t, dir)
	srv.tls = cfg
	srv.start()
	srv.waitLoaded(1)

	// The browser trusts exactly this certificate's key.
	browser := newBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", spki))

	carol := openPage(t, browser, "carol", srv.url("/prefix/?nick=carol&room=secure"), true)
	carol.waitOnline()
	if url := eval[string](carol, `wshostChat.socketURL`); url != "wss://"+srv.addr+"/prefix/ws/chat?nick=carol&room=secure" {
		t.Errorf("socket URL = %q, want wss:// beside the page", url)
	}
	carol.waitText("current-room", "secure")
	carol.waitMembers("carol")
	carol.say("over wss")
	carol.waitLine("[secure] carol: over wss")

	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.tlsUpgrades != 1 || srv.plainUpgrades != 0 {
		t.Errorf("upgrades: %d over TLS, %d plain; want 1 and 0", srv.tlsUpgrades, srv.plainUpgrades)
	}
}
