package examples

import _ "embed"

//go:embed chat.wasm
var chatWasm string

// Chat returns the default chat plugin's module bytes (a fresh copy).
func Chat() []byte { return []byte(chatWasm) }
