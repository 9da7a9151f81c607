// Package scaffold writes a new plugin project (`wshost new`): for each
// language a small plugin (a welcome, then an echo), a Makefile that builds
// NAME.wasm and whose `make test` replays NAME.session against it with
// `wshost test`, and a README.
package scaffold
