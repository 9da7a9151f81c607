package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Endpoint is one served name, /ws/NAME, with its Handler, limits, rooms,
// state and live connections. It is the host API a Handler acts through;
// its methods are safe for concurrent use. Rooms, attributes and state live
// here, not in the Handler, so they survive a reload of the Handler's code.
type Endpoint struct {
	name    string
	srv     *Server
	handler Handler
	log     *slog.Logger
	limits  atomic.Pointer[Limits]
	conns   connTable
	state   stateStore

	handlerErrors atomic.Uint64
	stats         endpointStats
}

// Name is the endpoint's name: it is served at /ws/NAME.
func (ep *Endpoint) Name() string { return ep.name }

// Logger is the endpoint's logger, tagged with its name.
func (ep *Endpoint) Logger() *slog.Logger { return ep.log }

// Limits returns the limits in force.
func (ep *Endpoint) Limits() Limits { return *ep.limits.Load() }

// lim is Limits without the copy, for the per-message paths. The pointed-to
// value is never modified: SetLimits stores a new one.
func (ep *Endpoint) lim() *Limits { return ep.limits.Load() }

// SetLimits replaces the limits (a reload with a new manifest, say). Open
// connections keep the read and rate limits they started with.
func (ep *Endpoint) SetLimits(l Limits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	l = l.WithDefaults()
	ep.limits.Store(&l)
	return nil
}

// HandlerErrors counts Message calls that returned an error that is not a fault.
func (ep *Endpoint) HandlerErrors() uint64 { return ep.handlerErrors.Load() }

func (ep *Endpoint) conn(id ConnID) (*Conn, error) {
	if c := ep.conns.get(id); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("connection %d: %w", id, ErrNotFound)
}

// liveConn is conn for send and close, which tell a connection that is gone
// (ErrClosed: this server issued its id, which is never reused) from one that
// never was (ErrNotFound).
func (ep *Endpoint) liveConn(id ConnID) (*Conn, error) {
	c, err := ep.conn(id)
	if err != nil && ep.srv.ids.issued(id) {
		return nil, fmt.Errorf("connection %d is gone: %w", id, ErrClosed)
	}
	return c, err
}

// remote returns the cluster when id belongs to another node, else nil.
func (ep *Endpoint) remote(id ConnID) Cluster {
	if cl := ep.srv.cfg.Cluster; cl != nil && !ep.srv.ids.local(id) {
		return cl
	}
	return nil
}

// register adds c to the endpoint's live connections; false once it closed.
func (ep *Endpoint) register(c *Conn) bool {
	if !ep.conns.add(c) {
		return false
	}
	if cl := ep.srv.cfg.Cluster; cl != nil {
		cl.ConnOpened(ep.name, c)
	}
	return true
}

// forget removes c, after it left its rooms, for good.
func (ep *Endpoint) forget(c *Conn) {
	ep.conns.remove(c.id)
	if cl := ep.srv.cfg.Cluster; cl != nil {
		cl.ConnClosed(ep.name, c.id)
	}
}

// checkMessage applies the send checks: size, then UTF-8 for text.
func (ep *Endpoint) checkMessage(msg []byte, binary bool) error {
	if limit := ep.lim().MaxMessageBytes; len(msg) > limit {
		return fmt.Errorf("message of %d bytes, over the limit of %d: %w", len(msg), limit, ErrTooLarge)
	}
	if !binary && !utf8.Valid(msg) {
		return fmt.Errorf("text message is not valid UTF-8: %w", ErrBadArg)
	}
	return nil
}

// Send queues msg for one connection. msg is copied.
func (ep *Endpoint) Send(id ConnID, msg []byte, binary bool) error {
	if err := ep.checkMessage(msg, binary); err != nil {
		return err
	}
	if cl := ep.remote(id); cl != nil {
		return cl.SendRemote(ep.name, id, msg, binary)
	}
	c, err := ep.liveConn(id)
	if err != nil {
		return err
	}
	if err := c.enqueue(ep.srv.newMessageFrame(msg, binary)); err != nil {
		return fmt.Errorf("send to connection %d: %w", id, err)
	}
	return nil
}

// Broadcast queues msg, encoded once, for every member of room but except
// (0: nobody left out) and returns how many connections it was queued for.
func (ep *Endpoint) Broadcast(room string, msg []byte, binary bool, except ConnID) (int, error) {
	if err := checkRoom(room); err != nil {
		return 0, err
	}
	if err := ep.checkMessage(msg, binary); err != nil {
		return 0, err
	}
	return ep.srv.cfg.Broker.Publish(ep.name, room, ep.srv.newMessageFrame(msg, binary), except), nil
}

// checkRoom enforces the ABI's room names: 1 to 256 bytes without '\n'.
func checkRoom(room string) error {
	if len(room) == 0 || len(room) > 256 || strings.IndexByte(room, '\n') >= 0 {
		return fmt.Errorf("room name %q: must be 1 to 256 bytes without a newline: %w", room, ErrBadArg)
	}
	return nil
}

// Join adds the connection to room; joining twice is not an error.
func (ep *Endpoint) Join(id ConnID, room string) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	c, err := ep.conn(id)
	if err != nil {
		return err
	}
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	if c.roomsDone {
		// Its Close ran (or Open failed) and it left its rooms: a join now
		// would keep it in the room for good.
		return fmt.Errorf("join connection %d: %w", id, ErrClosed)
	}
	i, in := slices.BinarySearch(c.rooms, room)
	if in {
		return nil
	}
	if err := ep.srv.cfg.Broker.Join(ep.name, room, c); err != nil {
		return fmt.Errorf("join %q: %w", room, err)
	}
	c.rooms = slices.Insert(c.rooms, i, room)
	return nil
}

// Leave removes the connection from room; ErrNotFound if it was not a member.
func (ep *Endpoint) Leave(id ConnID, room string) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	c, err := ep.conn(id)
	if err != nil {
		return err
	}
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	i, in := slices.BinarySearch(c.rooms, room)
	if !in {
		return fmt.Errorf("connection %d is not in room %q: %w", id, room, ErrNotFound)
	}
	c.rooms = slices.Delete(c.rooms, i, i+1)
	if len(c.rooms) == 0 {
		c.rooms = nil
	}
	return ep.srv.cfg.Broker.Leave(ep.name, room, c)
}

// leaveAll takes c out of every room for good: later joins fail.
func (ep *Endpoint) leaveAll(c *Conn) {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	c.roomsDone = true
	for _, room := range c.rooms {
		if err := ep.srv.cfg.Broker.Leave(ep.name, room, c); err != nil {
			ep.log.Warn("leave on close", "conn", c.id, "room", room, "err", err)
		}
	}
	c.rooms = nil
}

// Close starts the closing handshake with code (1000 or 3000..4999) and a
// reason of at most 123 bytes of UTF-8.
func (ep *Endpoint) Close(id ConnID, code int, reason string) error {
	if !validAppCloseCode(code) {
		return fmt.Errorf("close code %d: must be 1000 or 3000..4999: %w", code, ErrBadArg)
	}
	return ep.closeConn(id, code, reason)
}

// closeConn starts the closing handshake of a live connection with a
// checked reason.
func (ep *Endpoint) closeConn(id ConnID, code int, reason string) error {
	if !utf8.ValidString(reason) {
		return fmt.Errorf("close reason is not valid UTF-8: %w", ErrBadArg)
	}
	if len(reason) > 123 {
		return fmt.Errorf("close reason of %d bytes, over 123: %w", len(reason), ErrTooLarge)
	}
	if cl := ep.remote(id); cl != nil {
		return cl.CloseRemote(ep.name, id, code, reason)
	}
	c, err := ep.liveConn(id)
	if err != nil {
		return err
	}
	if err := c.startClose(code, reason, 0, ""); err != nil {
		return fmt.Errorf("close connection %d: %w", id, err)
	}
	return nil
}

// RoomSize is the number of members of room (0 for no such room).
func (ep *Endpoint) RoomSize(room string) int {
	return ep.srv.cfg.Broker.Size(ep.name, room)
}

// RoomMembers appends the ids of room's members to dst.
func (ep *Endpoint) RoomMembers(room string, dst []ConnID) []ConnID {
	return ep.srv.cfg.Broker.Members(ep.name, room, dst)
}

// ConnRooms appends the names of the connection's rooms, sorted, to dst.
func (ep *Endpoint) ConnRooms(id ConnID, dst []string) ([]string, error) {
	c, err := ep.conn(id)
	if err != nil {
		return dst, err
	}
	c.roomsMu.Lock()
	dst = append(dst, c.rooms...)
	c.roomsMu.Unlock()
	return dst, nil
}

// ConnInfo returns what the host knows of a connection under key: id,
// remote_addr, path, query.NAME, header.NAME, subprotocol or attr.NAME.
// ErrNotFound for an unknown connection or an absent key. Of a connection on
// another node of a cluster only id and attr.NAME are known.
func (ep *Endpoint) ConnInfo(id ConnID, key string) (string, error) {
	if cl := ep.remote(id); cl != nil {
		return remoteInfo(cl, ep.name, id, key)
	}
	c, err := ep.conn(id)
	if err != nil {
		return "", err
	}
	if v, ok := c.info.lookup(c, key); ok {
		return v, nil
	}
	return "", fmt.Errorf("connection info %q: %w", key, ErrNotFound)
}

func remoteInfo(cl Cluster, ns string, id ConnID, key string) (string, error) {
	if key == "id" {
		if cl.KnowsRemote(ns, id) {
			return id.String(), nil
		}
		return "", fmt.Errorf("connection %d: %w", id, ErrNotFound)
	}
	if name, ok := strings.CutPrefix(key, "attr."); ok {
		if v, ok := cl.RemoteAttr(ns, id, name); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("connection info %q of connection %d on node %d: %w", key, id, id.Node(), ErrNotFound)
}

func (in *connInfo) lookup(c *Conn, key string) (string, bool) {
	switch key {
	case "id":
		return c.id.String(), true
	case "remote_addr":
		return in.remoteAddr, true
	case "path":
		return in.path, true
	case "subprotocol":
		return in.subprotocol, true
	}
	prefix, name, ok := strings.Cut(key, ".")
	if !ok {
		return "", false
	}
	switch prefix {
	case "query":
		return queryValue(in.rawQuery, name)
	case "header":
		return headerValue(in.header, name)
	case "attr":
		return c.attr(name)
	}
	return "", false
}

// ConnSet sets attribute attr.KEY of a live connection; an empty val removes it.
func (ep *Endpoint) ConnSet(id ConnID, key, val string) error {
	c, err := ep.conn(id)
	if err != nil {
		return err
	}
	c.setAttr(key, val)
	if cl := ep.srv.cfg.Cluster; cl != nil {
		cl.ConnAttr(ep.name, id, key, val)
	}
	return nil
}

// StateGet returns the value under key. The slice must not be modified.
func (ep *Endpoint) StateGet(key string) ([]byte, error) {
	if st := ep.srv.cfg.State; st != nil {
		return st.Get(ep.name, key)
	}
	if v, ok := ep.state.get(key); ok {
		return v, nil
	}
	return nil, fmt.Errorf("state key %q: %w", key, ErrNotFound)
}

// StateSet stores a copy of val under key; ErrLimit past the state limit.
func (ep *Endpoint) StateSet(key string, val []byte) error {
	if st := ep.srv.cfg.State; st != nil {
		return st.Set(ep.name, key, val, ep.lim().StateBytes)
	}
	return ep.state.set(key, val, ep.Limits().StateBytes)
}

// StateDelete removes key; ErrNotFound if absent.
func (ep *Endpoint) StateDelete(key string) error {
	if st := ep.srv.cfg.State; st != nil {
		return st.Delete(ep.name, key)
	}
	return ep.state.delete(key)
}

// StateAdd atomically adds delta to the little-endian int64 under key (a
// missing key counts as 0) and returns the new value.
func (ep *Endpoint) StateAdd(key string, delta int64) (int64, error) {
	if st := ep.srv.cfg.State; st != nil {
		return st.Add(ep.name, key, delta, ep.lim().StateBytes)
	}
	return ep.state.add(key, delta, ep.Limits().StateBytes)
}

// dispatchMessage hands one message to the Handler and reports a fault.
func (ep *Endpoint) dispatchMessage(ctx context.Context, c *Conn, msg []byte, binary bool) {
	err := ep.callMessage(ctx, c, msg, binary)
	if err == nil {
		return
	}
	if !errors.Is(err, ErrFault) {
		ep.handlerErrors.Add(1)
		ep.log.Debug("message handler error", "conn", c.id, "err", err)
		return
	}
	ep.log.Warn("handler fault", "conn", c.id, "err", err)
	ep.callError(ctx, c, KindFault, err.Error())
	if ep.Limits().CloseOnFault {
		_ = c.startClose(CloseInternalError, "handler fault", 0, "")
	}
}

// deliverClose reports Error (when one applies) and Close, then forgets c.
func (ep *Endpoint) deliverClose(ctx context.Context, c *Conn, code int, reason string, kind ErrorKind, text string) {
	if kind != 0 {
		ep.callError(ctx, c, kind, text)
	}
	ep.callClose(ctx, c, code, reason)
	ep.leaveAll(c)
	c.clearAttrs()
	ep.forget(c)
}

// The call* methods run one Handler callback and recover from its panic: a
// panicking Handler must not take the process down, nor leave a connection
// half-finished (registered, in rooms, its writer waiting). A panic in Open
// or Message becomes an error wrapping ErrFault (500 for Open, Error(Fault)
// for Message); one in Error or Close is only logged, as ABI v1 says of an
// on_error that faults.

func (ep *Endpoint) callOpen(ctx context.Context, c *Conn) (err error) {
	defer ep.recoverPanic("Open", c.id, &err)
	return ep.handler.Open(ctx, ep, c.id)
}

func (ep *Endpoint) callMessage(ctx context.Context, c *Conn, msg []byte, binary bool) (err error) {
	defer ep.recoverPanic("Message", c.id, &err)
	return ep.handler.Message(ctx, ep, c.id, msg, binary)
}

func (ep *Endpoint) callError(ctx context.Context, c *Conn, kind ErrorKind, text string) {
	defer ep.recoverPanic("Error", c.id, nil)
	ep.handler.Error(ctx, ep, c.id, kind, text)
}

func (ep *Endpoint) callClose(ctx context.Context, c *Conn, code int, reason string) {
	defer ep.recoverPanic("Close", c.id, nil)
	ep.handler.Close(ctx, ep, c.id, code, reason)
}

// recoverPanic, deferred by the call* methods, turns a panic into a
// panicError in *errp (when errp is not nil) and logs it with its stack.
func (ep *Endpoint) recoverPanic(callback string, id ConnID, errp *error) {
	v := recover()
	if v == nil {
		return
	}
	ep.log.Error("handler panic", "conn", id, "callback", callback, "panic", v, "stack", string(debug.Stack()))
	if errp != nil {
		*errp = panicError{callback: callback, value: v}
	}
}

// panicError is a Handler callback's panic, reported as a fault. Its text,
// the Error payload, is "panic: CALLBACK: VALUE".
type panicError struct {
	callback string
	value    any
}

func (e panicError) Error() string { return fmt.Sprintf("panic: %s: %v", e.callback, e.value) }

func (e panicError) Unwrap() []error {
	if err, ok := e.value.(error); ok {
		return []error{ErrFault, err}
	}
	return []error{ErrFault}
}

// closeAll refuses new connections and closes the open ones with code.
func (ep *Endpoint) closeAll(code int, reason string) {
	for _, c := range ep.conns.close() {
		_ = c.startClose(code, reason, 0, "")
	}
}

// ConnIDs returns the ids of the endpoint's live connections, in no order.
func (ep *Endpoint) ConnIDs() []ConnID {
	conns := ep.conns.snapshot()
	ids := make([]ConnID, len(conns))
	for i, c := range conns {
		ids[i] = c.id
	}
	return ids
}
