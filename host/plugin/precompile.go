package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultCompileMemory is a compile child's memory limit when
// ChildCompiler.MemoryLimit is 0. Compiling the 1.9 MB Go chat plugin needs
// less than 256 MiB of it (RATIONALE.md, "Why plugins compile in a child
// process").
const DefaultCompileMemory = 2 << 30

// childEnv is set in a compile child's environment. wshost refuses an
// unknown WSHOST_* variable at start, so a binary that runs its server
// instead of RunCompileChild when started as a child exits at once.
const childEnv = "WSHOST_IS_COMPILE_CHILD"

// ChildCompiler compiles modules in a child process into the compilation
// cache in CacheDir, which the serving process's Options.Cache must read
// too (wazero.NewCompilationCacheWithDir of the same directory): the
// serving process then only loads the compiled code, and the CPU and
// garbage of compiling stay out of it. Its Precompile method is an
// Options.Precompile.
//
// The child is Path run with Args, then --cache-dir and --memory-limit; it
// must reach RunCompileChild (wshost: its CompileChildCommand). It reads the
// module from stdin, runs at the lowest priority, and is killed after
// Timeout or when the load's context ends. On Linux its memory is capped
// at MemoryLimit (RLIMIT_DATA, set with prlimit before it reads a byte; see
// limitMemory), so a module that makes compiling take too much memory
// crashes the child, not the server. Its environment is this process's
// plus WSHOST_IS_COMPILE_CHILD=1, and a process that has it starts no
// child of its own. With Path "", a test binary whose tests load plugins
// through a ChildCompiler must dispatch CompileChildCommand in its TestMain.
//
// The exported fields are set before the first Precompile and not changed
// after. Safe for concurrent use; each call runs its own child.
type ChildCompiler struct {
	// Path is the executable; "": this process's own (/proc/self/exe on
	// Linux, so a binary replaced on disk still runs the same code).
	Path string
	// Args come before the child's flags (wshost: CompileChildCommand).
	Args []string
	// CacheDir is the compilation cache directory the child writes.
	CacheDir string
	// MemoryLimit caps the child's heap and code in bytes; 0:
	// DefaultCompileMemory; negative: no cap.
	MemoryLimit int64
	// Timeout bounds a child's run; 0: the in-process compile's 60 s.
	Timeout time.Duration
	// Logger receives the first fallback to compiling in process at warn
	// level, later ones at debug. Nil: slog.Default().
	Logger *slog.Logger

	warned atomic.Bool // a fallback was logged at warn level
}

// Precompile compiles wasm in a child process into CacheDir. Its errors
// wrap ErrPrecompileUnavailable when no child could run (the engine then
// compiles in process), ErrInvalidModule when the module failed to compile
// or the child crashed on it, with ErrCompileLimit too when it went past
// its memory or time limit, or the context's error.
func (c *ChildCompiler) Precompile(ctx context.Context, wasm []byte) error {
	if c.CacheDir == "" {
		return c.unavailable(errors.New("no cache directory"))
	}
	if os.Getenv(childEnv) != "" {
		// A binary that does not reach RunCompileChild with the child's
		// arguments (a test binary, say) must not start children of its own.
		return c.unavailable(errors.New("this process is a compile child"))
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = compileTimeout
	}
	limit := c.MemoryLimit
	if limit == 0 {
		limit = DefaultCompileMemory
	}
	path := c.Path
	if path == "" {
		var err error
		if path, err = ownExecutable(); err != nil {
			return c.unavailable(err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := append(append([]string(nil), c.Args...), "--cache-dir", c.CacheDir, "--memory-limit", strconv.FormatInt(max(limit, 0), 10))
	cmd := exec.CommandContext(cctx, path, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.WaitDelay = time.Second // the pipes of a killed child
	stderr := &headBuffer{max: 4 << 10}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return c.unavailable(err)
	}
	if err := cmd.Start(); err != nil {
		if cctx.Err() != nil {
			return c.ended(ctx, timeout)
		}
		return c.unavailable(fmt.Errorf("start %s: %w", path, err))
	}
	if limit > 0 {
		if err := limitMemory(cmd.Process.Pid, uint64(limit)); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return c.unavailable(fmt.Errorf("memory limit: %w", err))
		}
	}
	// The child reads only now, limited. A write fails (EPIPE) when the
	// child died or was killed: Wait says why.
	_, _ = stdin.Write(wasm)
	_ = stdin.Close()
	err = cmd.Wait()
	switch {
	case cctx.Err() != nil:
		return c.ended(ctx, timeout)
	case err == nil:
		return nil
	}
	msg := stderr.firstLine()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return c.unavailable(err)
	}
	switch code := ee.ExitCode(); {
	case code == childExitRefused:
		return fmt.Errorf("%w: %s", ErrInvalidModule, msg)
	case code == childExitCache, code == childExitUsage:
		return c.unavailable(fmt.Errorf("compile child: %w: %s", err, msg))
	case limit > 0 && outOfMemory(ee, msg):
		return fmt.Errorf("%w: compiling needs more than %d MiB (%w): %s", ErrInvalidModule, limit>>20, ErrCompileLimit, msg)
	default:
		return fmt.Errorf("%w: compile child failed: %w: %s", ErrInvalidModule, err, msg)
	}
}

// unavailable logs err (the first time at warn level) and wraps it with
// ErrPrecompileUnavailable.
func (c *ChildCompiler) unavailable(err error) error {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	level := slog.LevelDebug
	if c.warned.CompareAndSwap(false, true) {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "cannot compile in a child process; compiling in the serving process", "err", err)
	return fmt.Errorf("%w: %w", ErrPrecompileUnavailable, err)
}

// ended is the error of a child killed because ctx ended or the timeout
// passed.
func (c *ChildCompiler) ended(ctx context.Context, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	return fmt.Errorf("%w: compiling took longer than %s (%w)", ErrInvalidModule, timeout, ErrCompileLimit)
}

// outOfMemory reports whether a child crashed for want of memory: how the
// Go runtime dies when a mapping fails depends on which one (the heap, a
// thread's stack, its own metadata), and the kernel's OOM killer kills.
func outOfMemory(ee *exec.ExitError, msg string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "pthread_create failed", "failed to create new OS thread"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGKILL || ws.Signal() == syscall.SIGSEGV)
}

// headBuffer keeps the first max bytes written to it and discards the
// rest. Written by exec's copying goroutine, read after Wait.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// firstLine is the first non-empty line written, or "no message".
func (b *headBuffer) firstLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for line := range strings.Lines(b.buf.String()) {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return "no message"
}
