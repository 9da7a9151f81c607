//go:build !linux

package plugin

import (
	"errors"
	"os"
)

// ownExecutable: see precompile_linux.go.
func ownExecutable() (string, error) { return os.Executable() }

// limitMemory: only Linux can set another process's limits; without it
// the child has no memory cap (set MemoryLimit to -1 to accept that).
func limitMemory(int, uint64) error {
	return errors.New("a child's memory limit needs Linux")
}

// lowerPriority: a no-op off Linux.
func lowerPriority() {}
