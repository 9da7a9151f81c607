//go:build !unix

package plugin

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is wazero's default (a growing Go slice) where mmap is not available.
func memoryAllocator() experimental.MemoryAllocator { return nil }
