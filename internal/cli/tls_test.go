package cli_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/internal/testcert"
)

func newCert(t *testing.T, cn string) *testcert.Cert {
	t.Helper()
	c, err := testcert.New(cn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// replaceFile writes data to path the way deploy tools do: a new file
// renamed over the old one.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTLSAndCertificateReload: --tls-cert/--tls-key serve wss:// (TLS 1.2+,
// HTTP/1.1 by ALPN); replacing the files makes new connections see the new
// certificate while an open connection carries on; a bad pair, on a file
// change or on SIGHUP, keeps the last good one and says why.
func TestTLSAndCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b := newCert(t, "wshost test A"), newCert(t, "wshost test B")
	if err := a.Write(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	url, _, stderr := start(t, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("listening on %s, want https://", url)
	}
	hostport := strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")
	client := func(pool *x509.CertPool) *http.Client {
		return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	waitFor(t, "https /healthz", func() bool {
		resp, err := client(a.Pool()).Get(url + "healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// Modern defaults: HTTP/1.1 even to a client preferring h2; no TLS 1.1.
	tc, err := tls.Dial("tcp", hostport, &tls.Config{RootCAs: a.Pool(), NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	st := tc.ConnectionState()
	tc.Close()
	if st.NegotiatedProtocol != "http/1.1" || st.Version < tls.VersionTLS12 {
		t.Fatalf("negotiated %q, version %x: want http/1.1 over TLS 1.2+", st.NegotiatedProtocol, st.Version)
	}
	if tc, err := tls.Dial("tcp", hostport, &tls.Config{RootCAs: a.Pool(), MaxVersion: tls.VersionTLS11}); err == nil {
		tc.Close()
		t.Fatal("a TLS 1.1 client was served")
	}

	wss := "wss://" + hostport + "/ws/chat"
	dial := func(pool *x509.CertPool, nick string) (*websocket.Conn, error) {
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: &tls.Config{RootCAs: pool}}
		c, _, err := d.Dial(wss+"?nick="+nick, nil)
		return c, err
	}
	readUntil := func(c *websocket.Conn, want string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("%v before %q", err, want)
			}
			if strings.Contains(string(msg), want) {
				return
			}
		}
	}
	old, err := dial(a.Pool(), "old")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	readUntil(old, "* welcome old!")

	replaceFile(t, keyFile, b.KeyPEM)
	replaceFile(t, certFile, b.CertPEM)
	var fresh *websocket.Conn
	waitFor(t, "the new certificate", func() bool {
		fresh, err = dial(b.Pool(), "new")
		return err == nil
	})
	defer fresh.Close()
	readUntil(fresh, "* welcome new!")
	if _, err := dial(a.Pool(), "stale"); err == nil {
		t.Fatal("a client trusting only the old certificate still connects")
	}
	if err := old.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	readUntil(old, "still here")
	readUntil(fresh, "still here")

	// A broken file: the last good certificate keeps serving.
	replaceFile(t, certFile, []byte("not a certificate"))
	waitFor(t, "the refusal in the log", func() bool {
		return strings.Contains(stderr.String(), "TLS certificate reload failed") && strings.Contains(stderr.String(), "trigger=\"file change\"")
	})
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SIGHUP refusal in the log", func() bool { return strings.Contains(stderr.String(), "trigger=SIGHUP") })
	c, err := dial(b.Pool(), "after")
	if err != nil {
		t.Fatalf("after a bad reload: %v", err)
	}
	c.Close()
	if !strings.Contains(stderr.String(), "failed to find any PEM data in certificate input") {
		t.Errorf("the log does not say why:\n%s", stderr.String())
	}
}
