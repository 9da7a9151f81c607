package scripttest_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"go.uber.org/goleak"

	"github.com/wshost/wshost/host/scripttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// opts shares one compilation cache between the runs of the package.
func opts(o scripttest.Options) scripttest.Options {
	o.Cache = cache
	return o
}

var cache = wazero.NewCompilationCache()

func TestChatSession(t *testing.T) {
	var out bytes.Buffer
	res, err := scripttest.RunFile(context.Background(), "../../plugins/examples/chat.wasm", "testdata/chat.session", opts(scripttest.Options{Out: &out}))
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if res.Failed != 0 || res.Passed != 20 {
		t.Fatalf("%+v, want 20 passed, 0 failed:\n%s", res, out.String())
	}
	if !strings.HasSuffix(out.String(), "20 passed, 0 failed\n") {
		t.Fatalf("report ends %q", out.String())
	}
}

// TestFailuresAreReported: wrong expectations fail, and the run goes on.
func TestFailuresAreReported(t *testing.T) {
	script := `connect a ?nick=a
expect a * welcome b!
expect-silence a 10ms
send a hi
expect-binary a 00
connect-fail ?nick=x 403
expect-close a 1000
`
	var out bytes.Buffer
	res, err := scripttest.RunFile(context.Background(), "../../plugins/examples/chat.wasm", writeScript(t, script), opts(scripttest.Options{Out: &out}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed != 2 || res.Failed != 4 {
		t.Fatalf("%+v, want 2 passed (connect, silence), 4 failed:\n%s", res, out.String())
	}
	for _, want := range []string{
		`FAIL 2: expect a * welcome b!: got "* welcome a!`,
		`FAIL 5: expect-binary a 00: got "[general] a: hi", want binary 00`,
		`FAIL 6: connect-fail ?nick=x 403: the handshake succeeded`,
		`FAIL 7: expect-close a 1000: got message "* x joined #general", want close 1000`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadScripts(t *testing.T) {
	for _, script := range []string{"dance a", "send nobody hi", "connect-fail ?x nope", "reload missing.wasm"} {
		_, err := scripttest.RunFile(context.Background(), "../../plugins/examples/chat.wasm", writeScript(t, script), opts(scripttest.Options{}))
		if !errors.Is(err, scripttest.ErrScript) {
			t.Errorf("%q: got %v, want ErrScript", script, err)
		}
	}
}

func writeScript(t *testing.T, text string) string {
	t.Helper()
	path := t.TempDir() + "/s.session"
	if err := writeFile(path, text); err != nil {
		t.Fatal(err)
	}
	return path
}
