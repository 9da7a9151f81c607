// Package nativechat is the example chat plugin's logic as a native Go
// host.Handler: the same behaviour as plugins/examples/chat, with no Wasm.
// Tests run one scenario against both; benchmarks use it as the baseline of
// what the Wasm engine costs.
package nativechat
