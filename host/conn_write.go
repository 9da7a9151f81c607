package host

import (
	"net"
	"time"
)

// writeLoop is the connection's writer goroutine: it writes queued frames,
// coalesced into one writev per wake-up, pings the peer, and ends with the
// close frame once the queue drained.
func (c *Conn) writeLoop(cfg *Config) {
	defer close(c.writerDone)
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	pingFrame := newFrame(opPing, nil)

	var batch []*Frame
	var bufs net.Buffers
	for {
		var extra *Frame
		select {
		case <-c.wake:
		case <-ping.C:
			extra = pingFrame
		case <-c.readerGone:
			// The reader is gone; flush what is left (a close frame, say).
		}
		var closeFrame *Frame
		batch, closeFrame = c.takeBatch(batch)
		if extra != nil && closeFrame == nil {
			batch = append(batch, extra)
		}
		if closeFrame != nil {
			batch = append(batch, closeFrame)
		}
		if len(batch) == 0 {
			if c.readerDone() {
				return
			}
			continue
		}
		bufs = bufs[:0]
		n, size := 0, 0
		for _, f := range batch {
			bufs = append(bufs, f.wire(c.deflate))
			if f != extra && f != closeFrame {
				n++
				size += f.Len()
			}
		}
		_ = c.raw.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		written, err := bufs.WriteTo(c.raw)
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
		}
		c.mu.Unlock()
		if err != nil {
			_ = c.raw.Close()
			return
		}
		if n > 0 {
			select {
			case c.wrote <- struct{}{}:
			default:
			}
		}
		if closeFrame != nil {
			c.awaitPeerClose(cfg.CloseTimeout)
			return
		}
	}
}

// takeBatch moves the queued frames into batch and takes the close frame
// once the queue is empty.
func (c *Conn) takeBatch(batch []*Frame) ([]*Frame, *Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch = append(batch, c.queue...)
	clear(c.queue)
	c.queue = c.queue[:0]
	if c.closeFrame != nil && !c.closeTaken {
		c.closeTaken = true
		return batch, c.closeFrame
	}
	return batch, nil
}

// awaitPeerClose waits for the peer's close frame (or for the reader to stop,
// or the timeout) after the host's close frame went out, then drops the TCP
// connection: the server closes first (RFC 6455 §7.1.1).
func (c *Conn) awaitPeerClose(timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.peerClosed:
	case <-c.readerGone:
	case <-t.C:
	}
	_ = c.raw.Close()
}

func (c *Conn) readerDone() bool {
	select {
	case <-c.readerGone:
		return true
	default:
		return false
	}
}
