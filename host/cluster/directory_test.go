package cluster

import (
	"testing"
	"time"

	"github.com/wshost/wshost/host"
)

func TestDirectorySnapshotThenEvents(t *testing.T) {
	d := newDirectory()
	now := time.Now()
	n := d.node(7, now)

	// Events that arrive before the snapshot are kept, and ask for one.
	if !d.event(n, dirEvent{Seq: 11, Op: "join", ID: 1, Room: "b"}) {
		t.Fatal("an event of an unsynced node did not ask for a snapshot")
	}
	n.syncing = true
	if d.event(n, dirEvent{Seq: 12, Op: "open", NS: "chat", ID: 2}) {
		t.Fatal("asked twice while a snapshot is on its way")
	}
	// The snapshot at 10: connection 1 in room a. Event 11 (join b) and 12
	// (open 2) come after it; an event at or below 10 would be ignored.
	if d.restore(n, 10, []snapConn{{NS: "chat", ID: 1, Attrs: host.Attrs{{Key: "nick", Val: "al"}}, Rooms: []string{"a"}}}) {
		t.Fatal("restore saw a gap")
	}
	if got := d.size("chat", "a") + d.size("chat", "b"); got != 2 {
		t.Errorf("rooms a+b hold %d, want 2", got)
	}
	if d.conn("chat", 2) == nil || d.conn("other", 1) != nil {
		t.Error("connections or their namespaces are wrong")
	}
	if rc := d.conn("chat", 1); rc == nil || rc.attrs[0] != (host.Attr{Key: "nick", Val: "al"}) {
		t.Error("attributes of the snapshot lost")
	}

	// In order: applied. Seen already: ignored. A gap: a new snapshot.
	if d.event(n, dirEvent{Seq: 13, Op: "leave", ID: 1, Room: "a"}) || d.size("chat", "a") != 0 {
		t.Error("leave not applied")
	}
	if d.event(n, dirEvent{Seq: 13, Op: "join", ID: 1, Room: "a"}) || d.size("chat", "a") != 0 {
		t.Error("a repeated event was applied")
	}
	if !d.event(n, dirEvent{Seq: 15, Op: "close", ID: 1}) {
		t.Error("a gap did not ask for a snapshot")
	}
	n.syncing = true // as the Node does when asked
	if d.heard(n, 15) {
		t.Error("a heartbeat asked again while unsynced and syncing")
	}

	// A node silent past the cutoff is forgotten with its connections.
	if gone := d.expire(now.Add(time.Second)); len(gone) != 1 || gone[0] != 7 {
		t.Fatalf("expired %v", gone)
	}
	if len(d.conns) != 0 || len(d.rooms) != 0 {
		t.Errorf("left behind: %d connections, %d rooms", len(d.conns), len(d.rooms))
	}
}

func TestHeartbeatRevealsLostEvents(t *testing.T) {
	d := newDirectory()
	n := d.node(3, time.Now())
	n.syncing = true
	d.restore(n, 5, nil)
	if d.heard(n, 5) {
		t.Error("a heartbeat at the applied number asked for a snapshot")
	}
	if !d.heard(n, 6) {
		t.Error("a heartbeat past the applied number did not")
	}
}

func TestSeenSeqsCountsGaps(t *testing.T) {
	var s seenSeqs
	k := seenKey{node: 1}
	for _, c := range []struct {
		seq, want uint64
	}{{5, 0}, {6, 0}, {9, 2}, {1, 0}, {2, 0}} { // a first number is a baseline; going back is a fresh start
		if got := s.missed(k, c.seq, 0); got != c.want {
			t.Errorf("seq %d: missed %d, want %d", c.seq, got, c.want)
		}
	}
}
