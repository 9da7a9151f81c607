package host

import (
	"net"
	"time"
)

// writeLoop is a run of the connection's writer goroutine, started by
// whoever gave it work while none ran (startWriterLocked): it writes the
// queued frames, coalesced into one writev per batch, and a due ping, until
// the queue is empty, then returns. The close frame goes out after the
// queued backlog; the run that writes it waits for the peer's close frame
// (or the reader's end, or CloseTimeout) and drops the TCP connection. A
// failed write ends the connection's writing for good.
func (c *Conn) writeLoop() {
	cfg := &c.ep.srv.cfg
	scratch := c.ep.srv.writeScratch()
	defer c.ep.srv.scratch.Put(scratch)
	batch, bufs := scratch.batch[:0], scratch.bufs[:0]
	defer func() { scratch.batch, scratch.bufs = batch[:0], bufs[:0] }()
	for {
		var closeFrame, ping *Frame
		batch, closeFrame, ping = c.takeBatch(batch)
		if len(batch) == 0 && closeFrame == nil && ping == nil {
			c.notifyReader() // takeBatch cleared c.writing
			return
		}
		n, size := len(batch), 0
		if ping != nil && closeFrame == nil {
			batch = append(batch, ping)
		}
		if closeFrame != nil {
			batch = append(batch, closeFrame)
		}
		for i, f := range batch {
			bufs = append(bufs, f.wire(c.deflate))
			if i < n {
				size += f.Len()
			}
		}
		_ = c.raw.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		out := bufs // WriteTo consumes the slice: bufs keeps its array
		written, err := out.WriteTo(c.raw)
		clear(bufs) // no frame outlives its write through the pool
		bufs = bufs[:0]
		if n > 0 {
			c.ep.stats.msgsOut.add(c.id, uint64(n))
		}
		c.ep.stats.bytesOut.add(c.id, uint64(written))
		clear(batch)
		batch = batch[:0]
		c.mu.Lock()
		c.queuedMsgs -= n
		c.queuedBytes -= size
		if err != nil {
			c.failLocked("write: " + err.Error())
			c.writerEnded = true
		}
		c.mu.Unlock()
		if err != nil {
			_ = c.raw.Close()
			c.unpark() // a parked reader learns of it
			c.writerStopped()
			return
		}
		if n > 0 {
			c.notifyReader()
		}
		if closeFrame != nil {
			c.awaitPeerClose(cfg.CloseTimeout)
			c.writerStopped()
			return
		}
	}
}

// writerStopped ends a writer run: from here on a new one may start (unless
// writerEnded), and the reader, which may wait for this one, is told.
func (c *Conn) writerStopped() {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	c.notifyReader()
}

// notifyReader tells the reader the writer made progress or stopped, if
// it ever waited for the writer (Conn.wrote). Called after the change, in a
// critical section of c.mu of its own.
func (c *Conn) notifyReader() {
	c.mu.Lock()
	wrote := c.wrote
	c.mu.Unlock()
	if wrote == nil {
		return
	}
	select {
	case wrote <- struct{}{}:
	default:
	}
}

// maxIdleQueueCap is the largest send queue backing array a connection
// keeps once drained.
const maxIdleQueueCap = 64

// takeBatch moves the queued frames into batch, takes the close frame once
// the queue is empty (after which no writer starts again), and a due ping.
// When there is nothing to write it ends the writer's run (c.writing) in the
// same critical section, so work queued after it starts a new writer.
func (c *Conn) takeBatch(batch []*Frame) ([]*Frame, *Frame, *Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hasWorkLocked() {
		c.writing = false
		return batch, nil, nil
	}
	batch = append(batch, c.queue...)
	if cap(c.queue) > maxIdleQueueCap {
		c.queue = nil // a burst's backing array is not kept by an idle connection
	} else {
		clear(c.queue)
		c.queue = c.queue[:0]
	}
	var ping *Frame
	if c.pingDue {
		c.pingDue = false
		ping = newFrame(opPing, nil)
	}
	if c.closeFrame != nil && !c.closeTaken {
		c.closeTaken = true
		c.writerEnded = true
		return batch, c.closeFrame, ping
	}
	return batch, nil, ping
}

// awaitPeerClose waits for the peer's close frame (or for the reader to stop,
// or the timeout) after the host's close frame went out, then drops the TCP
// connection: the server closes first (RFC 6455 §7.1.1).
func (c *Conn) awaitPeerClose(timeout time.Duration) {
	c.mu.Lock()
	var wait chan struct{}
	if !c.peerClosing && !c.readerDone {
		c.closeWait = make(chan struct{})
		wait = c.closeWait
	}
	c.mu.Unlock()
	if wait != nil {
		t := time.NewTimer(timeout)
		select {
		case <-wait:
		case <-t.C:
		}
		t.Stop()
	}
	_ = c.raw.Close()
	c.unpark() // a parked reader learns of it
}

// writeScratch is a writer run's batch and buffer list, kept in a pool so
// that a connection's writer, which starts afresh whenever there is
// something to write, does not allocate them each time. Owned by one
// writer run between Get and Put.
type writeScratch struct {
	batch []*Frame
	bufs  net.Buffers
}

func (s *Server) writeScratch() *writeScratch {
	if ws, ok := s.scratch.Get().(*writeScratch); ok {
		return ws
	}
	return &writeScratch{}
}
