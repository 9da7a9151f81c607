package cluster

import (
	"context"
	"encoding/json"
)

// maxBatchEvents bounds one directory message, well under NATS's default
// 1 MB payload limit.
const maxBatchEvents = 2000

// announceLocked numbers ev and queues it for the announcer. n.localMu is
// held, so numbers follow the order of the changes.
func (n *Node) announceLocked(ev dirEvent) {
	n.seq++
	ev.Seq = n.seq
	n.pending = append(n.pending, ev)
	select {
	case n.announce <- struct{}{}:
	default:
	}
}

// announceLoop is the announcer: it publishes the queued directory events
// in order, as many per NATS message as queued up meanwhile, so a burst of
// connections costs a few messages rather than one per change.
func (n *Node) announceLoop(ctx context.Context) {
	defer n.wg.Done()
	var batch []dirEvent
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.announce:
		}
		n.localMu.Lock()
		batch, n.pending = n.pending, batch[:0]
		n.localMu.Unlock()
		for len(batch) > 0 {
			part := batch[:min(len(batch), maxBatchEvents)]
			n.publishJSON(n.subj.dir(n.id), part)
			n.announced.Store(part[len(part)-1].Seq)
			batch = batch[len(part):]
		}
		clear(batch[:cap(batch)])
	}
}

// decodeEvents reads a directory message: a JSON array of events.
func decodeEvents(b []byte) ([]dirEvent, error) {
	var evs []dirEvent
	err := json.Unmarshal(b, &evs)
	return evs, err
}
