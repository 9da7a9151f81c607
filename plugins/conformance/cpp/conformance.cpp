// The conformance plugin in C++: every host function of ABI v1 behind the
// text protocol of ../README.md, replying with the raw return codes, so that
// plugins/crosslang_test.go checks this SDK (sdk/c/wshost.h, namespace
// wshost) and the host the same way for every language. It behaves like the
// Go probe (host/plugin/testdata/probe), extra commands included.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wshost.h"

namespace {

using wshost::conn_id;
using sv = std::string_view;

std::string payload, scratch; // reused from event to event

std::string decimal(int64_t v) {
	char buf[21];
	return std::string(buf, wshost_fmt_i64(buf, v));
}
std::string decimal_u(uint64_t v) {
	char buf[20];
	return std::string(buf, wshost_fmt_u64(buf, v));
}

// valid_utf8 is Go's utf8.Valid: no overlongs, surrogates or > U+10FFFF.
bool valid_utf8(sv s) {
	for (size_t i = 0; i < s.size();) {
		auto b = static_cast<unsigned char>(s[i]);
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF;
		if (b < 0x80) {
			i++;
			continue;
		} else if (b >= 0xC2 && b <= 0xDF) {
			need = 1;
		} else if (b >= 0xE0 && b <= 0xEF) {
			need = 2;
			lo = b == 0xE0 ? 0xA0 : lo;
			hi = b == 0xED ? 0x9F : hi;
		} else if (b >= 0xF0 && b <= 0xF4) {
			need = 3;
			lo = b == 0xF0 ? 0x90 : lo;
			hi = b == 0xF4 ? 0x8F : hi;
		} else {
			return false;
		}
		if (s.size() - i - 1 < need)
			return false;
		auto c1 = static_cast<unsigned char>(s[i + 1]);
		if (c1 < lo || c1 > hi)
			return false;
		for (size_t k = 2; k <= need; k++) {
			auto c = static_cast<unsigned char>(s[i + k]);
			if (c < 0x80 || c > 0xBF)
				return false;
		}
		i += need + 1;
	}
	return true;
}

// Reply builds "= RESULT [VALUE ...]"; a reply with no result is "= ?".
class Reply {
public:
	void integer(int64_t n) { b_ += "= " + decimal(n); }
	// code: a function that reports only success or an error.
	void code(int32_t rc) {
		integer(rc < 0 ? rc : 0);
		err_ = rc < 0;
	}
	// count: a count or size, or the error.
	void count(int64_t n, int32_t rc) {
		if (rc < 0)
			code(rc);
		else
			integer(n);
	}
	// str: a buffer result, its size (or the error) and the value.
	void str(int32_t rc, sv v) {
		count(static_cast<int64_t>(v.size()), rc);
		value(v);
	}
	// value appends " v", or nothing when v is empty or the result was an
	// error; a v that is not valid UTF-8 is sent as hex:HEX.
	void value(sv v) {
		static constexpr char digits[] = "0123456789abcdef";
		if (v.empty() || err_)
			return;
		b_ += ' ';
		if (valid_utf8(v)) {
			b_ += v;
			return;
		}
		b_ += "hex:";
		for (unsigned char c : v) {
			b_ += digits[c >> 4];
			b_ += digits[c & 15];
		}
	}
	sv bytes() const { return b_.empty() ? sv("= ?") : sv(b_); }

private:
	std::string b_;
	bool err_ = false;
};

// cut splits s around the first sep; without one, the first is s.
std::pair<sv, sv> cut(sv s, char sep) {
	size_t i = s.find(sep);
	if (i == sv::npos)
		return {s, sv()};
	return {s.substr(0, i), s.substr(i + 1)};
}

// fields splits s at single spaces into exactly n fields, the last one
// keeping any further spaces; empty when s has fewer.
std::vector<sv> fields(sv s, size_t n) {
	std::vector<sv> f;
	while (f.size() + 1 < n) {
		size_t i = s.find(' ');
		if (i == sv::npos)
			return {};
		f.push_back(s.substr(0, i));
		s.remove_prefix(i + 1);
	}
	f.push_back(s);
	return f;
}

sv at(const std::vector<sv> &f, size_t i) { return i < f.size() ? f[i] : sv(); }

// text maps the literal "-" to the empty string.
sv text(sv s) { return s == "-" ? sv() : s; }

// parse_u64 is Go's strconv.ParseUint(s, 10, bits).
bool parse_u64(sv s, int bits, uint64_t &out) {
	uint64_t v = 0, max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
	if (s.empty())
		return false;
	for (char ch : s) {
		unsigned d = static_cast<unsigned char>(ch) - '0';
		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	out = v;
	return true;
}

// parse_i64 is Go's strconv.ParseInt(s, 10, bits).
bool parse_i64(sv s, int bits, int64_t &out) {
	bool neg = false;
	if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		s.remove_prefix(1);
	}
	uint64_t v, limit = uint64_t{1} << (bits - 1);
	if (!parse_u64(s, 64, v) || v > limit || (!neg && v == limit))
		return false;
	out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
	return true;
}

// conn parses field i as a connection id.
bool conn(const std::vector<sv> &f, size_t i, conn_id &id) { return i < f.size() && parse_u64(f[i], 64, id); }

volatile uint64_t sink;

// burn spins the CPU for n iterations without host calls.
void burn(int n) {
	for (int i = 0; i < n; i++)
		sink = sink + (static_cast<uint64_t>(i) ^ sink >> 3);
}

[[noreturn]] void trap() { __builtin_trap(); }

[[noreturn]] void loop() {
	for (;;)
		burn(1 << 16);
}

// spin busy-loops for ms milliseconds of the host's clock.
bool spin(int64_t ms) {
	int64_t start = wshost::now();
	if (start == 0)
		return false;
	for (;;) {
		int64_t now = wshost::now();
		if (now == 0)
			return false;
		if (now - start >= ms * 1000000)
			return true;
		burn(1 << 12);
	}
}

// grow allocates mib MiB and touches every page of it.
void grow(uint64_t mib) {
	if (mib == 0)
		return;
	size_t n = static_cast<size_t>(mib) << 20;
	auto *b = static_cast<volatile char *>(std::malloc(n));
	if (!b)
		trap(); // like Go running out of memory
	for (size_t i = 0; i < n; i += 4096)
		b[i] = 1;
	sink = sink + static_cast<uint64_t>(b[n / 2]);
	std::free(const_cast<char *>(b));
}

// fault_if traps when the connection was opened with ?fault=WHEN.
void fault_if(conn_id c, sv when) {
	if (wshost::conn_info(c, "query.fault", scratch) >= 0 && scratch == when)
		trap();
}

std::string join(const std::vector<std::string> &parts) {
	std::string s;
	for (size_t i = 0; i < parts.size(); i++) {
		if (i > 0)
			s += ',';
		s += parts[i];
	}
	return s;
}

int64_t last_ok, last_limited; // the last hostcalls of this instance

constexpr uint32_t outside = 0xFFFFFF00; // past the end of any memory the host allows
void *addr(uint32_t a) { return reinterpret_cast<void *>(static_cast<uintptr_t>(a)); }

// command runs one command into r. It returns false when it did not reply
// (echo replies itself; fail and spin fail) with rc what on_message returns.
bool command(conn_id c, sv cmd, sv rest, Reply &r, int32_t &rc) {
	conn_id id;
	uint64_t u;
	int64_t n;
	if (cmd == "send" || cmd == "sendbin") {
		auto f = fields(rest, 2);
		if (!conn(f, 0, id))
			return true;
		sv msg = text(f[1]);
		r.code(cmd == "send" ? wshost::send_text(id, msg) : wshost::send_binary(id, msg));
	} else if (cmd == "sendflags") {
		auto f = fields(rest, 3);
		if (!conn(f, 0, id) || !parse_u64(at(f, 1), 32, u))
			return true;
		sv msg = text(f[2]);
		r.integer(::wshost_send(id, msg.data(), static_cast<uint32_t>(msg.size()), static_cast<uint32_t>(u)));
	} else if (cmd == "broadcast") {
		auto f = fields(rest, 3);
		if (!conn(f, 1, id))
			return true;
		int32_t got = wshost::broadcast_text(text(f[0]), text(f[2]), id);
		r.count(got, got);
	} else if (cmd == "join" || cmd == "leave") {
		auto f = fields(rest, 2);
		if (!conn(f, 0, id))
			return true;
		r.code(cmd == "join" ? wshost::join(id, text(f[1])) : wshost::leave(id, text(f[1])));
	} else if (cmd == "close") {
		auto f = fields(rest, 3);
		if (!conn(f, 0, id) || !parse_i64(at(f, 1), 32, n))
			return true;
		r.code(wshost::close(id, static_cast<int32_t>(n), text(f[2])));
	} else if (cmd == "size") {
		int32_t got = wshost::room_size(text(rest));
		r.count(got, got);
	} else if (cmd == "members") {
		std::vector<conn_id> ids;
		int32_t got = wshost::room_members(text(rest), ids);
		std::sort(ids.begin(), ids.end());
		std::vector<std::string> list;
		for (conn_id m : ids)
			list.push_back(decimal_u(m));
		r.count(got, got);
		r.value(join(list));
	} else if (cmd == "rooms") {
		if (!conn({rest}, 0, id))
			return true;
		std::vector<std::string> rooms;
		int32_t got = wshost::conn_rooms(id, rooms);
		std::sort(rooms.begin(), rooms.end());
		r.count(got, got);
		r.value(join(rooms));
	} else if (cmd == "info") {
		auto f = fields(rest, 2);
		if (!conn(f, 0, id))
			return true;
		r.str(wshost::conn_info(id, text(f[1]), scratch), scratch);
	} else if (cmd == "infobuf") {
		auto f = fields(rest, 3);
		if (!conn(f, 0, id) || !parse_u64(at(f, 2), 20, u))
			return true;
		sv key = text(f[1]);
		std::string buf(u + 4, '#');
		r.integer(::wshost_conn_info(id, key.data(), static_cast<uint32_t>(key.size()), &buf[0],
		                             static_cast<uint32_t>(u)));
		r.value(buf);
	} else if (cmd == "set") {
		auto f = fields(rest, 3);
		if (!conn(f, 0, id))
			return true;
		r.code(wshost::conn_set(id, text(f[1]), text(f[2])));
	} else if (cmd == "sget") {
		r.str(wshost::state_get(text(rest), scratch), scratch);
	} else if (cmd == "sset") {
		auto f = fields(rest, 2);
		if (f.empty())
			return true;
		r.code(wshost::state_set(text(f[0]), text(f[1])));
	} else if (cmd == "sdel") {
		r.code(wshost::state_delete(text(rest)));
	} else if (cmd == "sadd") {
		auto f = fields(rest, 2);
		if (!parse_i64(at(f, 1), 64, n))
			return true;
		int64_t v = 0;
		int32_t got = wshost::state_add(text(f[0]), n, &v);
		r.code(got);
		if (got >= 0)
			r.value(decimal(v));
	} else if (cmd == "config") {
		r.str(wshost::config_get(text(rest), scratch), scratch);
	} else if (cmd == "log") {
		auto f = fields(rest, 2);
		if (!parse_i64(at(f, 0), 32, n))
			return true;
		wshost::log(static_cast<int32_t>(n), text(f[1]));
		r.integer(0);
	} else if (cmd == "now") {
		r.integer(wshost::now());
	} else if (cmd == "spin") {
		if (!parse_i64(rest, 64, n))
			return true;
		if (!spin(n)) {
			wshost::log(WSHOST_LOG_ERROR, "message handler: conformance: spin: now failed");
			rc = 1;
			return false;
		}
		r.integer(0);
	} else if (cmd == "loop") {
		loop();
	} else if (cmd == "trap" || cmd == "panic") {
		trap();
	} else if (cmd == "grow") {
		if (!parse_u64(rest, 16, u))
			return true;
		grow(u);
		r.integer(0);
	} else if (cmd == "hostcalls" || cmd == "lasthostcalls") {
		if (cmd == "hostcalls") {
			if (!parse_i64(rest, 64, n))
				return true;
			last_ok = last_limited = 0;
			for (int64_t i = 0; i < n; i++) {
				int32_t got = wshost::room_size("hostcalls");
				if (got >= 0)
					last_ok++;
				else if (got == WSHOST_ERR_LIMIT)
					last_limited++;
			}
		}
		r.integer(last_ok);
		r.value(decimal(last_limited));
	} else if (cmd == "id") {
		r.integer(static_cast<int64_t>(c));
	} else if (cmd == "echo") {
		rc = wshost::send_text(c, text(rest)) < 0;
		return false;
	} else if (cmd == "fail") {
		wshost::log(WSHOST_LOG_ERROR, "message handler: " + std::string(text(rest)));
		rc = 1;
		return false;
	} else if (cmd == "badptr") {
		r.integer(::wshost_send(c, addr(outside), 16, 0));
		r.value(decimal(::wshost_event_read(addr(outside), 16)));
		r.value(decimal(::wshost_conn_info(c, "id", 2, addr(0xFFFFFFF0), 32)));
		r.value(decimal(::wshost_state_set(addr(outside), 8, "x", 1)));
		r.value(decimal(::wshost_state_add("badptr", 6, 1, addr(0xFFFFFFFC))));
	}
	return true;
}

} // namespace

int32_t wshost_on_message(uint64_t c, uint32_t len, uint32_t flags) {
	if (wshost::event_read(len, payload) < 0)
		return 1;
	if (flags & WSHOST_FLAG_BINARY) // binary messages are echoed
		return wshost::send_binary(c, payload) < 0;
	auto [cmd, rest] = cut(payload, ' ');
	Reply r;
	int32_t rc = 0;
	if (!command(c, cmd, rest, r, rc))
		return rc;
	return wshost::send_text(c, r.bytes()) < 0;
}

int32_t wshost_on_open(uint64_t c) {
	std::string mode;
	if (wshost::conn_info(c, "query.open", mode) < 0)
		return 0;
	auto [verb, arg] = cut(mode, ':');
	if (verb == "reject")
		return 1;
	if (verb == "trap" || verb == "panic")
		trap();
	if (verb == "loop")
		loop();
	if (verb == "join" || verb == "joinreject") {
		wshost::join(c, arg);
		return verb == "joinreject";
	}
	if (verb == "send")
		wshost::send_text(c, arg);
	if (verb == "close")
		wshost::close(c, 4000, "bye");
	return 0;
}

void wshost_on_close(uint64_t c, int32_t code, uint32_t len) {
	if (wshost::event_read(len, payload) < 0)
		payload.clear();
	std::vector<std::string> rooms;
	wshost::conn_rooms(c, rooms);
	std::sort(rooms.begin(), rooms.end());
	wshost::state_set("close:" + decimal_u(c), decimal(code) + " " + payload + "|" + join(rooms));
	wshost::state_add("closes", 1);
	fault_if(c, "close");
}

void wshost_on_error(uint64_t c, int32_t kind, uint32_t len) {
	if (wshost::event_read(len, payload) < 0)
		payload.clear();
	wshost::state_set("error:" + decimal_u(c), decimal(kind) + " " + payload);
	wshost::state_add("errors", 1);
	fault_if(c, "error");
}
