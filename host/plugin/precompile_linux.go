package plugin

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ownExecutable is /proc/self/exe: the running binary even if its file was
// replaced or removed since (an upgrade), so the child shares this
// process's wazero version and cache key.
func ownExecutable() (string, error) {
	const self = "/proc/self/exe"
	if _, err := os.Stat(self); err != nil {
		return os.Executable()
	}
	return self, nil
}

// limitMemory sets RLIMIT_DATA of process pid (a child of ours) to n bytes.
// Since Linux 4.7 it bounds the private writable mappings: the Go heap
// and wazero's code buffers, not the address space the Go runtime only
// reserves (RLIMIT_AS does count that, hundreds of MiB before the first
// allocation). A mapping beyond it fails, and the child's runtime exits
// with "out of memory" or "cannot allocate memory".
func limitMemory(pid int, n uint64) error {
	return unix.Prlimit(pid, unix.RLIMIT_DATA, &unix.Rlimit{Cur: n, Max: n}, nil)
}

// lowerPriority sets every thread of this process to nice 19 (on Linux
// setpriority is per thread); threads started later inherit it.
func lowerPriority() {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		_ = unix.Setpriority(unix.PRIO_PROCESS, 0, 19)
		return
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = unix.Setpriority(unix.PRIO_PROCESS, tid, 19)
		}
	}
}
