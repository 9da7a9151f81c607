package scripttest

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tetratelabs/wazero"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/plugin"
)

// ErrScript reports a script that cannot run: a malformed step, an unknown
// client, a plugin that does not load.
var ErrScript = errors.New("scripttest: bad script")

// Options configure Run. The zero value works.
type Options struct {
	// Dir is where reload paths are resolved. Default: the current directory.
	Dir string
	// Timeout bounds each expect step. Default 2s.
	Timeout time.Duration
	// Out receives the report. Nil: discarded.
	Out io.Writer
	// Logger receives the host's logs. Nil: discarded.
	Logger *slog.Logger
	// Cache, if set, is shared with other runs so a plugin compiles once.
	Cache wazero.CompilationCache
}

// Result counts the checks of a run.
type Result struct{ Passed, Failed int }

// RunFile replays the script in scriptPath against the plugin in wasmPath
// (with NAME.toml beside it, if present).
func RunFile(ctx context.Context, wasmPath, scriptPath string, opts Options) (Result, error) {
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrScript, err)
	}
	manifest, err := os.ReadFile(strings.TrimSuffix(wasmPath, ".wasm") + ".toml")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Result{}, fmt.Errorf("%w: %w", ErrScript, err)
	}
	script, err := os.Open(scriptPath)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrScript, err)
	}
	defer script.Close()
	if opts.Dir == "" {
		opts.Dir = filepath.Dir(scriptPath)
	}
	name := strings.TrimSuffix(filepath.Base(wasmPath), ".wasm")
	if !host.ValidName(name) {
		name = "plugin"
	}
	return Run(ctx, name, wasm, manifest, script, opts)
}

// Run serves wasm (with manifest TOML, may be nil) at /ws/name on an
// in-memory host and replays script against it.
func Run(ctx context.Context, name string, wasm, manifest []byte, script io.Reader, opts Options) (res Result, err error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &runner{opts: opts, name: name, clients: make(map[string]*client)}
	if err := r.start(ctx, wasm, manifest); err != nil {
		return Result{}, err
	}
	defer r.stop()

	sc := bufio.NewScanner(script)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if t := strings.TrimSpace(text); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if err := r.step(ctx, line, text); err != nil {
			return r.res, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return r.res, fmt.Errorf("%w: %w", ErrScript, err)
	}
	fmt.Fprintf(opts.Out, "%d passed, %d failed\n", r.res.Passed, r.res.Failed)
	return r.res, nil
}

// runner is one replay. Owned by the goroutine running the script.
type runner struct {
	opts    Options
	name    string
	srv     *host.Server
	plugins *plugin.Plugins
	ln      *pipeListener
	hs      *http.Server
	served  chan struct{}
	clients map[string]*client
	res     Result
}

func (r *runner) start(ctx context.Context, wasm, manifest []byte) error {
	r.srv = host.New(host.Config{Logger: r.opts.Logger, CheckOrigin: func(*http.Request) bool { return true }})
	r.plugins = plugin.NewPlugins(r.srv, plugin.Options{Logger: r.opts.Logger, Cache: r.opts.Cache})
	if err := r.plugins.Install(ctx, r.name, wasm, manifest); err != nil {
		r.plugins.Close()
		return fmt.Errorf("%w: %w", ErrScript, err)
	}
	r.ln = newPipeListener()
	r.hs = &http.Server{Handler: r.srv, ErrorLog: slog.NewLogLogger(r.opts.Logger.Handler(), slog.LevelWarn)}
	r.served = make(chan struct{})
	go func() {
		defer close(r.served)
		_ = r.hs.Serve(r.ln)
	}()
	return nil
}

func (r *runner) stop() {
	for _, c := range r.clients {
		_ = c.conn.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	_ = r.hs.Shutdown(ctx)
	<-r.served
	for _, c := range r.clients {
		<-c.done
	}
	r.plugins.Close()
}

func (r *runner) pass(line int, what string) {
	r.res.Passed++
	fmt.Fprintf(r.opts.Out, "ok   %d: %s\n", line, what)
}

func (r *runner) fail(line int, what, format string, args ...any) {
	r.res.Failed++
	fmt.Fprintf(r.opts.Out, "FAIL %d: %s: %s\n", line, what, fmt.Sprintf(format, args...))
}

// step runs one line. It returns an error only for a script that cannot go on.
func (r *runner) step(ctx context.Context, line int, text string) error {
	verb, rest, _ := strings.Cut(text, " ")
	switch verb {
	case "connect":
		name, arg, _ := strings.Cut(rest, " ")
		if name == "" {
			return fmt.Errorf("%w: connect NAME [?QUERY] [Header=value ...]", ErrScript)
		}
		c, status, err := r.dial(ctx, strings.Fields(arg))
		if err != nil {
			r.fail(line, text, "handshake refused (HTTP %d): %v", status, err)
			return nil
		}
		if old := r.clients[name]; old != nil {
			_ = old.conn.Close()
		}
		r.clients[name] = c
		r.pass(line, text)
	case "connect-fail":
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return fmt.Errorf("%w: connect-fail [?QUERY] STATUS", ErrScript)
		}
		want, err := strconv.Atoi(fields[len(fields)-1])
		if err != nil {
			return fmt.Errorf("%w: connect-fail: STATUS %q: %w", ErrScript, fields[len(fields)-1], err)
		}
		c, status, err := r.dial(ctx, fields[:len(fields)-1])
		if err == nil {
			_ = c.conn.Close()
			<-c.done
			r.fail(line, text, "the handshake succeeded")
		} else if status != want {
			r.fail(line, text, "HTTP %d, want %d", status, want)
		} else {
			r.pass(line, text)
		}
	case "send", "send-binary":
		c, arg, err := r.client(rest)
		if err != nil {
			return err
		}
		typ, data := websocket.TextMessage, []byte(arg)
		if verb == "send-binary" {
			typ = websocket.BinaryMessage
			if data, err = hex.DecodeString(strings.TrimSpace(arg)); err != nil {
				return fmt.Errorf("%w: send-binary: %w", ErrScript, err)
			}
		}
		if err := c.write(typ, data); err != nil {
			r.fail(line, text, "%v", err)
		}
	case "expect", "expect-binary", "expect-match":
		c, arg, err := r.client(rest)
		if err != nil {
			return err
		}
		r.expectMessage(line, text, verb, c, arg)
	case "expect-close":
		c, arg, err := r.client(rest)
		if err != nil {
			return err
		}
		want, err := strconv.Atoi(strings.TrimSpace(arg))
		if err != nil {
			return fmt.Errorf("%w: expect-close NAME CODE: %w", ErrScript, err)
		}
		ev, ok := c.next(r.opts.Timeout)
		switch {
		case !ok:
			r.fail(line, text, "nothing arrived within %s", r.opts.Timeout)
		case !ev.closed:
			r.fail(line, text, "got message %q, want close %d", ev.data, want)
		case ev.code != want:
			r.fail(line, text, "got close %d %q, want %d", ev.code, ev.reason, want)
		default:
			r.pass(line, text)
		}
	case "expect-silence":
		c, arg, err := r.client(rest)
		if err != nil {
			return err
		}
		d := 200 * time.Millisecond
		if s := strings.TrimSpace(arg); s != "" {
			if d, err = time.ParseDuration(s); err != nil {
				return fmt.Errorf("%w: expect-silence: %w", ErrScript, err)
			}
		}
		if ev, ok := c.next(d); ok {
			r.fail(line, text, "got %s", ev)
		} else {
			r.pass(line, text)
		}
	case "close":
		c, arg, err := r.client(rest)
		if err != nil {
			return err
		}
		code, reason := websocket.CloseNormalClosure, ""
		if f := strings.TrimSpace(arg); f != "" {
			codeText, rs, _ := strings.Cut(f, " ")
			if code, err = strconv.Atoi(codeText); err != nil {
				return fmt.Errorf("%w: close NAME [CODE [REASON]]: %w", ErrScript, err)
			}
			reason = rs
		}
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(r.opts.Timeout))
	case "drop":
		c, _, err := r.client(rest)
		if err != nil {
			return err
		}
		_ = c.conn.NetConn().Close()
	case "reload":
		files := strings.Fields(rest)
		if len(files) == 0 || len(files) > 2 {
			return fmt.Errorf("%w: reload FILE.wasm [FILE.toml]", ErrScript)
		}
		wasm, err := os.ReadFile(filepath.Join(r.opts.Dir, files[0]))
		if err != nil {
			return fmt.Errorf("%w: reload: %w", ErrScript, err)
		}
		var manifest []byte
		if len(files) == 2 {
			if manifest, err = os.ReadFile(filepath.Join(r.opts.Dir, files[1])); err != nil {
				return fmt.Errorf("%w: reload: %w", ErrScript, err)
			}
		}
		if err := r.plugins.Install(ctx, r.name, wasm, manifest); err != nil {
			r.fail(line, text, "%v", err)
		} else {
			r.pass(line, text)
		}
	default:
		return fmt.Errorf("%w: unknown step %q", ErrScript, verb)
	}
	return nil
}

func (r *runner) expectMessage(line int, text, verb string, c *client, arg string) {
	ev, ok := c.next(r.opts.Timeout)
	switch {
	case !ok:
		r.fail(line, text, "nothing arrived within %s", r.opts.Timeout)
		return
	case ev.closed:
		r.fail(line, text, "got close %d %q", ev.code, ev.reason)
		return
	}
	var good bool
	var want string
	switch verb {
	case "expect":
		want, good = strconv.Quote(arg), ev.typ == websocket.TextMessage && string(ev.data) == arg
	case "expect-binary":
		b, err := hex.DecodeString(strings.TrimSpace(arg))
		want, good = "binary "+strings.TrimSpace(arg), err == nil && ev.typ == websocket.BinaryMessage && string(ev.data) == string(b)
	case "expect-match":
		re, err := regexp.Compile("^(?:" + arg + ")$")
		want, good = "a match of "+arg, err == nil && ev.typ == websocket.TextMessage && re.Match(ev.data)
	}
	if good {
		r.pass(line, text)
	} else {
		r.fail(line, text, "got %s, want %s", ev, want)
	}
}

func (r *runner) client(rest string) (*client, string, error) {
	name, arg, _ := strings.Cut(rest, " ")
	c := r.clients[name]
	if c == nil {
		return nil, "", fmt.Errorf("%w: no client %q (connect it first)", ErrScript, name)
	}
	return c, arg, nil
}

// dial opens a client: args are an optional path or ?query, then Header=value.
func (r *runner) dial(ctx context.Context, args []string) (*client, int, error) {
	path := "/ws/" + r.name
	hdr := http.Header{}
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "?"):
			path += a
		case strings.HasPrefix(a, "/"):
			path = a
		default:
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				return nil, 0, fmt.Errorf("%w: %q is neither ?QUERY nor Header=value", ErrScript, a)
			}
			hdr.Add(k, v)
		}
	}
	d := websocket.Dialer{NetDialContext: r.ln.dial, HandshakeTimeout: r.opts.Timeout}
	conn, resp, err := d.DialContext(ctx, "ws://plugin.test"+path, hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		return nil, status, err
	}
	return newClient(conn), 101, nil
}
