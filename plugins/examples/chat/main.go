// Command chat is wshost's example chat plugin, served at /ws/chat.
//
// Connect to /ws/chat?nick=NAME&room=ROOM (both optional). Text messages are
// relayed to everyone in the sender's room as "[ROOM] NICK: TEXT"; the
// commands /nick NAME, /join ROOM and /who change the nick, move to another
// room and list the room. README.md states the behaviour exactly.
//
// The plugin keeps no state of its own: the nick and the room are connection
// attributes held by the host, read on every event, because several
// instances of the plugin serve connections at the same time.
package main

import (
	"slices"

	wshost "github.com/wshost/wshost/sdk/go"
)

const (
	defaultRoom = "general"
	maxNick     = 32
	maxRoom     = 64
)

func init() {
	wshost.Handle(wshost.Handlers{
		Open:    open,
		Message: message,
		Close:   closed,
		Error:   failed,
	})
}

func main() {} // never run: a plugin is a WASI reactor

// out is the buffer outgoing messages are built in, reused from message to
// message (an instance runs one handler at a time).
var out []byte

// line builds a message from parts in out.
func line(parts ...string) []byte {
	out = out[:0]
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func open(c wshost.ConnID) error {
	nick, err := wshost.ConnInfo(c, "query.nick")
	if err != nil || !validName(nick, maxNick) {
		nick = guest(c)
	}
	room, err := wshost.ConnInfo(c, "query.room")
	if err != nil || !validName(room, maxRoom) {
		room = defaultRoom
	}
	wshost.ConnSet(c, "nick", nick)
	wshost.ConnSet(c, "room", room)
	wshost.Join(c, room)
	wshost.Send(c, line("* welcome ", nick, "! you are in #", room, ". commands: /nick NAME, /join ROOM, /who"))
	wshost.Broadcast(room, line("* ", nick, " joined #", room), false, c)
	return nil
}

func message(c wshost.ConnID, data []byte, binary bool) error {
	if binary {
		return wshost.Send(c, line("! binary messages are not supported"))
	}
	text := trim(string(data))
	if text == "" {
		return nil
	}
	nick, room := whoami(c)
	if text[0] != '/' {
		_, err := wshost.Broadcast(room, line("[", room, "] ", nick, ": ", text), false, 0)
		return err
	}
	cmd, arg := text, ""
	if i := indexSpace(text); i >= 0 {
		cmd, arg = text[:i], trim(text[i:])
	}
	switch cmd {
	case "/nick":
		if !validName(arg, maxNick) {
			return wshost.Send(c, line("! invalid nick: use 1-32 letters, digits, _ or -"))
		}
		wshost.ConnSet(c, "nick", arg)
		_, err := wshost.Broadcast(room, line("* ", nick, " is now known as ", arg), false, 0)
		return err
	case "/join":
		if !validName(arg, maxRoom) {
			return wshost.Send(c, line("! invalid room: use 1-64 letters, digits, _ or -"))
		}
		if arg == room {
			return wshost.Send(c, line("! you are already in #", room))
		}
		wshost.Leave(c, room)
		wshost.Broadcast(room, line("* ", nick, " left #", room), false, c)
		wshost.Join(c, arg)
		wshost.ConnSet(c, "room", arg)
		_, err := wshost.Broadcast(arg, line("* ", nick, " joined #", arg), false, 0)
		return err
	case "/who":
		members, _ := wshost.RoomMembers(room)
		nicks := make([]string, 0, len(members))
		for _, m := range members {
			if n, err := wshost.ConnInfo(m, "attr.nick"); err == nil {
				nicks = append(nicks, n)
			}
		}
		slices.Sort(nicks)
		out = append(append(append(out[:0], "* in #"...), room...), ": "...)
		for i, n := range nicks {
			if i > 0 {
				out = append(out, ", "...)
			}
			out = append(out, n...)
		}
		return wshost.Send(c, out)
	}
	return wshost.Send(c, line("! unknown command: ", cmd))
}

func closed(c wshost.ConnID, code int, reason string) {
	nick := nickOf(c)
	rooms, _ := wshost.ConnRooms(c)
	for _, room := range rooms {
		wshost.Broadcast(room, line("* ", nick, " left #", room), false, c)
	}
}

func failed(c wshost.ConnID, kind wshost.ErrorKind, text string) {
	wshost.Log(wshost.LevelWarn, "connection "+c.String()+": "+kind.String()+" error: "+text)
}

// whoami reads the connection's nick and room from the host, falling back to
// the defaults on_open would have chosen.
func whoami(c wshost.ConnID) (nick, room string) {
	room, err := wshost.ConnInfo(c, "attr.room")
	if err != nil || room == "" {
		room = defaultRoom
	}
	return nickOf(c), room
}

func nickOf(c wshost.ConnID) string {
	nick, err := wshost.ConnInfo(c, "attr.nick")
	if err != nil || nick == "" {
		nick = guest(c)
	}
	return nick
}

func guest(c wshost.ConnID) string { return "guest-" + c.String() }

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

// isSpace reports whether b is ASCII whitespace: space, \t, \n, \v, \f, \r.
func isSpace(b byte) bool { return b == ' ' || '\t' <= b && b <= '\r' }

// trim removes leading and trailing ASCII whitespace (only: not Unicode
// spaces, so every implementation of the chat trims the same bytes).
func trim(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func indexSpace(s string) int {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return i
		}
	}
	return -1
}
