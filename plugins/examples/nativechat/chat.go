package nativechat

import (
	"context"
	"slices"
	"strings"

	"github.com/wshost/wshost/host"
)

const (
	defaultRoom = "general"
	maxNick     = 32
	maxRoom     = 64
)

// Handler is the chat. It keeps no state of its own (nicks and rooms are
// connection attributes in the host), so it is safe for concurrent use.
type Handler struct{}

var _ host.Handler = Handler{}

func send(ep *host.Endpoint, id host.ConnID, parts ...string) error {
	return ep.Send(id, []byte(strings.Join(parts, "")), false)
}

func broadcast(ep *host.Endpoint, room string, except host.ConnID, parts ...string) error {
	_, err := ep.Broadcast(room, []byte(strings.Join(parts, "")), false, except)
	return err
}

// Open implements host.Handler.
func (Handler) Open(_ context.Context, ep *host.Endpoint, id host.ConnID) error {
	nick, err := ep.ConnInfo(id, "query.nick")
	if err != nil || !validName(nick, maxNick) {
		nick = guest(id)
	}
	room, err := ep.ConnInfo(id, "query.room")
	if err != nil || !validName(room, maxRoom) {
		room = defaultRoom
	}
	_ = ep.ConnSet(id, "nick", nick)
	_ = ep.ConnSet(id, "room", room)
	_ = ep.Join(id, room)
	_ = send(ep, id, "* welcome ", nick, "! you are in #", room, ". commands: /nick NAME, /join ROOM, /who")
	_ = broadcast(ep, room, id, "* ", nick, " joined #", room)
	return nil
}

// Message implements host.Handler.
func (Handler) Message(_ context.Context, ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
	if binary {
		return send(ep, id, "! binary messages are not supported")
	}
	text := trim(string(msg))
	if text == "" {
		return nil
	}
	nick, room := whoami(ep, id)
	if text[0] != '/' {
		return broadcast(ep, room, 0, "[", room, "] ", nick, ": ", text)
	}
	cmd, arg := text, ""
	if i := strings.IndexAny(text, " \t\n\v\f\r"); i >= 0 {
		cmd, arg = text[:i], trim(text[i:])
	}
	switch cmd {
	case "/nick":
		if !validName(arg, maxNick) {
			return send(ep, id, "! invalid nick: use 1-32 letters, digits, _ or -")
		}
		_ = ep.ConnSet(id, "nick", arg)
		return broadcast(ep, room, 0, "* ", nick, " is now known as ", arg)
	case "/join":
		if !validName(arg, maxRoom) {
			return send(ep, id, "! invalid room: use 1-64 letters, digits, _ or -")
		}
		if arg == room {
			return send(ep, id, "! you are already in #", room)
		}
		_ = ep.Leave(id, room)
		_ = broadcast(ep, room, id, "* ", nick, " left #", room)
		_ = ep.Join(id, arg)
		_ = ep.ConnSet(id, "room", arg)
		return broadcast(ep, arg, 0, "* ", nick, " joined #", arg)
	case "/who":
		var nicks []string
		for _, m := range ep.RoomMembers(room, nil) {
			if n, err := ep.ConnInfo(m, "attr.nick"); err == nil {
				nicks = append(nicks, n)
			}
		}
		slices.Sort(nicks)
		return send(ep, id, "* in #", room, ": ", strings.Join(nicks, ", "))
	}
	return send(ep, id, "! unknown command: ", cmd)
}

// Error implements host.Handler.
func (Handler) Error(_ context.Context, ep *host.Endpoint, id host.ConnID, kind host.ErrorKind, text string) {
	ep.Logger().Warn("connection error", "conn", id, "kind", kind, "text", text)
}

// Close implements host.Handler.
func (Handler) Close(_ context.Context, ep *host.Endpoint, id host.ConnID, _ int, _ string) {
	nick := nickOf(ep, id)
	rooms, _ := ep.ConnRooms(id, nil)
	for _, room := range rooms {
		_ = broadcast(ep, room, id, "* ", nick, " left #", room)
	}
}

func whoami(ep *host.Endpoint, id host.ConnID) (nick, room string) {
	room, err := ep.ConnInfo(id, "attr.room")
	if err != nil || room == "" {
		room = defaultRoom
	}
	return nickOf(ep, id), room
}

func nickOf(ep *host.Endpoint, id host.ConnID) string {
	nick, err := ep.ConnInfo(id, "attr.nick")
	if err != nil || nick == "" {
		nick = guest(id)
	}
	return nick
}

func guest(id host.ConnID) string { return "guest-" + id.String() }

// validName reports whether s is 1 to max characters of [A-Za-z0-9_-].
func validName(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// trim removes leading and trailing ASCII whitespace only, as every chat
// implementation does.
func trim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == ' ' || '\t' <= r && r <= '\r' })
}
