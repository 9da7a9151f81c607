package host

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// An idle reader needs no goroutine at all: it parks its connection in its
// Server's epoll set (Server.parking) and returns, and whatever makes the
// connection need reading again unparks it (Conn.unpark), which starts a
// goroutine to wait on the socket as before (reader.wait): data or a hang
// up on the socket (the poller), a ping going out (the ping timer: the
// wait for the pong then runs in the netpoller, under the read deadline,
// which only a waiting goroutine enforces), the socket closed by the
// writer or a shutdown (closeSocket). A parked connection costs its entry
// in the poller's map and nothing more.

// idlePoller is a Server's epoll set of parked connections' sockets, armed
// one shot, and the goroutine that waits on it while any is parked. Made
// on the first park; closed by Shutdown. Safe for concurrent use.
type idlePoller struct {
	once  sync.Once
	epfd  int           // -1: no epoll set; readers do not park
	keys  atomic.Uint64 // numbers parked readers (reader.parkKey)
	loops sync.WaitGroup

	mu      sync.Mutex
	conns   map[uint64]*Conn // parked, by reader.parkKey
	looping bool             // loop runs; it returns once conns is empty
	closed  bool
}

func (p *idlePoller) init() {
	p.epfd = -1
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return
	}
	p.epfd = fd
	p.mu.Lock()
	p.conns = make(map[uint64]*Conn)
	p.mu.Unlock()
}

// add records c, whose reader's key is key, as parked, starting the loop
// if none runs; false when there is no epoll set.
func (p *idlePoller) add(key uint64, c *Conn) bool {
	p.once.Do(p.init)
	if p.epfd < 0 {
		return false
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.conns[key] = c
	start := !p.looping
	p.looping = true
	if start {
		p.loops.Add(1)
	}
	p.mu.Unlock()
	if start {
		go p.loop()
	}
	return true
}

// close frees the epoll set once no reader is parked (Shutdown calls it
// after every connection ended): the loop returns within 100 ms of the
// last unpark.
func (p *idlePoller) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.loops.Wait()
	p.once.Do(func() { p.epfd = -1 })
	if p.epfd >= 0 {
		_ = unix.Close(p.epfd)
		p.epfd = -1
	}
}

func (p *idlePoller) remove(key uint64) {
	p.mu.Lock()
	delete(p.conns, key)
	p.mu.Unlock()
}

// loop unparks the connections whose sockets became ready. It returns once
// none is parked (after at most 100 ms), and add starts it again.
func (p *idlePoller) loop() {
	defer p.loops.Done()
	var evs [64]unix.EpollEvent
	var ready []*Conn
	for {
		n, err := unix.EpollWait(p.epfd, evs[:], 100)
		if err != nil {
			n = 0 // EINTR
		}
		p.mu.Lock()
		for _, ev := range evs[:n] {
			key := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if c := p.conns[key]; c != nil {
				ready = append(ready, c)
			}
		}
		if len(p.conns) == 0 {
			p.looping = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for _, c := range ready {
			c.unpark()
		}
		clear(ready)
		ready = ready[:0]
	}
}

// arm adds c's socket to the epoll set, or re-arms it, for one event: data,
// a hang up or an error, reported with key.
func (p *idlePoller) arm(key uint64, c *Conn) error {
	var errno error
	err := c.idle.rc.Control(func(fd uintptr) {
		ev := unix.EpollEvent{
			Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT,
			Fd:     int32(uint32(key)),
			Pad:    int32(uint32(key >> 32)),
		}
		errno = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
		if errno == unix.ENOENT {
			errno = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
		}
	})
	if err != nil {
		return err
	}
	return errno
}

// park makes the reader idle without a goroutine: canWait holds, and the
// calling goroutine returns after it, touching r no more.
func (r *reader) park() {
	c := r.c
	parking := &c.ep.srv.parking
	c.idle.release(&c.ep.srv.readPools)
	if r.parkKey == 0 {
		r.parkKey = parking.keys.Add(1)
	}
	key := r.parkKey // r is not read once parked
	if !parking.add(key, c) {
		go r.wait()
		return
	}
	c.parked.Store(r)
	if err := parking.arm(key, c); err != nil {
		c.unpark() // a goroutine waits instead, and reports a socket gone
	}
}

// unpark starts a goroutine to wait on c's socket if its reader is parked.
// Safe for concurrent use: one caller wins.
func (c *Conn) unpark() {
	r := c.parked.Swap(nil)
	if r == nil {
		return
	}
	c.ep.srv.parking.remove(r.parkKey)
	go r.wait()
}
