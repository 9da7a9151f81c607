package cluster

// Crash drops the node's NATS connection without a goodbye, as a killed
// process would; the other nodes notice it only by its silence.
func (n *Node) Crash() {
	if n.closed.Swap(true) {
		return
	}
	n.cancel()
	n.nc.Close()
	n.wg.Wait()
}
