/*
 * wshost.h — the wshost plugin SDK for C and C++ (ABI v1, see sdk/ABI.md).
 *
 * One header, nothing to link: include it and build with
 *
 *   clang   --target=wasm32-wasi -mexec-model=reactor -O2 ... plugin.c   -o NAME.wasm
 *   clang++ --target=wasm32-wasi -mexec-model=reactor -O2 -fno-exceptions ... plugin.cpp -o NAME.wasm
 *
 * (README.md has the full commands.) The plugin defines the handlers it
 * wants, with exactly these signatures; the header already declares them
 * with the export names the host looks for:
 *
 *   int32_t wshost_on_open(uint64_t conn);                               optional: 0 accepts
 *   int32_t wshost_on_message(uint64_t conn, uint32_t len, uint32_t flags); required
 *   void    wshost_on_close(uint64_t conn, int32_t code, uint32_t len);  optional
 *   void    wshost_on_error(uint64_t conn, int32_t kind, uint32_t len);  optional
 *
 * A handler that is not defined is not exported. `wshost_abi_v1` is defined
 * here (weak, so including the header in several files is fine), `memory`
 * and `_initialize` come from the linker and wasi-libc's reactor startup.
 *
 * Contents:
 *   1. constants: error codes, flags, on_error kinds, log levels
 *   2. the 18 host functions of import module "wshost", raw
 *   3. small inline helpers (no allocation): send a text, C-string keys,
 *      fill a caller buffer, format numbers
 *   4. wshost_buf: a growable buffer for results of any size (malloc;
 *      define WSHOST_NO_ALLOC before including to leave it out)
 *   5. C++17 only: namespace wshost with std::string_view / std::string /
 *      std::vector overloads (define WSHOST_NO_STL to leave it out)
 *
 * Host functions return >= 0 on success and a negative WSHOST_ERR_* code on
 * failure; none of them traps on bad arguments. Strings travel as pointer +
 * length, never NUL-terminated: the *_cstr helpers take C strings for
 * convenience and pass strlen(). Pointers are i32 addresses in the plugin's
 * linear memory.
 */
#ifndef WSHOST_H
#define WSHOST_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__wasm32__) && !defined(WSHOST_NO_TARGET_CHECK)
#error "wshost.h: build for wasm32, e.g. clang --target=wasm32-wasi -mexec-model=reactor"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * 1. Constants
 * ---------------------------------------------------------------------- */

/* Return codes of the host functions (ABI §5). */
enum {
	WSHOST_OK = 0,
	WSHOST_ERR_NOT_FOUND = -1, /* no such connection, member, key or attribute */
	WSHOST_ERR_BAD_ARG = -2,   /* bad memory range, name, close code, flags or UTF-8 */
	WSHOST_ERR_TOO_LARGE = -3, /* over the message limit; close reason over 123 bytes */
	WSHOST_ERR_CLOSED = -4,    /* the connection is closing or gone */
	WSHOST_ERR_LIMIT = -5      /* host-call budget spent, or the state quota is full */
};

/* Returned by the wshost_buf helpers when malloc fails; never by the host. */
#define WSHOST_ERR_NO_MEMORY (-2147483647 - 1)

/* Message flags (on_message, send, broadcast): bit 0 set = binary frame. */
#define WSHOST_FLAG_TEXT 0u
#define WSHOST_FLAG_BINARY 1u

/* on_error kinds (ABI §7). */
enum {
	WSHOST_KIND_PROTOCOL = 1, /* client broke the protocol; host closes 1007/1009/1002 */
	WSHOST_KIND_SLOW = 2,     /* send queue overflowed; host closes 1008 */
	WSHOST_KIND_FAULT = 3,    /* a callback trapped or hit the deadline ("trap:"/"deadline:") */
	WSHOST_KIND_IO = 4        /* the socket failed; the connection is gone */
};

/* Log levels. */
enum {
	WSHOST_LOG_DEBUG = 0,
	WSHOST_LOG_INFO = 1,
	WSHOST_LOG_WARN = 2,
	WSHOST_LOG_ERROR = 3
};

/* Attribute helpers for exports and imports. */
#define WSHOST_EXPORT(name) __attribute__((export_name(name)))
#define WSHOST_IMPORT(name) __attribute__((import_module("wshost"), import_name(name)))

/* ------------------------------------------------------------------------
 * The plugin's exports: define the ones you need, with these signatures.
 * (In C++, a definition with other parameter types would be an overload,
 * not this function, and would not be exported.)
 * ---------------------------------------------------------------------- */

/* During the handshake; return 0 to accept, anything else rejects (403). */
WSHOST_EXPORT("on_open") int32_t wshost_on_open(uint64_t conn);
/* Once per data message; read its len bytes with wshost_event_read. */
WSHOST_EXPORT("on_message") int32_t wshost_on_message(uint64_t conn, uint32_t len, uint32_t flags);
/* Once per accepted connection after it ended; len bytes of close reason. */
WSHOST_EXPORT("on_close") void wshost_on_close(uint64_t conn, int32_t code, uint32_t len);
/* A problem of kind WSHOST_KIND_*; len bytes of error text. */
WSHOST_EXPORT("on_error") void wshost_on_error(uint64_t conn, int32_t kind, uint32_t len);

/* The ABI v1 marker. Weak: every file may include this header. */
WSHOST_EXPORT("wshost_abi_v1") void wshost_abi_v1(void);
__attribute__((weak)) void wshost_abi_v1(void) {}

/* ------------------------------------------------------------------------
 * 2. Host functions (import module "wshost"), exactly as sdk/ABI.md §3.
 * ---------------------------------------------------------------------- */

/* Copies min(len, size) bytes of the current event's payload; returns size. */
WSHOST_IMPORT("event_read") int32_t wshost_event_read(void *ptr, uint32_t len);
/* Queues one message (flags: WSHOST_FLAG_*); 0 or an error. */
WSHOST_IMPORT("send") int32_t wshost_send(uint64_t conn, const void *ptr, uint32_t len, uint32_t flags);
/* Queues a message for every member of the room but `except` (0: nobody);
 * returns how many connections of this node it was queued for. */
WSHOST_IMPORT("broadcast") int32_t wshost_broadcast(const void *room, uint32_t room_len, const void *ptr,
                                                    uint32_t len, uint32_t flags, uint64_t except);
/* Starts the closing handshake; code 1000 or 3000..4999, reason <= 123 bytes. */
WSHOST_IMPORT("close") int32_t wshost_close(uint64_t conn, int32_t code, const void *reason, uint32_t reason_len);

WSHOST_IMPORT("join") int32_t wshost_join(uint64_t conn, const void *room, uint32_t room_len);
WSHOST_IMPORT("leave") int32_t wshost_leave(uint64_t conn, const void *room, uint32_t room_len);
WSHOST_IMPORT("room_size") int32_t wshost_room_size(const void *room, uint32_t room_len);
/* Writes as many member ids as fit (8 bytes each, little-endian); returns the
 * member count. */
WSHOST_IMPORT("room_members") int32_t wshost_room_members(const void *room, uint32_t room_len, void *buf,
                                                          uint32_t buf_len);
/* Writes the connection's room names, each followed by '\n'; returns the full
 * size in bytes. */
WSHOST_IMPORT("conn_rooms") int32_t wshost_conn_rooms(uint64_t conn, void *buf, uint32_t buf_len);

/* Keys: id, remote_addr, path, query.NAME, header.NAME, subprotocol,
 * attr.NAME. Returns the full size, or WSHOST_ERR_NOT_FOUND. */
WSHOST_IMPORT("conn_info") int32_t wshost_conn_info(uint64_t conn, const void *key, uint32_t key_len, void *buf,
                                                    uint32_t buf_len);
/* Sets attr.KEY; val_len 0 removes it. */
WSHOST_IMPORT("conn_set") int32_t wshost_conn_set(uint64_t conn, const void *key, uint32_t key_len,
                                                  const void *val, uint32_t val_len);

WSHOST_IMPORT("state_get") int32_t wshost_state_get(const void *key, uint32_t key_len, void *buf, uint32_t buf_len);
WSHOST_IMPORT("state_set") int32_t wshost_state_set(const void *key, uint32_t key_len, const void *val,
                                                    uint32_t val_len);
WSHOST_IMPORT("state_delete") int32_t wshost_state_delete(const void *key, uint32_t key_len);
/* Atomically adds delta to the little-endian i64 at key (missing: 0) and
 * writes the new value, 8 bytes, to out. */
WSHOST_IMPORT("state_add") int32_t wshost_state_add(const void *key, uint32_t key_len, int64_t delta, void *out);
/* A value of the [config] table of the plugin's manifest. */
WSHOST_IMPORT("config_get") int32_t wshost_config_get(const void *key, uint32_t key_len, void *buf, uint32_t buf_len);

/* level: WSHOST_LOG_*. */
WSHOST_IMPORT("log") void wshost_log(int32_t level, const void *ptr, uint32_t len);
/* Unix time in nanoseconds (negative: WSHOST_ERR_LIMIT, the budget is spent). */
WSHOST_IMPORT("now") int64_t wshost_now(void);

/* ------------------------------------------------------------------------
 * 3. Inline helpers (no allocation)
 * ---------------------------------------------------------------------- */

static inline uint32_t wshost__strlen(const char *s) { return s ? (uint32_t)__builtin_strlen(s) : 0; }

static inline int32_t wshost_send_text(uint64_t conn, const char *s, size_t len) {
	return wshost_send(conn, s, (uint32_t)len, WSHOST_FLAG_TEXT);
}
static inline int32_t wshost_send_binary(uint64_t conn, const void *p, size_t len) {
	return wshost_send(conn, p, (uint32_t)len, WSHOST_FLAG_BINARY);
}
static inline int32_t wshost_send_cstr(uint64_t conn, const char *s) {
	return wshost_send(conn, s, wshost__strlen(s), WSHOST_FLAG_TEXT);
}
/* A text message to every member of room but `except` (0: nobody). */
static inline int32_t wshost_broadcast_text(const char *room, size_t room_len, const char *s, size_t len,
                                            uint64_t except) {
	return wshost_broadcast(room, (uint32_t)room_len, s, (uint32_t)len, WSHOST_FLAG_TEXT, except);
}
static inline int32_t wshost_broadcast_cstr(const char *room, const char *s, uint64_t except) {
	return wshost_broadcast(room, wshost__strlen(room), s, wshost__strlen(s), WSHOST_FLAG_TEXT, except);
}
static inline int32_t wshost_close_cstr(uint64_t conn, int32_t code, const char *reason) {
	return wshost_close(conn, code, reason, wshost__strlen(reason));
}
static inline int32_t wshost_join_cstr(uint64_t conn, const char *room) {
	return wshost_join(conn, room, wshost__strlen(room));
}
static inline int32_t wshost_leave_cstr(uint64_t conn, const char *room) {
	return wshost_leave(conn, room, wshost__strlen(room));
}
static inline int32_t wshost_room_size_cstr(const char *room) { return wshost_room_size(room, wshost__strlen(room)); }
static inline int32_t wshost_conn_set_cstr(uint64_t conn, const char *key, const char *val) {
	return wshost_conn_set(conn, key, wshost__strlen(key), val, wshost__strlen(val));
}
static inline int32_t wshost_state_set_cstr(const char *key, const void *val, size_t val_len) {
	return wshost_state_set(key, wshost__strlen(key), val, (uint32_t)val_len);
}
static inline int32_t wshost_state_delete_cstr(const char *key) {
	return wshost_state_delete(key, wshost__strlen(key));
}
/* state_add on a C-string key; the new value goes to *out (may be NULL). */
static inline int32_t wshost_state_add_cstr(const char *key, int64_t delta, int64_t *out) {
	int64_t v = 0;
	int32_t rc = wshost_state_add(key, wshost__strlen(key), delta, &v);
	if (rc >= 0 && out)
		*out = v;
	return rc;
}
static inline void wshost_log_text(int32_t level, const char *s, size_t len) { wshost_log(level, s, (uint32_t)len); }
static inline void wshost_log_cstr(int32_t level, const char *s) { wshost_log(level, s, wshost__strlen(s)); }

/*
 * String results into a caller buffer of `cap` bytes. They return what the
 * host returned: the value's full size, or a negative error. The value is
 * complete and NUL-terminated when 0 <= rc < cap; when rc >= cap the buffer
 * holds the first cap bytes (not terminated), so grow it to rc + 1 and call
 * again (or use section 4).
 */
static inline int32_t wshost__terminate(int32_t rc, char *buf, size_t cap) {
	if (rc >= 0 && (size_t)rc < cap)
		buf[rc] = '\0';
	return rc;
}
static inline int32_t wshost_conn_info_cstr(uint64_t conn, const char *key, char *buf, size_t cap) {
	return wshost__terminate(wshost_conn_info(conn, key, wshost__strlen(key), buf, (uint32_t)cap), buf, cap);
}
static inline int32_t wshost_state_get_cstr(const char *key, char *buf, size_t cap) {
	return wshost__terminate(wshost_state_get(key, wshost__strlen(key), buf, (uint32_t)cap), buf, cap);
}
static inline int32_t wshost_config_get_cstr(const char *key, char *buf, size_t cap) {
	return wshost__terminate(wshost_config_get(key, wshost__strlen(key), buf, (uint32_t)cap), buf, cap);
}

/* Formats v in decimal at buf (room for 20 bytes, 21 with the sign of an
 * int64); returns the length. No NUL is written. */
static inline size_t wshost_fmt_u64(char *buf, uint64_t v) {
	char tmp[20];
	size_t n = 0, i;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}
static inline size_t wshost_fmt_i64(char *buf, int64_t v) {
	if (v < 0) {
		buf[0] = '-';
		return 1 + wshost_fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
	}
	return wshost_fmt_u64(buf, (uint64_t)v);
}

/* Reads a little-endian u64 (a room_members entry). */
static inline uint64_t wshost_le64(const void *p) {
	const unsigned char *b = (const unsigned char *)p;
	return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
	       (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
}

/* ------------------------------------------------------------------------
 * 4. wshost_buf: results of any size
 *
 *   static wshost_buf msg;            // zero-initialised; keep it to reuse
 *   int32_t n = wshost_buf_event(&msg, len);
 *   if (n < 0) return 1;
 *   ... msg.data[0 .. msg.len) ...
 *
 * Each function fills the buffer following ABI §4: call, and when the result
 * did not fit, grow and call again until it does. On success it returns what
 * the host returned (a size, or for room_members a count), sets b->len to
 * the result's size in bytes and writes a NUL after it, so b->data is also
 * a C string. On failure it returns the host's error (or
 * WSHOST_ERR_NO_MEMORY) and sets b->len to 0. The buffer is kept for the
 * next call; wshost_buf_free releases it.
 * ---------------------------------------------------------------------- */
#ifndef WSHOST_NO_ALLOC
#include <stdlib.h>

typedef struct wshost_buf {
	char *data;   /* the result, followed by a NUL */
	uint32_t len; /* its size in bytes */
	uint32_t cap; /* bytes available to the host (data has cap + 1) */
} wshost_buf;

static inline void wshost_buf_free(wshost_buf *b) {
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Makes room for at least n bytes (plus the NUL); 0 or WSHOST_ERR_NO_MEMORY. */
static inline int32_t wshost_buf_reserve(wshost_buf *b, size_t n) {
	char *p;
	if (n > 0x7ffffffeu)
		return WSHOST_ERR_NO_MEMORY;
	if (b->data && n <= b->cap)
		return 0;
	if (n < 256)
		n = 256;
	p = (char *)realloc(b->data, n + 1);
	if (!p)
		return WSHOST_ERR_NO_MEMORY;
	b->data = p;
	b->cap = (uint32_t)n;
	return 0;
}

enum { WSHOST__EVENT, WSHOST__MEMBERS, WSHOST__ROOMS, WSHOST__INFO, WSHOST__STATE, WSHOST__CONFIG };

static inline int32_t wshost__fill(wshost_buf *b, int op, uint64_t conn, const void *k, uint32_t klen,
                                   uint32_t hint) {
	uint32_t unit = op == WSHOST__MEMBERS ? 8 : 1;
	int32_t rc = wshost_buf_reserve(b, hint);
	b->len = 0;
	if (rc < 0)
		return rc;
	for (;;) {
		uint64_t need;
		switch (op) {
		case WSHOST__EVENT: rc = wshost_event_read(b->data, b->cap); break;
		case WSHOST__MEMBERS: rc = wshost_room_members(k, klen, b->data, b->cap); break;
		case WSHOST__ROOMS: rc = wshost_conn_rooms(conn, b->data, b->cap); break;
		case WSHOST__INFO: rc = wshost_conn_info(conn, k, klen, b->data, b->cap); break;
		case WSHOST__STATE: rc = wshost_state_get(k, klen, b->data, b->cap); break;
		default: rc = wshost_config_get(k, klen, b->data, b->cap); break;
		}
		if (rc < 0)
			return rc;
		need = (uint64_t)rc * unit;
		if (need <= b->cap) {
			b->len = (uint32_t)need;
			b->data[need] = '\0';
			return rc;
		}
		/* did not fit: grow (with some slack: the result may grow meanwhile) */
		if (wshost_buf_reserve(b, (size_t)(need + need / 8)) < 0)
			return WSHOST_ERR_NO_MEMORY;
	}
}

/* The current event's payload; len is what the callback announced. */
static inline int32_t wshost_buf_event(wshost_buf *b, uint32_t len) {
	if (len == 0) { /* no payload: no host call */
		b->len = 0;
		if (wshost_buf_reserve(b, 0) < 0)
			return WSHOST_ERR_NO_MEMORY;
		b->data[0] = '\0';
		return 0;
	}
	return wshost__fill(b, WSHOST__EVENT, 0, NULL, 0, len);
}
/* Member ids (8 bytes each: wshost_le64(b->data + 8*i)); returns the count. */
static inline int32_t wshost_buf_room_members(wshost_buf *b, const char *room, size_t room_len) {
	return wshost__fill(b, WSHOST__MEMBERS, 0, room, (uint32_t)room_len, 0);
}
/* Room names, each followed by '\n'; returns the size in bytes. */
static inline int32_t wshost_buf_conn_rooms(wshost_buf *b, uint64_t conn) {
	return wshost__fill(b, WSHOST__ROOMS, conn, NULL, 0, 0);
}
static inline int32_t wshost_buf_conn_info(wshost_buf *b, uint64_t conn, const char *key, size_t key_len) {
	return wshost__fill(b, WSHOST__INFO, conn, key, (uint32_t)key_len, 0);
}
static inline int32_t wshost_buf_state_get(wshost_buf *b, const char *key, size_t key_len) {
	return wshost__fill(b, WSHOST__STATE, 0, key, (uint32_t)key_len, 0);
}
static inline int32_t wshost_buf_config_get(wshost_buf *b, const char *key, size_t key_len) {
	return wshost__fill(b, WSHOST__CONFIG, 0, key, (uint32_t)key_len, 0);
}
#endif /* WSHOST_NO_ALLOC */

#ifdef __cplusplus
} /* extern "C" */
#endif

/* ------------------------------------------------------------------------
 * 5. C++17 and later: namespace wshost
 *
 * Overloads on std::string_view, and results into a caller's std::string /
 * std::vector (which is reused: its capacity is kept). Functions return the
 * host's code like the C functions; none throws. Build with -fno-exceptions:
 * an allocation failure then aborts (a trap, reported as a fault).
 * ---------------------------------------------------------------------- */
#if defined(__cplusplus) && __cplusplus >= 201703L && !defined(WSHOST_NO_STL)
#include <string>
#include <string_view>
#include <vector>

namespace wshost {

using conn_id = uint64_t;

inline int32_t send_text(conn_id c, std::string_view s) {
	return ::wshost_send(c, s.data(), (uint32_t)s.size(), WSHOST_FLAG_TEXT);
}
inline int32_t send_binary(conn_id c, std::string_view s) {
	return ::wshost_send(c, s.data(), (uint32_t)s.size(), WSHOST_FLAG_BINARY);
}
inline int32_t broadcast_text(std::string_view room, std::string_view s, conn_id except = 0) {
	return ::wshost_broadcast(room.data(), (uint32_t)room.size(), s.data(), (uint32_t)s.size(), WSHOST_FLAG_TEXT,
	                          except);
}
inline int32_t broadcast_binary(std::string_view room, std::string_view s, conn_id except = 0) {
	return ::wshost_broadcast(room.data(), (uint32_t)room.size(), s.data(), (uint32_t)s.size(),
	                          WSHOST_FLAG_BINARY, except);
}
inline int32_t close(conn_id c, int32_t code, std::string_view reason) {
	return ::wshost_close(c, code, reason.data(), (uint32_t)reason.size());
}
inline int32_t join(conn_id c, std::string_view room) {
	return ::wshost_join(c, room.data(), (uint32_t)room.size());
}
inline int32_t leave(conn_id c, std::string_view room) {
	return ::wshost_leave(c, room.data(), (uint32_t)room.size());
}
inline int32_t room_size(std::string_view room) { return ::wshost_room_size(room.data(), (uint32_t)room.size()); }
inline int32_t conn_set(conn_id c, std::string_view key, std::string_view value) {
	return ::wshost_conn_set(c, key.data(), (uint32_t)key.size(), value.data(), (uint32_t)value.size());
}
inline int32_t state_set(std::string_view key, std::string_view value) {
	return ::wshost_state_set(key.data(), (uint32_t)key.size(), value.data(), (uint32_t)value.size());
}
inline int32_t state_delete(std::string_view key) {
	return ::wshost_state_delete(key.data(), (uint32_t)key.size());
}
/* The new value goes to *out (may be null). */
inline int32_t state_add(std::string_view key, int64_t delta, int64_t *out = nullptr) {
	int64_t v = 0;
	int32_t rc = ::wshost_state_add(key.data(), (uint32_t)key.size(), delta, &v);
	if (rc >= 0 && out)
		*out = v;
	return rc;
}
inline void log(int32_t level, std::string_view s) { ::wshost_log(level, s.data(), (uint32_t)s.size()); }
/* Unix time in nanoseconds; 0 when the host refused the call. */
inline int64_t now() {
	int64_t ns = ::wshost_now();
	return ns < 0 ? 0 : ns;
}

namespace detail {
/* ABI §4: call(ptr, cap) with out's capacity until the result fits. */
template <class F> int32_t fetch(std::string &out, size_t hint, uint32_t unit, F call) {
	if (out.capacity() < hint)
		out.reserve(hint);
	out.resize(out.capacity() < 32 ? 32 : out.capacity());
	for (;;) {
		int32_t rc = call(&out[0], (uint32_t)out.size());
		if (rc < 0) {
			out.clear();
			return rc;
		}
		uint64_t need = (uint64_t)(uint32_t)rc * unit;
		if (need <= out.size()) {
			out.resize((size_t)need);
			return rc;
		}
		if (need > 0x7fffffffu) {
			out.clear();
			return WSHOST_ERR_NO_MEMORY;
		}
		out.resize((size_t)(need + need / 8));
	}
}
} // namespace detail

/* The current event's payload; len is what the callback announced. */
inline int32_t event_read(uint32_t len, std::string &out) {
	if (len == 0) {
		out.clear();
		return 0;
	}
	return detail::fetch(out, len, 1, [](char *p, uint32_t n) { return ::wshost_event_read(p, n); });
}
inline int32_t conn_info(conn_id c, std::string_view key, std::string &out) {
	return detail::fetch(out, 0, 1, [&](char *p, uint32_t n) {
		return ::wshost_conn_info(c, key.data(), (uint32_t)key.size(), p, n);
	});
}
inline int32_t state_get(std::string_view key, std::string &out) {
	return detail::fetch(out, 0, 1, [&](char *p, uint32_t n) {
		return ::wshost_state_get(key.data(), (uint32_t)key.size(), p, n);
	});
}
inline int32_t config_get(std::string_view key, std::string &out) {
	return detail::fetch(out, 0, 1, [&](char *p, uint32_t n) {
		return ::wshost_config_get(key.data(), (uint32_t)key.size(), p, n);
	});
}
/* The member ids of room, in the host's order; returns the count. */
inline int32_t room_members(std::string_view room, std::vector<conn_id> &out) {
	std::string raw;
	int32_t rc = detail::fetch(raw, 0, 8, [&](char *p, uint32_t n) {
		return ::wshost_room_members(room.data(), (uint32_t)room.size(), p, n);
	});
	out.clear();
	for (int32_t i = 0; i < rc; i++)
		out.push_back(::wshost_le64(raw.data() + 8 * i));
	return rc;
}
/* The names of c's rooms, in the host's order; returns the size in bytes
 * the host returned (each name plus '\n'). */
inline int32_t conn_rooms(conn_id c, std::vector<std::string> &out) {
	std::string raw;
	int32_t rc = detail::fetch(raw, 0, 1, [&](char *p, uint32_t n) { return ::wshost_conn_rooms(c, p, n); });
	out.clear();
	size_t start = 0;
	for (size_t i = 0; i < raw.size(); i++)
		if (raw[i] == '\n') {
			out.emplace_back(raw, start, i - start);
			start = i + 1;
		}
	return rc;
}

} // namespace wshost
#endif /* C++17 && !WSHOST_NO_STL */

#endif /* WSHOST_H */
