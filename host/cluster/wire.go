package cluster

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/wshost/wshost/host"
)

// subjects names a cluster's NATS subjects. A plain value.
//
//	NAME.room.NS.ROOM   a broadcast (NS and ROOM base64url-encoded)
//	NAME.node.N         a send or close for a connection of node N
//	NAME.dir.N          node N's directory events
//	NAME.sync.N         a request for node N's directory snapshot
//	NAME.hb             heartbeats and goodbyes
type subjects struct{ prefix string }

var token = base64.RawURLEncoding

func (s subjects) room(ns, room string) string {
	return s.prefix + ".room." + token.EncodeToString([]byte(ns)) + "." + token.EncodeToString([]byte(room))
}

func (s subjects) roomWildcard() string { return s.prefix + ".room.>" }

// parseRoom is room's inverse.
func (s subjects) parseRoom(subject string) (ns, room string, err error) {
	rest, ok := strings.CutPrefix(subject, s.prefix+".room.")
	if !ok {
		return "", "", fmt.Errorf("subject %q: not a room", subject)
	}
	a, b, ok := strings.Cut(rest, ".")
	if !ok {
		return "", "", fmt.Errorf("subject %q: not a room", subject)
	}
	nsb, err1 := token.DecodeString(a)
	roomb, err2 := token.DecodeString(b)
	if err1 != nil || err2 != nil {
		return "", "", fmt.Errorf("subject %q: bad encoding", subject)
	}
	return string(nsb), string(roomb), nil
}

func (s subjects) node(n uint16) string { return s.prefix + ".node." + strconv.Itoa(int(n)) }
func (s subjects) dir(n uint16) string  { return s.prefix + ".dir." + strconv.Itoa(int(n)) }
func (s subjects) dirAll() string       { return s.prefix + ".dir.*" }
func (s subjects) sync(n uint16) string { return s.prefix + ".sync." + strconv.Itoa(int(n)) }
func (s subjects) hb() string           { return s.prefix + ".hb" }

// A broadcast's payload: flags (bit 0: binary), the excepted id, the
// publishing node, its sequence number for the room, the message. The
// number lets a receiver count the broadcasts it missed.
const broadcastHeader = 1 + 8 + 2 + 8

// broadcast is a decoded broadcast. Its msg aliases the payload.
type broadcast struct {
	msg    []byte
	binary bool
	except host.ConnID
	node   uint16
	seq    uint64
}

func appendBroadcast(b []byte, bc broadcast) []byte {
	b = append(b, flagsOf(bc.binary))
	b = binary.LittleEndian.AppendUint64(b, uint64(bc.except))
	b = binary.LittleEndian.AppendUint16(b, bc.node)
	b = binary.LittleEndian.AppendUint64(b, bc.seq)
	return append(b, bc.msg...)
}

func parseBroadcast(b []byte) (broadcast, error) {
	if len(b) < broadcastHeader {
		return broadcast{}, fmt.Errorf("broadcast of %d bytes: too short", len(b))
	}
	return broadcast{
		msg:    b[broadcastHeader:],
		binary: b[0]&1 != 0,
		except: host.ConnID(binary.LittleEndian.Uint64(b[1:])),
		node:   binary.LittleEndian.Uint16(b[9:]),
		seq:    binary.LittleEndian.Uint64(b[11:]),
	}, nil
}

func flagsOf(binary bool) byte {
	if binary {
		return 1
	}
	return 0
}

// Operations for a connection of another node.
const (
	opSendText   = 1
	opSendBinary = 2
	opClose      = 3
)

// A node operation's payload: op, connection id, namespace length (one
// byte: endpoint names are at most 128 bytes, host.ValidName) and
// namespace, then the message (send) or the code and reason (close).
func appendNodeOp(b []byte, op byte, id host.ConnID, ns string, rest []byte) []byte {
	b = append(b, op)
	b = binary.LittleEndian.AppendUint64(b, uint64(id))
	b = append(b, byte(len(ns)))
	b = append(b, ns...)
	return append(b, rest...)
}

type nodeOp struct {
	op   byte
	id   host.ConnID
	ns   string
	rest []byte
}

func parseNodeOp(b []byte) (nodeOp, error) {
	if len(b) < 10 || len(b) < 10+int(b[9]) {
		return nodeOp{}, fmt.Errorf("node operation of %d bytes: too short", len(b))
	}
	n := int(b[9])
	return nodeOp{op: b[0], id: host.ConnID(binary.LittleEndian.Uint64(b[1:])), ns: string(b[10 : 10+n]), rest: b[10+n:]}, nil
}

// dirEvent is one change in a node's directory, numbered by Seq. JSON.
type dirEvent struct {
	Seq  uint64      `json:"s"`
	Op   string      `json:"o"` // open, close, join, leave, attr
	NS   string      `json:"n,omitempty"`
	ID   host.ConnID `json:"i"`
	Room string      `json:"r,omitempty"`
	Key  string      `json:"k,omitempty"`
	Val  string      `json:"v,omitempty"`
}

// heartbeat says a node is alive and how far its directory went. JSON.
type heartbeat struct {
	Node uint16 `json:"node"`
	Seq  uint64 `json:"seq"`
	Bye  bool   `json:"bye,omitempty"`
}

// snapshotChunk is part of a node's directory at Seq. JSON; Last marks the
// final chunk.
type snapshotChunk struct {
	Seq   uint64     `json:"seq"`
	Conns []snapConn `json:"conns"`
	Last  bool       `json:"last"`
}

type snapConn struct {
	NS    string      `json:"n"`
	ID    host.ConnID `json:"i"`
	Attrs host.Attrs  `json:"a,omitempty"`
	Rooms []string    `json:"r,omitempty"`
}
