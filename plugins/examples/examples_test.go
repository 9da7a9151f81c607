package examples_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wshost/wshost/plugins/examples"
)

// TestChatWasmIsFresh rebuilds chat.wasm from source with the command of
// chat/Makefile and checks the committed bytes match: the embedded default
// plugin is what the source says.
func TestChatWasmIsFresh(t *testing.T) {
	out := filepath.Join(t.TempDir(), "chat.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-w", "-o", out, ".")
	cmd.Dir = "chat"
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build chat: %v\n%s", err, msg)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, examples.Chat()) {
		t.Fatalf("plugins/examples/chat.wasm (%d bytes) is stale: the source builds %d bytes; run `make plugins` and commit", len(examples.Chat()), len(built))
	}
}
