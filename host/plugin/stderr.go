package plugin

import (
	"bytes"
	"log/slog"
)

// stderrLog turns what an instance writes to stderr (a Go plugin's panic
// trace, say) into log lines, each cut to maxLine bytes. Owned by the
// instance's current callback.
type stderrLog struct {
	log     *slog.Logger
	version uint64
	line    []byte
}

const maxLine = 4096

func (w *stderrLog) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.line = append(w.line, p[:min(len(p), maxLine-len(w.line))]...)
			break
		}
		w.line = append(w.line, p[:min(i, maxLine-len(w.line))]...)
		w.log.Warn("plugin stderr", "version", w.version, "line", string(w.line))
		w.line = w.line[:0]
		p = p[i+1:]
	}
	return n, nil
}
