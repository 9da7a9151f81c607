package deploytest

import (
	"context"
	"os"
	"testing"

	"github.com/wshost/wshost/host/plugin"
	"github.com/wshost/wshost/internal/cli"
)

// TestMain makes this test binary a wshost compile child when a server
// started in process (cli.Main with --cache-dir) runs it as one:
// /proc/self/exe is the test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == plugin.CompileChildCommand {
		os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
