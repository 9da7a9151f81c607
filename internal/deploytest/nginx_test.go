package deploytest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/internal/cli"
	"github.com/wshost/wshost/internal/testcert"
)

// syncBuffer: see hosttest.SyncBuffer.
type syncBuffer = hosttest.SyncBuffer

// findNginx returns Debian's nginx, or fails saying how to get it.
func findNginx(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed: run `make test` (scripts/deps.sh installs Debian's nginx) or `apt-get install nginx`")
	return ""
}

// startWshost runs the command in process with args; it returns
// HOST:PORT once it serves.
func startWshost(t *testing.T, args ...string) string {
	t.Helper()
	addr, _ := runWshost(t, args...)
	return addr
}

// runWshost is startWshost that also returns a stop function, which
// shuts the command down gracefully and waits for it.
func runWshost(t *testing.T, args ...string) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	args = append([]string{"--addr", "127.0.0.1:0", "--cache-dir", t.TempDir()}, args...)
	go func() { done <- cli.Main(ctx, args, stdout, stderr) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("wshost exited %d: %s", code, stderr.String())
			}
		})
	}
	t.Cleanup(stop)
	re := regexp.MustCompile(`http://([0-9.:]+)/`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("wshost did not start: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// replaceOnce replaces old, which must occur exactly once: the test and
// deploy/nginx/wshost.conf stay in step.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("deploy/nginx/wshost.conf: %q occurs %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// startNginx runs nginx with deploy/nginx/wshost.conf, changed only to
// listen on 127.0.0.1:port, use the test's certificate, reach wshost at
// upstream, plus extra at the end of its server block. Everything lives in
// a temporary directory; nginx is stopped at cleanup.
func startNginx(t *testing.T, upstream string, cert *testcert.Cert, extra string) (port int) {
	t.Helper()
	nginx := findNginx(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := cert.Write(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../deploy/nginx/wshost.conf")
	if err != nil {
		t.Fatal(err)
	}
	port = freePort(t)
	conf := string(src)
	conf = replaceOnce(t, conf, "listen 443 ssl;", fmt.Sprintf("listen 127.0.0.1:%d ssl;", port))
	conf = replaceOnce(t, conf, "listen [::]:443 ssl;", "")
	conf = replaceOnce(t, conf, "/etc/letsencrypt/live/chat.example.com/fullchain.pem", certFile)
	conf = replaceOnce(t, conf, "/etc/letsencrypt/live/chat.example.com/privkey.pem", keyFile)
	conf = replaceOnce(t, conf, "server 127.0.0.1:8080;", "server "+upstream+";")
	end := strings.LastIndex(conf, "}")
	conf = conf[:end] + extra + "\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "wshost.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		os.MkdirAll(filepath.Join(dir, "tmp", d), 0o755)
	}
	main := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[1]s/wshost.conf;
}
`, dir)
	mainFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(mainFile, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir, "-c", mainFile, "-e", filepath.Join(dir, "error.log")}
	if out, err := exec.Command(nginx, append(args, "-t")...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\n%s", err, out, conf)
	}
	cmd := exec.Command(nginx, args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful stop
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return port
		}
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialFrom returns a dialer whose connections come from the local address ip.
func dialFrom(ip string, cert *testcert.Cert) *websocket.Dialer {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &websocket.Dialer{
		NetDialContext:   d.DialContext,
		HandshakeTimeout: 10 * time.Second,
		TLSClientConfig:  &tls.Config{RootCAs: cert.Pool()},
	}
}

// ask sends a probe command and returns its reply.
func ask(t *testing.T, c *websocket.Conn, cmd string) string {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return string(msg)
}

// remoteAddr asks the probe plugin what conn_info remote_addr says of c.
func remoteAddr(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	id := strings.TrimPrefix(ask(t, c, "id"), "= ")
	reply := ask(t, c, "info "+id+" remote_addr")
	_, addr, ok := strings.Cut(strings.TrimPrefix(reply, "= "), " ")
	if !ok {
		t.Fatalf("info remote_addr: %q", reply)
	}
	return addr
}

// TestNginxWSS: a wss:// client reaches a plugin through nginx configured
// by deploy/nginx/wshost.conf; the plugin sees the client's address, not
// nginx's; a location that does not forward Upgrade gets wshost's message
// naming the missing header.
func TestNginxWSS(t *testing.T) {
	plugins := t.TempDir()
	probe, err := os.ReadFile("../../host/plugin/testdata/probe.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, "probe.wasm"), probe, 0o644); err != nil {
		t.Fatal(err)
	}
	upstream := startWshost(t, "--plugins", plugins, "--trusted-proxies", "127.0.0.1/32", "--max-connections-per-ip", "1")
	cert, err := testcert.New("nginx test")
	if err != nil {
		t.Fatal(err)
	}
	// A proxy misconfigured the usual way: a location of its own headers,
	// which drops the inherited Upgrade and Connection.
	broken := `
    location /broken/ {
        proxy_pass http://wshost/;
        proxy_set_header Host $http_host;
    }`
	port := startNginx(t, upstream, cert, broken)
	base := fmt.Sprintf("wss://127.0.0.1:%d", port)

	// The client connects from 127.0.0.2; nginx connects to wshost from 127.0.0.1.
	var c *websocket.Conn
	deadline := time.Now().Add(30 * time.Second)
	for {
		var resp *http.Response
		c, resp, err = dialFrom("127.0.0.2", cert).Dial(base+"/ws/probe", nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wss:// through nginx: %v %s", err, body(resp))
		}
		time.Sleep(50 * time.Millisecond) // the plugin may still be loading
	}
	defer c.Close()
	if got := ask(t, c, "echo through nginx"); got != "through nginx" {
		t.Fatalf("echo: %q", got)
	}
	if got := remoteAddr(t, c); got != "127.0.0.2:0" {
		t.Fatalf("the plugin sees remote_addr %q, want the client's 127.0.0.2:0", got)
	}

	// The per-IP cap counts the forwarded address: a second connection
	// from 127.0.0.2 is refused, one from 127.0.0.4 is not, though nginx
	// connects from 127.0.0.1 for both.
	if _, resp, err := dialFrom("127.0.0.2", cert).Dial(base+"/ws/probe", nil); err == nil || status(resp) != 429 {
		t.Fatalf("a second connection from 127.0.0.2: %v, HTTP %d; want 429", err, status(resp))
	}
	other, _, err := dialFrom("127.0.0.4", cert).Dial(base+"/ws/probe", nil)
	if err != nil {
		t.Fatalf("a connection from 127.0.0.4: %v", err)
	}
	defer other.Close()
	if got := remoteAddr(t, other); got != "127.0.0.4:0" {
		t.Fatalf("remote_addr %q, want 127.0.0.4:0", got)
	}

	// Straight to wshost from an untrusted peer, X-Forwarded-For is ignored.
	direct, _, err := dialFrom("127.0.0.3", cert).Dial("ws://"+upstream+"/ws/probe", http.Header{"X-Forwarded-For": {"203.0.113.9"}})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if got := remoteAddr(t, direct); !strings.HasPrefix(got, "127.0.0.3:") || got == "127.0.0.3:0" {
		t.Fatalf("an untrusted peer's X-Forwarded-For was believed: remote_addr %q", got)
	}

	_, resp, err := dialFrom("127.0.0.2", cert).Dial(base+"/broken/ws/probe", nil)
	if err == nil {
		t.Fatal("the handshake succeeded through a proxy that does not forward Upgrade")
	}
	if resp == nil || resp.StatusCode != 400 || !strings.Contains(body(resp), "no 'Upgrade: websocket' header") {
		t.Fatalf("through the broken location: %v, HTTP %v %q; want 400 naming the Upgrade header", err, status(resp), body(resp))
	}
}

func body(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func status(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}
