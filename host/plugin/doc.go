// Package plugin runs wshost plugins: WebAssembly modules that follow ABI
// v1 (sdk/ABI.md), with wazero's compiler and no cgo.
//
// An Engine is one plugin. It implements host.Handler: each event takes an
// instance from the serving version's pool, calls the export with a wall-time
// deadline and a host-call budget, and puts the instance back — or throws it
// away when it trapped or ran past its deadline. Load compiles and starts a
// new version off the event path and swaps it in atomically; the old one
// finishes the events in flight and is then freed.
//
// A Dir watches a plugins directory with fsnotify and keeps one Engine per
// NAME.wasm mounted on a host.Server, reloading on change and keeping the
// last good version when a new file is broken.
//
// Module bytes are hostile input: package internal/wasmcheck bounds every
// count a module declares before wazero's decoder sees it.
package plugin
