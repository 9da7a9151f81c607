//go:build unix

package plugin

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapAllocator backs each instance's linear memory with one anonymous
// mapping of the memory's maximum size. The kernel commits pages only when
// the guest touches them, so memory.grow is O(1) instead of a copy of the
// whole memory (wazero's default appends to a Go slice), and an idle
// instance costs what it uses. Stateless: safe for concurrent use.
type mmapAllocator struct{}

func memoryAllocator() experimental.MemoryAllocator { return mmapAllocator{} }

// Allocate implements experimental.MemoryAllocator.
func (mmapAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	if max == 0 {
		return &mmapMemory{}
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return &mmapMemory{} // every Reallocate fails: memory.grow returns -1
	}
	return &mmapMemory{buf: b}
}

// mmapMemory is one instance's mapping. Owned by the instance.
type mmapMemory struct{ buf []byte }

// Reallocate implements experimental.LinearMemory: the mapping never moves.
func (m *mmapMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		if size == 0 {
			return []byte{}
		}
		return nil
	}
	return m.buf[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *mmapMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}
