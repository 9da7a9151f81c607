//go:build !linux

package host

// park: no parking here (and no idle wait: canWait never holds).
func (r *reader) park() { go r.wait() }

// unpark: nothing is parked here.
func (c *Conn) unpark() {}

// idlePoller: readers do not park here.
type idlePoller struct{}

func (*idlePoller) close() {}
