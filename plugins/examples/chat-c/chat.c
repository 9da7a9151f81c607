/*
 * chat: wshost's example chat plugin in C, served at /ws/chat.
 *
 * The same chat as the Go example, byte for byte: ../chat/README.md is its
 * specification. Connect to /ws/chat?nick=NAME&room=ROOM (both optional).
 * Text messages are relayed to everyone in the sender's room as
 * "[ROOM] NICK: TEXT"; /nick NAME, /join ROOM and /who change the nick, move
 * to another room and list the room.
 *
 * The plugin keeps no state of its own: the nick and the room are connection
 * attributes held by the host, read on every event, because several
 * instances of the plugin serve connections at the same time.
 */
#include <stdlib.h>
#include <string.h>

#include "wshost.h"

#define DEFAULT_ROOM "general"
#define MAX_NICK 32
#define MAX_ROOM 64

/* str is a string that is not NUL-terminated: what the host deals in. */
typedef struct {
	const char *p;
	size_t n;
} str;

#define S(lit) ((str){lit, sizeof(lit) - 1})

static str of(const wshost_buf *b) { return (str){b->data, b->len}; }
static int eq(str a, str b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }

/* Buffers reused from event to event (an instance runs one callback at a
 * time). */
static wshost_buf event;     /* the event's payload */
static wshost_buf nick_buf;  /* the connection's nick */
static wshost_buf room_buf;  /* the connection's room */
static wshost_buf scratch;   /* room_members, conn_rooms, members' nicks */
static wshost_buf out;       /* the message being built */
static wshost_buf names;     /* /who: the members' nicks */
static char guest_buf[32];   /* "guest-" and an id */

/* line builds a message from parts in out: LINE(S("* "), nick, ...). */
#define LINE(...) line((const str[]){__VA_ARGS__}, sizeof((const str[]){__VA_ARGS__}) / sizeof(str))

/* append adds s at the end of b. */
static void append(wshost_buf *b, str s) {
	if (b->len + s.n > b->cap || !b->data) {
		size_t want = b->len + s.n;
		if (want < 2 * (size_t)b->cap)
			want = 2 * (size_t)b->cap;
		if (wshost_buf_reserve(b, want) < 0)
			abort(); /* out of memory: a trap, as in Go */
	}
	memcpy(b->data + b->len, s.p, s.n);
	b->len += (uint32_t)s.n;
}

static str line(const str *parts, size_t n) {
	out.len = 0;
	for (size_t i = 0; i < n; i++)
		append(&out, parts[i]);
	return of(&out);
}

/* send and broadcast a text message; the result is what on_message returns:
 * 0, or 1 when the host refused (a handler error). */
static int32_t say(uint64_t c, str msg) { return wshost_send_text(c, msg.p, msg.n) < 0; }
static int32_t tell(str room, str msg, uint64_t except) {
	return wshost_broadcast_text(room.p, room.n, msg.p, msg.n, except) < 0;
}

/* is_space reports whether b is ASCII whitespace: space, \t, \n, \v, \f, \r. */
static int is_space(unsigned char b) { return b == ' ' || (b >= '\t' && b <= '\r'); }

/* trim removes leading and trailing ASCII whitespace (only). */
static str trim(str s) {
	while (s.n > 0 && is_space((unsigned char)s.p[0]))
		s.p++, s.n--;
	while (s.n > 0 && is_space((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

/* valid_name reports whether s is 1 to max characters of [A-Za-z0-9_-]. */
static int valid_name(str s, size_t max) {
	if (s.n == 0 || s.n > max)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char b = (unsigned char)s.p[i];
		if (!((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '-'))
			return 0;
	}
	return 1;
}

static str guest(uint64_t c) {
	memcpy(guest_buf, "guest-", 6);
	return (str){guest_buf, 6 + wshost_fmt_u64(guest_buf + 6, c)};
}

/* info reads key of connection c into b; 1 when it is set. */
static int info(wshost_buf *b, uint64_t c, const char *key) {
	return wshost_buf_conn_info(b, c, key, strlen(key)) >= 0;
}

/* nick_of reads the connection's nick from the host, falling back to the
 * guest nick on_open would have chosen. */
static str nick_of(uint64_t c) {
	if (!info(&nick_buf, c, "attr.nick") || nick_buf.len == 0)
		return guest(c);
	return of(&nick_buf);
}

static str room_of(uint64_t c) {
	if (!info(&room_buf, c, "attr.room") || room_buf.len == 0)
		return S(DEFAULT_ROOM);
	return of(&room_buf);
}

int32_t wshost_on_open(uint64_t c) {
	str nick = S(""), room = S("");
	if (info(&nick_buf, c, "query.nick"))
		nick = of(&nick_buf);
	if (!valid_name(nick, MAX_NICK))
		nick = guest(c);
	if (info(&room_buf, c, "query.room"))
		room = of(&room_buf);
	if (!valid_name(room, MAX_ROOM))
		room = S(DEFAULT_ROOM);
	wshost_conn_set(c, "nick", 4, nick.p, (uint32_t)nick.n);
	wshost_conn_set(c, "room", 4, room.p, (uint32_t)room.n);
	wshost_join(c, room.p, (uint32_t)room.n);
	say(c, LINE(S("* welcome "), nick, S("! you are in #"), room,
	            S(". commands: /nick NAME, /join ROOM, /who")));
	tell(room, LINE(S("* "), nick, S(" joined #"), room), c);
	return 0;
}

/* compare orders strings by bytes. */
static int compare(const void *a, const void *b) {
	const str *x = (const str *)a, *y = (const str *)b;
	int d = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
	return d ? d : (x->n > y->n) - (x->n < y->n);
}

/* who sends c the sorted nicks of room's members. */
static int32_t who(uint64_t c, str room) {
	int32_t n = wshost_buf_room_members(&scratch, room.p, room.n);
	size_t count = n > 0 ? (size_t)n : 0, found = 0;
	uint64_t *ids = malloc(count * sizeof *ids + 1);
	size_t *offsets = malloc(count * sizeof *offsets + 1);
	str *nicks = malloc(count * sizeof *nicks + 1);
	if (!ids || !offsets || !nicks)
		abort();
	for (size_t i = 0; i < count; i++)
		ids[i] = wshost_le64(scratch.data + 8 * i);
	names.len = 0; /* the nicks, one after the other */
	for (size_t i = 0; i < count; i++) {
		if (!info(&scratch, ids[i], "attr.nick"))
			continue; /* a member without a nick is left out */
		offsets[found] = names.len;
		nicks[found++].n = scratch.len;
		append(&names, of(&scratch));
	}
	for (size_t i = 0; i < found; i++)
		nicks[i].p = names.data + offsets[i];
	qsort(nicks, found, sizeof *nicks, compare);
	LINE(S("* in #"), room, S(": "));
	for (size_t i = 0; i < found; i++) {
		if (i > 0)
			append(&out, S(", "));
		append(&out, nicks[i]);
	}
	free(ids);
	free(offsets);
	free(nicks);
	return say(c, of(&out));
}

int32_t wshost_on_message(uint64_t c, uint32_t len, uint32_t flags) {
	if (wshost_buf_event(&event, len) < 0)
		return 1;
	if (flags & WSHOST_FLAG_BINARY)
		return say(c, S("! binary messages are not supported"));
	str text = trim(of(&event));
	if (text.n == 0)
		return 0;
	str nick = nick_of(c), room = room_of(c);
	if (text.p[0] != '/')
		return tell(room, LINE(S("["), room, S("] "), nick, S(": "), text), 0);

	str cmd = text, arg = S("");
	for (size_t i = 0; i < text.n; i++) {
		if (is_space((unsigned char)text.p[i])) {
			cmd.n = i;
			arg = trim((str){text.p + i, text.n - i});
			break;
		}
	}
	if (eq(cmd, S("/nick"))) {
		if (!valid_name(arg, MAX_NICK))
			return say(c, S("! invalid nick: use 1-32 letters, digits, _ or -"));
		wshost_conn_set(c, "nick", 4, arg.p, (uint32_t)arg.n);
		return tell(room, LINE(S("* "), nick, S(" is now known as "), arg), 0);
	}
	if (eq(cmd, S("/join"))) {
		if (!valid_name(arg, MAX_ROOM))
			return say(c, S("! invalid room: use 1-64 letters, digits, _ or -"));
		if (eq(arg, room))
			return say(c, LINE(S("! you are already in #"), room));
		wshost_leave(c, room.p, (uint32_t)room.n);
		tell(room, LINE(S("* "), nick, S(" left #"), room), c);
		wshost_join(c, arg.p, (uint32_t)arg.n);
		wshost_conn_set(c, "room", 4, arg.p, (uint32_t)arg.n);
		return tell(arg, LINE(S("* "), nick, S(" joined #"), arg), 0);
	}
	if (eq(cmd, S("/who")))
		return who(c, room);
	return say(c, LINE(S("! unknown command: "), cmd));
}

void wshost_on_close(uint64_t c, int32_t code, uint32_t len) {
	(void)code, (void)len;
	str nick = nick_of(c);
	if (wshost_buf_conn_rooms(&scratch, c) <= 0)
		return;
	/* nick may point into nick_buf, rooms into scratch: both stay put */
	size_t start = 0;
	for (size_t i = 0; i < scratch.len; i++) {
		if (scratch.data[i] != '\n')
			continue;
		str room = {scratch.data + start, i - start};
		tell(room, LINE(S("* "), nick, S(" left #"), room), c);
		start = i + 1;
	}
}

void wshost_on_error(uint64_t c, int32_t kind, uint32_t len) {
	char id[24], k[24];
	str name;
	switch (kind) {
	case WSHOST_KIND_PROTOCOL: name = S("protocol"); break;
	case WSHOST_KIND_SLOW: name = S("slow"); break;
	case WSHOST_KIND_FAULT: name = S("fault"); break;
	case WSHOST_KIND_IO: name = S("io"); break;
	default:
		memcpy(k, "kind(", 5);
		name = (str){k, 5 + wshost_fmt_i64(k + 5, kind)};
		k[name.n++] = ')';
	}
	str text = S("");
	if (wshost_buf_event(&event, len) >= 0)
		text = of(&event);
	str msg = LINE(S("connection "), ((str){id, wshost_fmt_u64(id, c)}), S(": "), name, S(" error: "), text);
	wshost_log_text(WSHOST_LOG_WARN, msg.p, msg.n);
}
