// chat: wshost's example chat plugin in C++, served at /ws/chat.
//
// The same chat as the Go example, byte for byte: ../chat/README.md is its
// specification. Connect to /ws/chat?nick=NAME&room=ROOM (both optional).
// Text messages are relayed to everyone in the sender's room as
// "[ROOM] NICK: TEXT"; /nick NAME, /join ROOM and /who change the nick, move
// to another room and list the room.
//
// The plugin keeps no state of its own: the nick and the room are connection
// attributes held by the host, read on every event, because several
// instances of the plugin serve connections at the same time.
#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "wshost.h"

namespace {

using namespace std::literals;
using wshost::conn_id;

constexpr std::string_view default_room = "general";
constexpr size_t max_nick = 32;
constexpr size_t max_room = 64;

// Buffers reused from event to event (an instance runs one callback at a
// time, so they need no locking and save an allocation per event).
std::string payload, nick_buf, room_buf, out;

// line builds a message from parts in out.
std::string_view line(std::initializer_list<std::string_view> parts) {
	out.clear();
	for (auto p : parts)
		out += p;
	return out;
}

// say and tell send a text message to one connection or a room; the result
// is what on_message returns: 0, or 1 when the host refused.
int32_t say(conn_id c, std::string_view msg) { return wshost::send_text(c, msg) < 0; }
int32_t tell(std::string_view room, std::string_view msg, conn_id except) {
	return wshost::broadcast_text(room, msg, except) < 0;
}

// is_space reports whether b is ASCII whitespace: space, \t, \n, \v, \f, \r.
constexpr bool is_space(char b) { return b == ' ' || (b >= '\t' && b <= '\r'); }

// trim removes leading and trailing ASCII whitespace (only: not Unicode
// spaces, so every implementation of the chat trims the same bytes).
std::string_view trim(std::string_view s) {
	while (!s.empty() && is_space(s.front()))
		s.remove_prefix(1);
	while (!s.empty() && is_space(s.back()))
		s.remove_suffix(1);
	return s;
}

// valid_name reports whether s is 1 to max characters of [A-Za-z0-9_-].
bool valid_name(std::string_view s, size_t max) {
	if (s.empty() || s.size() > max)
		return false;
	return std::all_of(s.begin(), s.end(), [](char b) {
		return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '-';
	});
}

std::string decimal(uint64_t v) {
	char buf[20];
	return std::string(buf, wshost_fmt_u64(buf, v));
}

std::string guest(conn_id c) { return "guest-" + decimal(c); }

// nick_of reads the connection's nick from the host, falling back to the
// guest nick on_open would have chosen.
std::string nick_of(conn_id c) {
	if (wshost::conn_info(c, "attr.nick", nick_buf) < 0 || nick_buf.empty())
		return guest(c);
	return nick_buf;
}

std::string room_of(conn_id c) {
	if (wshost::conn_info(c, "attr.room", room_buf) < 0 || room_buf.empty())
		return std::string(default_room);
	return room_buf;
}

int32_t who(conn_id c, std::string_view room) {
	std::vector<conn_id> members;
	wshost::room_members(room, members);
	std::vector<std::string> nicks;
	nicks.reserve(members.size());
	std::string nick;
	for (conn_id m : members)
		if (wshost::conn_info(m, "attr.nick", nick) >= 0)
			nicks.push_back(nick); // a member without a nick is left out
	std::sort(nicks.begin(), nicks.end()); // by bytes
	line({"* in #", room, ": "});
	for (size_t i = 0; i < nicks.size(); i++) {
		if (i > 0)
			out += ", ";
		out += nicks[i];
	}
	return say(c, out);
}

} // namespace

int32_t wshost_on_open(uint64_t c) {
	std::string nick, room;
	if (wshost::conn_info(c, "query.nick", nick) < 0 || !valid_name(nick, max_nick))
		nick = guest(c);
	if (wshost::conn_info(c, "query.room", room) < 0 || !valid_name(room, max_room))
		room = default_room;
	wshost::conn_set(c, "nick", nick);
	wshost::conn_set(c, "room", room);
	wshost::join(c, room);
	say(c, line({"* welcome ", nick, "! you are in #", room, ". commands: /nick NAME, /join ROOM, /who"}));
	tell(room, line({"* ", nick, " joined #", room}), c);
	return 0;
}

int32_t wshost_on_message(uint64_t c, uint32_t len, uint32_t flags) {
	if (wshost::event_read(len, payload) < 0)
		return 1;
	if (flags & WSHOST_FLAG_BINARY)
		return say(c, "! binary messages are not supported");
	std::string_view text = trim(payload);
	if (text.empty())
		return 0;
	const std::string nick = nick_of(c), room = room_of(c);
	if (text[0] != '/')
		return tell(room, line({"[", room, "] ", nick, ": ", text}), 0);

	std::string_view cmd = text, arg;
	auto space = std::find_if(text.begin(), text.end(), is_space);
	if (space != text.end()) {
		size_t i = space - text.begin();
		cmd = text.substr(0, i);
		arg = trim(text.substr(i));
	}
	if (cmd == "/nick") {
		if (!valid_name(arg, max_nick))
			return say(c, "! invalid nick: use 1-32 letters, digits, _ or -");
		wshost::conn_set(c, "nick", arg);
		return tell(room, line({"* ", nick, " is now known as ", arg}), 0);
	}
	if (cmd == "/join") {
		if (!valid_name(arg, max_room))
			return say(c, "! invalid room: use 1-64 letters, digits, _ or -");
		if (arg == room)
			return say(c, line({"! you are already in #", room}));
		wshost::leave(c, room);
		tell(room, line({"* ", nick, " left #", room}), c);
		wshost::join(c, arg);
		wshost::conn_set(c, "room", arg);
		return tell(arg, line({"* ", nick, " joined #", arg}), 0);
	}
	if (cmd == "/who")
		return who(c, room);
	return say(c, line({"! unknown command: ", cmd}));
}

void wshost_on_close(uint64_t c, int32_t, uint32_t) {
	const std::string nick = nick_of(c);
	std::vector<std::string> rooms;
	wshost::conn_rooms(c, rooms);
	for (const auto &room : rooms)
		tell(room, line({"* ", nick, " left #", room}), c);
}

void wshost_on_error(uint64_t c, int32_t kind, uint32_t len) {
	std::string name;
	switch (kind) {
	case WSHOST_KIND_PROTOCOL: name = "protocol"; break;
	case WSHOST_KIND_SLOW: name = "slow"; break;
	case WSHOST_KIND_FAULT: name = "fault"; break;
	case WSHOST_KIND_IO: name = "io"; break;
	default: {
		char buf[21];
		name = "kind(" + std::string(buf, wshost_fmt_i64(buf, kind)) + ")";
	}
	}
	if (wshost::event_read(len, payload) < 0)
		payload.clear();
	wshost::log(WSHOST_LOG_WARN, line({"connection ", decimal(c), ": ", name, " error: ", payload}));
}
