package host

import (
	"syscall"
	"unsafe"
)

// peekSupported: peekReadable works here.
const peekSupported = true

// peekReadable is the idle wait's syscall.RawConn.Read callback: it reports
// whether the socket fd has data, an error or EOF for the reader (false
// parks the reader in the netpoller until it may). With skipPong, a whole
// pong frame at the head of the data is read off the socket instead
// (took), for the caller to extend the deadline and wait again.
//
// It runs at the bottom of the reader's stack, which must stay within the
// 2 KiB a goroutine starts with: the calls are raw system calls (recv with
// MSG_DONTWAIT never blocks), not syscall.Recvfrom's deeper wrappers.
func peekReadable(fd uintptr, skipPong bool) (ready, took bool) {
	var b [maxPongFrame]byte
	n, errno := recv(fd, b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if errno == syscall.EAGAIN {
		return false, false
	}
	// Anything else, EINTR too, is for NextReader to read or report: a
	// false here would wait for the next edge, and data already there
	// might make none.
	if errno != 0 || !skipPong {
		return true, false
	}
	size := pongFrameLen(b[:n])
	if size == 0 {
		return true, false
	}
	// The peek saw all of it and only this goroutine reads the socket: the
	// read takes exactly the frame.
	if m, errno := recv(fd, b[:size], syscall.MSG_DONTWAIT); errno != 0 || m != size {
		return true, false // cannot happen; gorilla reports what is left
	}
	return true, true
}

// recv is recv(2) on fd into b, never blocking (flags has MSG_DONTWAIT).
func recv(fd uintptr, b []byte, flags int) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(flags), 0, 0)
	return int(n), errno
}
