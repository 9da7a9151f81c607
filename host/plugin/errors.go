package plugin

import "errors"

// Sentinel errors of the plugin engine, wrapped with %w.
var (
	// ErrInvalidModule: the bytes are not a module this host can run under
	// ABI v1 (bad bytes, missing or mistyped exports, foreign imports,
	// memory above the limit). The message names the problem.
	ErrInvalidModule = errors.New("invalid plugin module")
	// ErrManifest: NAME.toml is malformed or has an impossible value.
	ErrManifest = errors.New("invalid plugin manifest")
	// ErrNotLoaded: the engine has no version serving.
	ErrNotLoaded = errors.New("plugin not loaded")
	// ErrTrap: a callback trapped.
	ErrTrap = errors.New("trap")
	// ErrDeadline: a callback ran past its wall-time limit.
	ErrDeadline = errors.New("deadline")
	// ErrPrecompileUnavailable: Options.Precompile could not compile (no
	// child process could be started, say), so the engine compiles in the
	// serving process instead.
	ErrPrecompileUnavailable = errors.New("precompiler unavailable")
	// ErrCompileLimit: compiling a module took more memory or time than
	// the compile child is allowed. It comes wrapped with ErrInvalidModule.
	ErrCompileLimit = errors.New("compile limit exceeded")
)
