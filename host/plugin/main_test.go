package plugin_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"go.uber.org/goleak"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
	"github.com/wshost/wshost/host/plugin"
)

// cache is shared by every test so each module compiles once per run.
var cache = wazero.NewCompilationCache()

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == plugin.CompileChildCommand {
		// Started by a ChildCompiler of precompile_test.go.
		os.Exit(plugin.RunCompileChild(context.Background(), os.Args[2:], os.Stdin, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// testLogger discards below warn unless WSHOST_TEST_LOG is set.
func testLogger() *slog.Logger {
	level := slog.LevelWarn + 10
	if os.Getenv("WSHOST_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture is a server with a plugin set, torn down at cleanup.
type fixture struct {
	*hosttest.Server
	plugins *plugin.Plugins
}

func newFixture(t testing.TB, cfg host.Config) *fixture {
	t.Helper()
	cfg.Logger = testLogger()
	var p *plugin.Plugins
	t.Cleanup(func() { p.Close() }) // registered first, so it runs after the server's shutdown
	srv := hosttest.NewServer(t, cfg)
	p = plugin.NewPlugins(srv.Server, plugin.Options{Cache: cache, Logger: cfg.Logger})
	return &fixture{Server: srv, plugins: p}
}

// install serves testdata/FILE at /ws/name with the given manifest TOML.
func (f *fixture) install(t testing.TB, name, file, manifest string) {
	t.Helper()
	if err := f.plugins.Install(context.Background(), name, readTestdata(t, file), []byte(manifest)); err != nil {
		t.Fatalf("install %s: %v", file, err)
	}
}
