/*
 * The conformance plugin in C: every host function of ABI v1 behind the
 * text protocol of ../README.md, replying with the raw return codes, so
 * that plugins/crosslang_test.go checks this SDK (sdk/c/wshost.h) and the
 * host the same way for every language. It behaves like the Go probe
 * (host/plugin/testdata/probe), extra commands included.
 */
#include <stdlib.h>
#include <string.h>

#include "wshost.h"

typedef struct {
	const char *p;
	size_t n;
} str;

#define S(lit) ((str){lit, sizeof(lit) - 1})

static str of(const wshost_buf *b) { return (str){b->data, b->len}; }
static int eq(str a, str b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }
static str cstr(const char *s) { return (str){s, strlen(s)}; }

static wshost_buf event;   /* the event's payload */
static wshost_buf scratch; /* results of host functions */
static wshost_buf reply;   /* the reply being built */
static int reply_err;      /* the reply's result was an error: no values */

/* ---- bytes ---------------------------------------------------------- */

static void append(wshost_buf *b, str s) {
	if (b->len + s.n > b->cap || !b->data) {
		size_t want = b->len + s.n;
		if (want < 2 * (size_t)b->cap)
			want = 2 * (size_t)b->cap;
		if (wshost_buf_reserve(b, want) < 0)
			abort(); /* out of memory: a trap */
	}
	memcpy(b->data + b->len, s.p, s.n);
	b->len += (uint32_t)s.n;
}

static void append_i64(wshost_buf *b, int64_t v) {
	char d[21];
	append(b, (str){d, wshost_fmt_i64(d, v)});
}

static void append_u64(wshost_buf *b, uint64_t v) {
	char d[20];
	append(b, (str){d, wshost_fmt_u64(d, v)});
}

/* valid_utf8 is Go's utf8.Valid: no overlongs, surrogates or > U+10FFFF. */
static int valid_utf8(str s) {
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0;
	while (i < s.n) {
		unsigned char b = p[i];
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF;
		if (b < 0x80) {
			i++;
			continue;
		} else if (b >= 0xC2 && b <= 0xDF) {
			need = 1;
		} else if (b >= 0xE0 && b <= 0xEF) {
			need = 2;
			if (b == 0xE0)
				lo = 0xA0;
			if (b == 0xED)
				hi = 0x9F;
		} else if (b >= 0xF0 && b <= 0xF4) {
			need = 3;
			if (b == 0xF0)
				lo = 0x90;
			if (b == 0xF4)
				hi = 0x8F;
		} else {
			return 0;
		}
		if (s.n - i - 1 < need || p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= need; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xBF)
				return 0;
		i += need + 1;
	}
	return 1;
}

/* ---- the reply: "= RESULT [VALUE ...]", or "= ?" when it has none ---- */

static void r_int(int64_t n) {
	append(&reply, S("= "));
	append_i64(&reply, n);
}

/* r_code: what a function reporting only success or an error returned. */
static void r_code(int32_t rc) {
	r_int(rc < 0 ? rc : 0);
	reply_err = rc < 0;
}

/* r_count: a count or size, or the error. */
static void r_count(int64_t n, int32_t rc) {
	if (rc < 0)
		r_code(rc);
	else
		r_int(n);
}

/* r_value appends " v", or nothing when v is empty or the result was an
 * error; a v that is not valid UTF-8 is sent as hex:HEX. */
static void r_value(str v) {
	static const char digits[] = "0123456789abcdef";
	if (v.n == 0 || reply_err)
		return;
	append(&reply, S(" "));
	if (valid_utf8(v)) {
		append(&reply, v);
		return;
	}
	append(&reply, S("hex:"));
	for (size_t i = 0; i < v.n; i++) {
		unsigned char b = (unsigned char)v.p[i];
		char h[2] = {digits[b >> 4], digits[b & 15]};
		append(&reply, (str){h, 2});
	}
}

/* r_str: a buffer result, its size (or the error) and the value. */
static void r_str(int32_t rc, str v) {
	r_count((int64_t)v.n, rc);
	r_value(v);
}

/* ---- parsing ------------------------------------------------------- */

/* cut splits s around the first sep; without one, before is s. */
static int cut(str s, char sep, str *before, str *after) {
	const char *at = s.n ? memchr(s.p, sep, s.n) : NULL;
	if (!at) {
		*before = s;
		*after = S("");
		return 0;
	}
	*before = (str){s.p, (size_t)(at - s.p)};
	*after = (str){at + 1, s.n - (size_t)(at - s.p) - 1};
	return 1;
}

/* fields splits s at single spaces into exactly n fields, the last one
 * keeping any further spaces; 0 when s has fewer. */
static int fields(str s, int n, str *f) {
	for (int i = 0; i < n - 1; i++)
		if (!cut(s, ' ', &f[i], &s))
			return 0;
	f[n - 1] = s;
	return 1;
}

/* text maps the literal "-" to the empty string. */
static str text(str s) { return eq(s, S("-")) ? S("") : s; }

/* parse_u64 is Go's strconv.ParseUint(s, 10, bits). */
static int parse_u64(str s, int bits, uint64_t *out) {
	uint64_t v = 0, max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
	if (s.n == 0)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9 || v > (max - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return 1;
}

/* parse_i64 is Go's strconv.ParseInt(s, 10, bits). */
static int parse_i64(str s, int bits, int64_t *out) {
	int neg = 0;
	uint64_t v, limit = (uint64_t)1 << (bits - 1);
	if (s.n > 0 && (s.p[0] == '+' || s.p[0] == '-')) {
		neg = s.p[0] == '-';
		s.p++, s.n--;
	}
	if (!parse_u64(s, 64, &v) || v > limit || (!neg && v == limit))
		return 0;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 1;
}

/* conn parses a connection id. */
static int conn(str s, uint64_t *id) { return parse_u64(s, 64, id); }

/* ---- faults --------------------------------------------------------- */

static volatile uint64_t sink;

/* burn spins the CPU for n iterations without host calls. */
static void burn(int n) {
	for (int i = 0; i < n; i++)
		sink += (uint64_t)i ^ sink >> 3;
}

__attribute__((noreturn)) static void trap(void) { __builtin_trap(); }

__attribute__((noreturn)) static void loop(void) {
	for (;;)
		burn(1 << 16);
}

/* spin busy-loops for ms milliseconds of the host's clock. */
static int spin(int64_t ms) {
	int64_t start = wshost_now();
	if (start <= 0)
		return 0;
	for (;;) {
		int64_t now = wshost_now();
		if (now <= 0)
			return 0;
		if (now - start >= ms * 1000000)
			return 1;
		burn(1 << 12);
	}
}

/* grow allocates mib MiB and touches every page of it. */
static void grow(uint64_t mib) {
	if (mib == 0)
		return;
	size_t n = (size_t)mib << 20;
	volatile char *b = malloc(n);
	if (!b)
		trap(); /* like Go running out of memory */
	for (size_t i = 0; i < n; i += 4096)
		b[i] = 1;
	sink += (uint64_t)b[n / 2];
	free((void *)b);
}

/* fault_if traps when the connection was opened with ?fault=WHEN. */
static void fault_if(uint64_t c, str when) {
	if (wshost_buf_conn_info(&scratch, c, "query.fault", 11) >= 0 && eq(of(&scratch), when))
		trap();
}

/* ---- commands ------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) {
	const str *x = (const str *)a, *y = (const str *)b;
	int d = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
	return d ? d : (x->n > y->n) - (x->n < y->n);
}

/* sorted_rooms splits the names of a conn_rooms result (in scratch),
 * sorts them and appends them to b joined by ','. */
static void sorted_rooms(wshost_buf *b) {
	size_t count = 0, start = 0, k = 0;
	for (size_t i = 0; i < scratch.len; i++)
		count += scratch.data[i] == '\n';
	str *names = malloc(count * sizeof *names + 1);
	if (!names)
		abort();
	for (size_t i = 0; i < scratch.len; i++)
		if (scratch.data[i] == '\n') {
			names[k++] = (str){scratch.data + start, i - start};
			start = i + 1;
		}
	qsort(names, count, sizeof *names, cmp_str);
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			append(b, S(","));
		append(b, names[i]);
	}
	free(names);
}

static int64_t last_ok, last_limited; /* the last hostcalls of this instance */

#define OUTSIDE 0xFFFFFF00u /* past the end of any memory the host allows */
#define ADDR(a) ((void *)(uintptr_t)(a))

/* command runs one command, building its reply; it returns -1 when it
 * replied itself (echo) or failed without a reply, with *rc what
 * on_message returns. */
static int command(uint64_t c, str cmd, str rest, int32_t *rc) {
	str f[3];
	uint64_t id, u;
	int64_t n;

	if (eq(cmd, S("send")) || eq(cmd, S("sendbin"))) {
		if (!fields(rest, 2, f) || !conn(f[0], &id))
			return 0;
		str msg = text(f[1]);
		r_code(wshost_send(id, msg.p, (uint32_t)msg.n, eq(cmd, S("send")) ? WSHOST_FLAG_TEXT : WSHOST_FLAG_BINARY));
	} else if (eq(cmd, S("sendflags"))) {
		if (!fields(rest, 3, f) || !conn(f[0], &id) || !parse_u64(f[1], 32, &u))
			return 0;
		str msg = text(f[2]);
		r_int(wshost_send(id, msg.p, (uint32_t)msg.n, (uint32_t)u));
	} else if (eq(cmd, S("broadcast"))) {
		if (!fields(rest, 3, f) || !conn(f[1], &id))
			return 0;
		str room = text(f[0]), msg = text(f[2]);
		int32_t r = wshost_broadcast_text(room.p, room.n, msg.p, msg.n, id);
		r_count(r, r);
	} else if (eq(cmd, S("join")) || eq(cmd, S("leave"))) {
		if (!fields(rest, 2, f) || !conn(f[0], &id))
			return 0;
		str room = text(f[1]);
		r_code(eq(cmd, S("join")) ? wshost_join(id, room.p, (uint32_t)room.n)
		                          : wshost_leave(id, room.p, (uint32_t)room.n));
	} else if (eq(cmd, S("close"))) {
		if (!fields(rest, 3, f) || !conn(f[0], &id) || !parse_i64(f[1], 32, &n))
			return 0;
		str reason = text(f[2]);
		r_code(wshost_close(id, (int32_t)n, reason.p, (uint32_t)reason.n));
	} else if (eq(cmd, S("size"))) {
		str room = text(rest);
		int32_t r = wshost_room_size(room.p, (uint32_t)room.n);
		r_count(r, r);
	} else if (eq(cmd, S("members"))) {
		str room = text(rest);
		int32_t r = wshost_buf_room_members(&scratch, room.p, room.n);
		r_count(r, r);
		if (r > 0) {
			uint64_t *ids = malloc((size_t)r * sizeof *ids);
			if (!ids)
				abort();
			for (int32_t i = 0; i < r; i++)
				ids[i] = wshost_le64(scratch.data + 8 * i);
			qsort(ids, (size_t)r, sizeof *ids, cmp_u64);
			scratch.len = 0;
			for (int32_t i = 0; i < r; i++) {
				if (i > 0)
					append(&scratch, S(","));
				append_u64(&scratch, ids[i]);
			}
			free(ids);
			r_value(of(&scratch));
		}
	} else if (eq(cmd, S("rooms"))) {
		if (!conn(rest, &id))
			return 0;
		int32_t r = wshost_buf_conn_rooms(&scratch, id);
		r_count(r, r);
		if (r > 0) {
			wshost_buf list = {0};
			sorted_rooms(&list);
			r_value(of(&list));
			wshost_buf_free(&list);
		}
	} else if (eq(cmd, S("info"))) {
		if (!fields(rest, 2, f) || !conn(f[0], &id))
			return 0;
		str key = text(f[1]);
		int32_t r = wshost_buf_conn_info(&scratch, id, key.p, key.n);
		r_str(r, of(&scratch));
	} else if (eq(cmd, S("infobuf"))) {
		if (!fields(rest, 3, f) || !conn(f[0], &id) || !parse_u64(f[2], 20, &u))
			return 0;
		str key = text(f[1]);
		char *buf = malloc((size_t)u + 4);
		if (!buf)
			abort();
		memset(buf, '#', (size_t)u + 4);
		r_int(wshost_conn_info(id, key.p, (uint32_t)key.n, buf, (uint32_t)u));
		r_value((str){buf, (size_t)u + 4});
		free(buf);
	} else if (eq(cmd, S("set"))) {
		if (!fields(rest, 3, f) || !conn(f[0], &id))
			return 0;
		str key = text(f[1]), val = text(f[2]);
		r_code(wshost_conn_set(id, key.p, (uint32_t)key.n, val.p, (uint32_t)val.n));
	} else if (eq(cmd, S("sget"))) {
		str key = text(rest);
		r_str(wshost_buf_state_get(&scratch, key.p, key.n), of(&scratch));
	} else if (eq(cmd, S("sset"))) {
		if (!fields(rest, 2, f))
			return 0;
		str key = text(f[0]), val = text(f[1]);
		r_code(wshost_state_set(key.p, (uint32_t)key.n, val.p, (uint32_t)val.n));
	} else if (eq(cmd, S("sdel"))) {
		str key = text(rest);
		r_code(wshost_state_delete(key.p, (uint32_t)key.n));
	} else if (eq(cmd, S("sadd"))) {
		if (!fields(rest, 2, f) || !parse_i64(f[1], 64, &n))
			return 0;
		str key = text(f[0]);
		int64_t v = 0;
		int32_t r = wshost_state_add(key.p, (uint32_t)key.n, n, &v);
		r_code(r);
		if (r >= 0) {
			char d[21];
			r_value((str){d, wshost_fmt_i64(d, v)});
		}
	} else if (eq(cmd, S("config"))) {
		str key = text(rest);
		r_str(wshost_buf_config_get(&scratch, key.p, key.n), of(&scratch));
	} else if (eq(cmd, S("log"))) {
		if (!fields(rest, 2, f) || !parse_i64(f[0], 32, &n))
			return 0;
		str msg = text(f[1]);
		wshost_log((int32_t)n, msg.p, (uint32_t)msg.n);
		r_int(0);
	} else if (eq(cmd, S("now"))) {
		int64_t ns = wshost_now();
		r_int(ns < 0 ? 0 : ns);
	} else if (eq(cmd, S("spin"))) {
		if (!parse_i64(rest, 64, &n))
			return 0;
		if (!spin(n)) {
			wshost_log_cstr(WSHOST_LOG_ERROR, "message handler: conformance: spin: now failed");
			*rc = 1;
			return -1;
		}
		r_int(0);
	} else if (eq(cmd, S("loop"))) {
		loop();
	} else if (eq(cmd, S("trap")) || eq(cmd, S("panic"))) {
		trap();
	} else if (eq(cmd, S("grow"))) {
		if (!parse_u64(rest, 16, &u))
			return 0;
		grow(u);
		r_int(0);
	} else if (eq(cmd, S("hostcalls")) || eq(cmd, S("lasthostcalls"))) {
		if (eq(cmd, S("hostcalls"))) {
			if (!parse_i64(rest, 64, &n))
				return 0;
			last_ok = last_limited = 0;
			for (int64_t i = 0; i < n; i++) {
				int32_t r = wshost_room_size("hostcalls", 9);
				if (r >= 0)
					last_ok++;
				else if (r == WSHOST_ERR_LIMIT)
					last_limited++;
			}
		}
		r_int(last_ok);
		char d[21];
		r_value((str){d, wshost_fmt_i64(d, last_limited)});
	} else if (eq(cmd, S("id"))) {
		append(&reply, S("= "));
		append_u64(&reply, c);
	} else if (eq(cmd, S("echo"))) {
		str msg = text(rest);
		*rc = wshost_send_text(c, msg.p, msg.n) < 0;
		return -1;
	} else if (eq(cmd, S("fail"))) {
		wshost_buf msg = {0};
		append(&msg, S("message handler: "));
		append(&msg, text(rest));
		wshost_log_text(WSHOST_LOG_ERROR, msg.data, msg.len);
		wshost_buf_free(&msg);
		*rc = 1;
		return -1;
	} else if (eq(cmd, S("badptr"))) {
		r_int(wshost_send(c, ADDR(OUTSIDE), 16, 0));
		char d[21];
		r_value((str){d, wshost_fmt_i64(d, wshost_event_read(ADDR(OUTSIDE), 16))});
		r_value((str){d, wshost_fmt_i64(d, wshost_conn_info(c, "id", 2, ADDR(0xFFFFFFF0u), 32))});
		r_value((str){d, wshost_fmt_i64(d, wshost_state_set(ADDR(OUTSIDE), 8, "x", 1))});
		r_value((str){d, wshost_fmt_i64(d, wshost_state_add("badptr", 6, 1, ADDR(0xFFFFFFFCu)))});
	}
	return 0;
}

int32_t wshost_on_message(uint64_t c, uint32_t len, uint32_t flags) {
	if (wshost_buf_event(&event, len) < 0)
		return 1;
	if (flags & WSHOST_FLAG_BINARY) /* binary messages are echoed */
		return wshost_send_binary(c, event.data, event.len) < 0;
	str cmd, rest;
	int32_t rc = 0;
	cut(of(&event), ' ', &cmd, &rest);
	reply.len = 0;
	reply_err = 0;
	if (command(c, cmd, rest, &rc) < 0)
		return rc;
	if (reply.len == 0)
		append(&reply, S("= ?"));
	return wshost_send_text(c, reply.data, reply.len) < 0;
}

int32_t wshost_on_open(uint64_t c) {
	str verb, arg;
	if (wshost_buf_conn_info(&scratch, c, "query.open", 10) < 0)
		return 0;
	cut(of(&scratch), ':', &verb, &arg);
	if (eq(verb, S("reject")))
		return 1;
	if (eq(verb, S("trap")) || eq(verb, S("panic")))
		trap();
	if (eq(verb, S("loop")))
		loop();
	if (eq(verb, S("join")) || eq(verb, S("joinreject"))) {
		wshost_join(c, arg.p, (uint32_t)arg.n);
		return eq(verb, S("joinreject"));
	}
	if (eq(verb, S("send")))
		wshost_send_text(c, arg.p, arg.n);
	if (eq(verb, S("close")))
		wshost_close_cstr(c, 4000, "bye");
	return 0;
}

/* record sets state key PREFIX:ID to the value built in reply and adds 1
 * to the counter named counter. */
static void record(const char *prefix, uint64_t c, const char *counter) {
	wshost_buf key = {0};
	append(&key, cstr(prefix));
	append_u64(&key, c);
	wshost_state_set(key.data, key.len, reply.data, reply.len);
	wshost_state_add_cstr(counter, 1, NULL);
	wshost_buf_free(&key);
}

void wshost_on_close(uint64_t c, int32_t code, uint32_t len) {
	str reason = S("");
	if (wshost_buf_event(&event, len) >= 0)
		reason = of(&event);
	reply.len = 0; /* the value: "CODE REASON|ROOMS" */
	append_i64(&reply, code);
	append(&reply, S(" "));
	append(&reply, reason);
	append(&reply, S("|"));
	if (wshost_buf_conn_rooms(&scratch, c) > 0)
		sorted_rooms(&reply);
	record("close:", c, "closes");
	fault_if(c, S("close"));
}

void wshost_on_error(uint64_t c, int32_t kind, uint32_t len) {
	str msg = S("");
	if (wshost_buf_event(&event, len) >= 0)
		msg = of(&event);
	reply.len = 0; /* the value: "KIND TEXT" */
	append_i64(&reply, kind);
	append(&reply, S(" "));
	append(&reply, msg);
	record("error:", c, "errors");
	fault_if(c, S("error"));
}
