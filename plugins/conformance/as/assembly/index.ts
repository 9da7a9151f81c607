// The AssemblyScript conformance plugin: it speaks the protocol of
// plugins/conformance/README.md (the same as the Go probe,
// host/plugin/testdata/probe), calling every host function of ABI v1 and
// replying with raw return codes, so a test can check this SDK and the host.

import * as wshost from "@wshost/sdk";

export { wshost_abi_v1, on_open, on_message, on_close, on_error } from "@wshost/sdk";

// ---------------------------------------------------------------------------
// Connection events
// ---------------------------------------------------------------------------

function open(c: u64): i32 {
  let mode = wshost.connInfo(c, "query.open");
  if (mode === null) return wshost.ACCEPT;
  let verb = mode;
  let arg = "";
  let i = mode.indexOf(":");
  if (i >= 0) {
    verb = mode.substring(0, i);
    arg = mode.substring(i + 1);
  }
  if (verb == "reject") return wshost.REJECT;
  if (verb == "trap") trap();
  if (verb == "panic") throw new Error("conformance: open=panic");
  if (verb == "loop") loop();
  if (verb == "join") wshost.join(c, arg);
  if (verb == "joinreject") {
    wshost.join(c, arg);
    return wshost.REJECT;
  }
  if (verb == "send") wshost.send(c, arg);
  if (verb == "close") wshost.close(c, 4000, "bye");
  return wshost.ACCEPT;
}

function closed(c: u64, code: i32, reason: string): void {
  let rooms = wshost.connRooms(c);
  let list = "";
  if (rooms !== null) {
    rooms.sort(wshost.compareUTF8);
    list = rooms.join(",");
  }
  wshost.stateSetString("close:" + c.toString(), code.toString() + " " + reason + "|" + list);
  wshost.stateAdd("closes", 1);
  faultIf(c, "close");
}

function failed(c: u64, kind: i32, text: string): void {
  wshost.stateSetString("error:" + c.toString(), kind.toString() + " " + text);
  wshost.stateAdd("errors", 1);
  faultIf(c, "error");
}

// faultIf traps when the connection was opened with ?fault=WHEN.
function faultIf(c: u64, when: string): void {
  let f = wshost.connInfo(c, "query.fault");
  if (f !== null && f == when) trap();
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

// Results of the last hostcalls command of this instance.
let lastOK: i64 = 0;
let lastLimited: i64 = 0;

// An address past the end of any linear memory the host allows.
const OUTSIDE: usize = 0xFFFFFF00;

function message(c: u64, data: Uint8Array, binary: bool): i32 {
  if (binary) return wshost.sendBinary(c, data) < 0 ? 1 : 0; // binary messages are echoed
  let msg = wshost.text(data);
  let cmd = msg;
  let rest = "";
  let sp = msg.indexOf(" ");
  if (sp >= 0) {
    cmd = msg.substring(0, sp);
    rest = msg.substring(sp + 1);
  }
  let r = new Reply();
  if (cmd == "send" || cmd == "sendbin") {
    let f = fields(rest, 2);
    if (f !== null && isConn(f[0])) {
      let msg = text(f[1]);
      if (cmd == "send") r.int(wshost.send(conn(f[0]), msg));
      else r.int(wshost.sendBinary(conn(f[0]), wshost.utf8(msg)));
    }
  } else if (cmd == "sendflags") {
    let f = fields(rest, 3);
    if (f !== null && isConn(f[0]) && parseUint(f[1], 32)) {
      let flags = <u32>parsed;
      r.int(wshost.sendBytes(conn(f[0]), wshost.utf8(text(f[2])), flags));
    }
  } else if (cmd == "broadcast") {
    let f = fields(rest, 3);
    if (f !== null && isConn(f[1])) {
      r.int(wshost.broadcast(text(f[0]), text(f[2]), conn(f[1])));
    }
  } else if (cmd == "join" || cmd == "leave") {
    let f = fields(rest, 2);
    if (f !== null && isConn(f[0])) {
      let id = conn(f[0]);
      r.int(cmd == "join" ? wshost.join(id, text(f[1])) : wshost.leave(id, text(f[1])));
    }
  } else if (cmd == "close") {
    let f = fields(rest, 3);
    if (f !== null && isConn(f[0]) && parseInt(f[1], 32)) {
      let code = <i32>parsed;
      r.int(wshost.close(conn(f[0]), code, text(f[2])));
    }
  } else if (cmd == "size") {
    r.int(wshost.roomSize(text(rest)));
  } else if (cmd == "members") {
    let ids = wshost.roomMembers(text(rest));
    r.code(wshost.lastResult());
    if (ids !== null) {
      ids.sort((a: u64, b: u64): i32 => (a < b ? -1 : a > b ? 1 : 0));
      let list = new Array<string>(ids.length);
      for (let i = 0; i < ids.length; i++) list[i] = ids[i].toString();
      r.value(list.join(","));
    }
  } else if (cmd == "rooms") {
    if (isConn(rest)) {
      let rooms = wshost.connRooms(conn(rest));
      r.code(wshost.lastResult()); // the byte size: each name and a '\n'
      if (rooms !== null) {
        rooms.sort(wshost.compareUTF8);
        r.value(rooms.join(","));
      }
    }
  } else if (cmd == "info") {
    let f = fields(rest, 2);
    if (f !== null && isConn(f[0])) {
      let v = wshost.connInfoBytes(conn(f[0]), text(f[1]));
      r.code(wshost.lastResult());
      if (v !== null) r.bytes(v);
    }
  } else if (cmd == "infobuf") {
    let f = fields(rest, 3);
    if (f !== null && isConn(f[0]) && parseUint(f[2], 20)) {
      let n = <i32>parsed;
      let key = wshost.utf8(text(f[1]));
      let buf = new Uint8Array(n + 4);
      buf.fill(0x23); // '#'
      r.int(wshost.hostConnInfo(conn(f[0]), key.dataStart, key.length, buf.dataStart, <u32>n));
      r.bytes(buf);
    }
  } else if (cmd == "set") {
    let f = fields(rest, 3);
    if (f !== null && isConn(f[0])) {
      r.int(wshost.connSet(conn(f[0]), text(f[1]), text(f[2])));
    }
  } else if (cmd == "sget") {
    let v = wshost.stateGet(text(rest));
    r.code(wshost.lastResult());
    if (v !== null) r.bytes(v);
  } else if (cmd == "sset") {
    let f = fields(rest, 2);
    if (f !== null) r.int(wshost.stateSetString(text(f[0]), text(f[1])));
  } else if (cmd == "sdel") {
    r.int(wshost.stateDelete(text(rest)));
  } else if (cmd == "sadd") {
    let f = fields(rest, 2);
    if (f !== null && parseInt(f[1], 64)) {
      let v = wshost.stateAdd(text(f[0]), parsed);
      r.code(wshost.lastResult());
      if (wshost.lastResult() >= 0) r.value(v.toString());
    }
  } else if (cmd == "config") {
    let v = wshost.config(text(rest));
    r.code(wshost.lastResult());
    if (v !== null) r.value(v);
  } else if (cmd == "log") {
    let f = fields(rest, 2);
    if (f !== null && parseInt(f[0], 32)) {
      wshost.log(<i32>parsed, text(f[1]));
      r.int(0);
    }
  } else if (cmd == "now") {
    r.int(wshost.now());
  } else if (cmd == "spin") {
    if (parseInt(rest, 64)) {
      if (!spin(parsed)) return 1;
      r.int(0);
    }
  } else if (cmd == "loop") {
    loop();
  } else if (cmd == "trap") {
    trap();
  } else if (cmd == "panic") {
    throw new Error("conformance: panic command");
  } else if (cmd == "grow") {
    if (parseUint(rest, 16)) {
      grow(<i32>parsed);
      r.int(0);
    }
  } else if (cmd == "hostcalls" || cmd == "lasthostcalls") {
    if (cmd == "hostcalls") {
      if (!parseInt(rest, 64)) return send(c, r);
      lastOK = 0;
      lastLimited = 0;
      for (let i: i64 = 0; i < parsed; i++) {
        let rc = wshost.roomSize("hostcalls");
        if (rc >= 0) lastOK++;
        else if (rc == wshost.ERR_LIMIT) lastLimited++;
      }
    }
    r.int(lastOK);
    r.value(lastLimited.toString());
  } else if (cmd == "id") {
    r.uint(c);
  } else if (cmd == "echo") {
    return wshost.send(c, text(rest)) < 0 ? 1 : 0;
  } else if (cmd == "fail") {
    wshost.log(wshost.LEVEL_ERROR, "message handler: " + text(rest));
    return 1;
  } else if (cmd == "badptr") {
    let id = wshost.utf8("id");
    let x = wshost.utf8("x");
    let key = wshost.utf8("badptr");
    r.int(wshost.hostSend(c, OUTSIDE, 16, 0));
    r.value(wshost.hostEventRead(OUTSIDE, 16).toString());
    r.value(wshost.hostConnInfo(c, id.dataStart, id.length, OUTSIDE + 0xF0, 32).toString());
    r.value(wshost.hostStateSet(OUTSIDE, 8, x.dataStart, x.length).toString());
    r.value(wshost.hostStateAdd(key.dataStart, key.length, 1, 0xFFFFFFFC).toString());
  }
  return send(c, r);
}

function send(c: u64, r: Reply): i32 {
  return wshost.send(c, r.toString()) < 0 ? 1 : 0;
}

// Reply builds "= RESULT [VALUE ...]"; a reply with no result is "= ?".
class Reply {
  s: string = "";
  err: bool = false; // the result was an error code: values are left out

  int(n: i64): void {
    this.s += "= " + n.toString();
  }

  // code is int for a result that may be an error code: after an error,
  // values are left out.
  code(rc: i32): void {
    this.int(rc);
    this.err = rc < 0;
  }

  uint(n: u64): void {
    this.s += "= " + n.toString();
  }

  // value appends " v", or nothing when v is empty or the result was an error.
  value(v: string): void {
    if (v.length == 0 || this.err) return;
    this.s += " " + v;
  }

  // bytes is value for bytes; bytes that are not valid UTF-8 (a text message
  // must be) are sent as hex:HEX.
  bytes(v: Uint8Array): void {
    if (v.length == 0 || this.err) return;
    if (wshost.isValidUTF8(v)) {
      this.s += " " + wshost.text(v);
      return;
    }
    let hex = new Array<string>(v.length);
    for (let i = 0; i < v.length; i++) {
      let b = <i32>v[i];
      hex[i] = (b < 16 ? "0" : "") + b.toString(16);
    }
    this.s += " hex:" + hex.join("");
  }

  toString(): string {
    return this.s.length == 0 ? "= ?" : this.s;
  }
}

// fields splits s at single spaces into exactly n fields, the last one
// keeping any further spaces; null when s has fewer.
function fields(s: string, n: i32): Array<string> | null {
  let f = new Array<string>();
  let start = 0;
  while (f.length < n - 1) {
    let i = s.indexOf(" ", start);
    if (i < 0) return null;
    f.push(s.substring(start, i));
    start = i + 1;
  }
  f.push(s.substring(start));
  return f;
}

// text maps the literal "-" to the empty string.
function text(s: string): string {
  return s == "-" ? "" : s;
}

// The value of the last successful parseInt / parseUint.
let parsed: i64 = 0;

// parseUint parses a decimal number without sign that fits in `bits` bits
// (strconv.ParseUint(s, 10, bits)); the value is in `parsed` (as a bit
// pattern for 64 bits). With bits == 64 use parsedU64.
let parsedU64: u64 = 0;

function parseUint(s: string, bits: i32): bool {
  if (s.length == 0) return false;
  let max: u64 = bits == 64 ? u64.MAX_VALUE : ((<u64>1) << bits) - 1;
  let v: u64 = 0;
  for (let i = 0; i < s.length; i++) {
    let d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return false;
    if (v > (max - <u64>d) / 10) return false; // v*10+d > max
    v = v * 10 + <u64>d;
  }
  parsedU64 = v;
  parsed = <i64>v;
  return true;
}

// parseInt parses a decimal number with an optional sign that fits in a
// signed `bits`-bit integer (strconv.ParseInt(s, 10, bits)).
function parseInt(s: string, bits: i32): bool {
  let neg = false;
  let digits = s;
  if (s.length > 0 && (s.charCodeAt(0) == 0x2B || s.charCodeAt(0) == 0x2D)) {
    neg = s.charCodeAt(0) == 0x2D;
    digits = s.substring(1);
  }
  if (!parseUint(digits, 64)) return false;
  let limit: u64 = (<u64>1) << (bits - 1); // |min|; max is limit-1
  if (neg ? parsedU64 > limit : parsedU64 >= limit) return false;
  parsed = neg ? -(<i64>parsedU64) : <i64>parsedU64;
  return true;
}

// isConn reports whether s is a connection id; conn returns it.
function isConn(s: string): bool {
  return parseUint(s, 64);
}

function conn(s: string): u64 {
  parseUint(s, 64);
  return parsedU64;
}

// ---------------------------------------------------------------------------
// Faults and resources
// ---------------------------------------------------------------------------

function trap(): void {
  unreachable();
}

let sink: u64 = 0;

// burn spins the CPU for n iterations without host calls.
function burn(n: i32): void {
  for (let i = 0; i < n; i++) sink += <u64>i ^ (sink >> 3);
}

function loop(): void {
  while (true) burn(1 << 16);
}

// spin busy-loops for ms milliseconds of the host's clock, reading it every
// 2^12 iterations.
function spin(ms: i64): bool {
  let start = wshost.now();
  if (start == 0) return false;
  while (true) {
    let now = wshost.now();
    if (now == 0) return false;
    if (now - start >= ms * 1000000) return true;
    burn(1 << 12);
  }
}

// grow allocates mib MiB and touches every page of it.
let grown: Uint8Array | null = null;

function grow(mib: i32): void {
  if (mib == 0) return;
  let b = new Uint8Array(mib << 20);
  for (let i = 0; i < b.length; i += 4096) b[i] = 1;
  grown = b;
  grown = null; // garbage at the end of the callback, as in the Go probe
}

// Last in the file: top-level code runs (and the functions it names are
// compiled) in file order, so globals must be declared before this line.
wshost.handle({ open: open, message: message, close: closed, error: failed });
