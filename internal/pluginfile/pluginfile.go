package pluginfile

import (
	"errors"
	"os"
	"path/filepath"
)

// WithCustomSection returns a copy of wasm with a custom section (id 0)
// named name holding data appended: different bytes, same behaviour.
func WithCustomSection(wasm []byte, name, data string) []byte {
	payload := appendULEB(nil, uint64(len(name)))
	payload = append(append(payload, name...), data...)
	out := append([]byte(nil), wasm...)
	out = append(out, 0)
	out = appendULEB(out, uint64(len(payload)))
	return append(out, payload...)
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// WriteAtomic replaces path with data through a temporary dotfile (which
// the plugin watcher ignores) renamed into place, so a watcher never reads
// a half-written file.
func WriteAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
