package host

import "golang.org/x/sys/unix"

// peekSupported: peekReadable works here.
const peekSupported = true

// peekReadable is the idle wait's syscall.RawConn.Read callback: it reports
// whether the socket fd has data, an error or EOF for the reader (false
// parks the reader in the netpoller until it may). With skipPong, a whole
// pong frame at the head of the data is read off the socket instead
// (took), and the socket reported not ready for now.
func peekReadable(fd uintptr, skipPong bool) (ready, took bool) {
	var b [maxPongFrame]byte
	n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err == unix.EAGAIN || err == unix.EINTR {
		return false, false
	}
	if err != nil || !skipPong {
		return true, false
	}
	size := pongFrameLen(b[:n])
	if size == 0 {
		return true, false
	}
	// The peek saw all of it and only this goroutine reads the socket: the
	// read takes exactly the frame.
	m, _, err := unix.Recvfrom(int(fd), b[:size], unix.MSG_DONTWAIT)
	if err != nil || m != size {
		return true, false // cannot happen; gorilla reports what is left
	}
	return true, true
}
