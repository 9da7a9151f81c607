package browsertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tetratelabs/wazero"
	"go.uber.org/goleak"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/host/webui"
	"github.com/wshost/wshost/internal/pluginfile"
)

// TestMain checks that no goroutine outlives the tests: every browser,
// server and plugin set is closed at cleanup.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cache is shared by every server of the tests, as `wshost --cache-dir`
// shares one across restarts: each module compiles once (seconds under
// -race).
var cache = wazero.NewCompilationCache()

// precompile compiles wasm into the shared cache in the background, the way
// the plugin engine does; wait blocks until it is done. A test calls it early
// for a module it will load later, so the compile overlaps the browser work.
func precompile(t *testing.T, wasm []byte) (wait func()) {
	done := make(chan error, 1)
	go func() {
		srv := host.New(host.Config{Logger: testLogger()})
		p := plugin.NewPlugins(srv, plugin.Options{Cache: cache, Logger: testLogger()})
		done <- p.Install(context.Background(), "warmup", wasm, nil)
		p.Close()
	}()
	var once sync.Once
	wait = func() {
		once.Do(func() {
			if err := <-done; err != nil {
				t.Errorf("precompile: %v", err)
			}
		})
	}
	t.Cleanup(wait)
	return wait
}

// waitTimeout bounds every wait for the browser or the server.
const waitTimeout = 15 * time.Second

func testLogger() *slog.Logger {
	if os.Getenv("WSHOST_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// ---- the browser ----

// chromiumPath is the browser binary: $WSHOST_CHROMIUM, else Debian's.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := os.Getenv("WSHOST_CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("the browser tests need Chromium at %s (%v): run `make deps` (or `apt-get install chromium`), "+
			"or set WSHOST_CHROMIUM to a Chromium or Chrome binary", bin, err)
	}
	return bin
}

// newBrowser starts a headless Chromium with a fresh profile and returns the
// context of its first tab. It is closed at cleanup, and its goroutines end.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin := chromiumPath(t)
	profile := t.TempDir() // removed after the browser is gone (cleanups run in reverse)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // tests often run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Both tabs must keep running their timers at full speed.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 720),
	)
	opts = append(opts, extra...)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing the browser: %v", err)
		}
		cancel()
		allocCancel()
	})
	// Start the browser now, so a missing library or a crash is reported
	// here. (The first Run must not have a deadline: it would stop the
	// browser.)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return ctx
}

// page is one browser tab showing the chat page.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// openPage opens url in the browser's first tab (first) or in a new tab of
// a new browser context (an incognito-like profile: separate storage).
func openPage(t *testing.T, browser context.Context, name, url string, first bool) *page {
	t.Helper()
	ctx := browser
	if !first {
		var cancel context.CancelFunc
		ctx, cancel = chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		// The first Run opens the tab, which lives as long as that Run's
		// context: it must be ctx itself, not one with a deadline.
		if err := chromedp.Do(ctx); err != nil {
			t.Fatalf("%s: opening a tab: %v", name, err)
		}
	}
	p := &page{t: t, name: name, ctx: ctx}
	p.do("open "+url, chromedp.Navigate(url))
	return p
}

// do runs actions with a deadline and fails the test with the page's state.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v\n%s", p.name, what, err, p.dump())
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v\n%s", p.name, expr, err, p.dump())
	}
	return v
}

// waitFor polls a JavaScript predicate in the page until it holds.
func (p *page) waitFor(what, predicate string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		p.t.Fatalf("%s: waiting for %s: %v\n%s", p.name, what, err, p.dump())
	}
}

// dump describes the page for a failure message.
func (p *page) dump() string {
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		url: location.href,
		status: document.querySelector('[data-testid=status]')?.dataset.state,
		chat: window.wshostChat && {nick: wshostChat.nick, room: wshostChat.room, members: wshostChat.members,
			connections: wshostChat.connections, states: wshostChat.states},
		log: [...document.querySelectorAll('[data-testid=log] .line')].map((l) => l.dataset.raw),
	}, null, 1)`))
	if err != nil {
		return fmt.Sprintf("(page state unavailable: %v)", err)
	}
	return p.name + " page: " + s
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string { return strconv.Quote(s) }

func (p *page) waitOnline() {
	p.t.Helper()
	p.waitFor("the connection to be online",
		`document.querySelector('[data-testid=status]').dataset.state === 'online'`)
}

func (p *page) waitText(testid, want string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%s to read %q", testid, want),
		fmt.Sprintf(`document.querySelector('[data-testid=%s]').textContent === %s`, testid, jsString(want)))
}

// waitMembers waits until the member list shows exactly nicks (sorted).
func (p *page) waitMembers(nicks ...string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("members %v", nicks),
		fmt.Sprintf(`[...document.querySelectorAll('[data-testid=member-list] li')].map((li) => li.dataset.nick).join(',') === %s`,
			jsString(strings.Join(nicks, ","))))
}

// waitLine waits until the log holds the server line raw.
func (p *page) waitLine(raw string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("the line %q", raw),
		fmt.Sprintf(`[...document.querySelectorAll('[data-testid=log] .line')].some((l) => l.dataset.raw === %s)`, jsString(raw)))
}

// say types text into the message box and presses Enter, like a user.
func (p *page) say(text string) {
	p.t.Helper()
	p.do("say "+text,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=message-input]`), text+"\r"),
	)
}

// setField replaces a form field's value and clicks its button.
func (p *page) setField(input, button, value string) {
	p.t.Helper()
	p.do("set "+input,
		chromedp.SetValue(chromedp.CSS(`[data-testid=`+input+`]`), value),
		chromedp.Click(chromedp.CSS(`[data-testid=`+button+`]`)),
	)
}

// screenshot saves a PNG of the page in the artefacts directory.
func (p *page) screenshot(name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	dir := artifactsDir(p.t)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot of %s's page: %s", p.name, path)
	return path
}

// artifactsDir is $WSHOST_ARTIFACTS, else artifacts/ at the repository root
// (gitignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WSHOST_ARTIFACTS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		root := wd
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				root = wd
				break
			}
			root = parent
		}
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// ---- the server ----

// chatServer is wshost serving the chat page at / (and under /prefix/, as a
// reverse proxy would) and the plugins of a watched directory, on a fixed
// 127.0.0.1 address so it can be stopped and started again.
type chatServer struct {
	t    *testing.T
	dir  string
	addr string
	tls  *tls.Config // nil: plain HTTP

	handshakes atomic.Int64 // WebSocket upgrade requests, over all runs

	mu     sync.Mutex
	events []plugin.LoadEvent
	// tls records whether each upgrade request came over TLS.
	tlsUpgrades, plainUpgrades int

	stop func() // nil when not running
}

func newChatServer(t *testing.T, dir string) *chatServer {
	s := &chatServer{t: t, dir: dir, addr: "127.0.0.1:0"}
	t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
	})
	return s
}

// handler wraps the host: it counts WebSocket handshakes and serves
// everything under /prefix/ too, with the prefix stripped.
func (s *chatServer) handler(srv *host.Server) http.Handler {
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			s.handshakes.Add(1)
			s.mu.Lock()
			if r.TLS != nil {
				s.tlsUpgrades++
			} else {
				s.plainUpgrades++
			}
			s.mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/", counted)
	mux.Handle("/prefix/", http.StripPrefix("/prefix", counted))
	return mux
}

// start serves on s.addr (a random port the first time, the same one after)
// once the plugins directory is loaded.
func (s *chatServer) start() {
	t := s.t
	t.Helper()
	if s.stop != nil {
		t.Fatal("server already running")
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", s.addr, err)
	}
	s.addr = ln.Addr().String()
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	log := testLogger()
	srv := host.New(host.Config{Logger: log, Pages: webui.Handler()})
	plugins := plugin.NewPlugins(srv, plugin.Options{Cache: cache, Logger: log, OnLoad: func(ev plugin.LoadEvent) {
		s.mu.Lock()
		s.events = append(s.events, ev)
		s.mu.Unlock()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- plugins.WatchDir(ctx, s.dir, 20*time.Millisecond, func() { srv.SetReady(true); close(ready) })
	}()
	select {
	case <-ready:
	case err := <-watchDone:
		cancel()
		plugins.Close()
		ln.Close()
		t.Fatalf("WatchDir: %v", err)
	}

	hs := &http.Server{Handler: s.handler(srv), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	s.stop = func() {
		s.stop = nil
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		// Like `wshost` on SIGTERM: every client gets 1001, then the
		// listener closes.
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := hs.Shutdown(sctx); err != nil {
			t.Errorf("http shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		cancel()
		if err := <-watchDone; err != nil {
			t.Errorf("WatchDir: %v", err)
		}
		plugins.Close()
	}
}

func (s *chatServer) url(path string) string {
	if s.tls != nil {
		return "https://" + s.addr + path
	}
	return "http://" + s.addr + path
}

// selfSigned makes a certificate for 127.0.0.1 and returns the TLS
// configuration serving it and the base64 SHA-256 of its public key, which
// Chromium's --ignore-certificate-errors-spki-list accepts.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spki)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, base64.StdEncoding.EncodeToString(sum[:])
}

// waitLoaded waits for a successful load of the chat plugin's version n.
// Compiling is slow under -race on a busy machine, hence the long deadline.
func (s *chatServer) waitLoaded(n uint64) {
	s.t.Helper()
	deadline := time.Now().Add(4 * waitTimeout)
	for {
		s.mu.Lock()
		for _, ev := range s.events {
			if ev.Name == "chat" && ev.Err == nil && !ev.Unchanged && !ev.Removed && ev.Version.Number == n {
				s.mu.Unlock()
				return
			}
		}
		events := fmt.Sprintf("%+v", s.events)
		s.mu.Unlock()
		if time.Now().After(deadline) {
			s.t.Fatalf("chat version %d never loaded; load events: %s", n, events)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---- plugin files (as in host/plugin's reload tests) ----

// withCustomSection and writeAtomic: see internal/pluginfile.
var withCustomSection = pluginfile.WithCustomSection

func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := pluginfile.WriteAtomic(path, data); err != nil {
		t.Fatal(err)
	}
}
