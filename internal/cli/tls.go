package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// tlsReloadDebounce lets a certificate and its key both be written before
// the pair is loaded again.
const tlsReloadDebounce = 250 * time.Millisecond

// certReloader serves the certificate of --tls-cert/--tls-key to new TLS
// handshakes and loads it again on SIGHUP or when either file changes. A
// pair that does not load leaves the previous one serving. Connections
// already open keep the certificate they shook hands with.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if _, err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// tlsConfig: TLS 1.2 and later with Go's default cipher suites, and HTTP/1.1
// only, since a WebSocket handshake is an HTTP/1.1 upgrade.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cert.Load(), nil
		},
	}
}

// load reads the pair; changed reports whether it differs from the serving one.
func (r *certReloader) load() (changed bool, err error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return false, fmt.Errorf("TLS certificate %s with key %s: %w", r.certFile, r.keyFile, err)
	}
	if old := r.cert.Load(); old != nil && bytes.Equal(old.Certificate[0], cert.Certificate[0]) {
		return false, nil
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return false, fmt.Errorf("TLS certificate %s: %w", r.certFile, err)
	}
	cert.Leaf = leaf
	r.cert.Store(&cert)
	sum := sha256.Sum256(leaf.Raw)
	attrs := []any{"file", r.certFile, "subject", leaf.Subject.String(), "names", leaf.DNSNames,
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "sha256", hex.EncodeToString(sum[:])}
	if time.Now().After(leaf.NotAfter) {
		r.log.Warn("TLS certificate has expired: clients will refuse it", attrs...)
	}
	r.log.Info("TLS certificate loaded", attrs...)
	return true, nil
}

func (r *certReloader) reload(why string) {
	if _, err := r.load(); err != nil {
		r.log.Error("TLS certificate reload failed; still serving the previous certificate", "trigger", why, "err", err)
	}
}

// watch reloads on SIGHUP and on changes in the files' directories (so a
// file replaced by rename, or a symlink swapped, counts) until ctx ends.
func (r *certReloader) watch(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var errs <-chan error
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		for _, dir := range []string{filepath.Dir(r.certFile), filepath.Dir(r.keyFile)} {
			if err := w.Add(dir); err != nil {
				r.log.Warn("cannot watch the TLS certificate's directory; reload with SIGHUP", "dir", dir, "err", err)
			}
		}
		events, errs = w.Events, w.Errors
	} else {
		r.log.Warn("cannot watch the TLS certificate files; reload with SIGHUP", "err", err)
	}
	names := map[string]bool{filepath.Base(r.certFile): true, filepath.Base(r.keyFile): true}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload("SIGHUP")
		case ev := <-events:
			base := filepath.Base(ev.Name)
			if names[base] || (len(base) > 2 && base[:2] == "..") { // ..data: a Kubernetes secret swap
				timer.Reset(tlsReloadDebounce)
			}
		case err := <-errs:
			r.log.Warn("watching the TLS certificate files", "err", err)
		case <-timer.C:
			r.reload("file change")
		}
	}
}

// startWatch runs watch until ctx ends; wait returns after it stopped.
func (r *certReloader) startWatch(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.watch(ctx) }()
	return wg.Wait
}
