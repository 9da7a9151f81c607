// @wshost/sdk: the AssemblyScript SDK for wshost plugins (ABI v1, sdk/ABI.md).
//
// A plugin registers its handlers with `handle` from top-level code and
// re-exports the SDK's ABI entry points from its entry file:
//
//   import * as wshost from "@wshost/sdk";
//   export { wshost_abi_v1, on_open, on_message, on_close, on_error } from "@wshost/sdk";
//
//   function message(c: u64, data: Uint8Array, binary: bool): i32 {
//     return binary ? wshost.sendBinary(c, data) : wshost.sendBytes(c, data); // echo
//   }
//   wshost.handle({ message });
//
// and is built with the flags of README.md (--runtime minimal and
// --use abort=... among them). See README.md.
//
// Conventions of this file:
// - Functions that do one host call return its raw result: >= 0 success, a
//   negative ERR_* code otherwise.
// - Functions that return a value (a string, bytes, ids) return null when the
//   host returned an error; lastResult() then tells which. After a success,
//   lastResult() is what the host returned for a buffer large enough (the
//   full size in bytes, or the member count of roomMembers).
// - Strings go to the host as UTF-8 (a lone surrogate becomes U+FFFD), encoded
//   into a scratch buffer the SDK reuses: passing a string does not allocate.
//   Results are copied out of another reused buffer into a fresh string or
//   array, which the caller owns.

export * from "./abi";

import {
  hostEventRead, hostSend, hostBroadcast, hostClose, hostJoin, hostLeave,
  hostRoomSize, hostRoomMembers, hostConnRooms, hostConnInfo, hostConnSet,
  hostStateGet, hostStateSet, hostStateDelete, hostStateAdd, hostConfigGet,
  hostLog, hostNow,
  FLAG_TEXT, FLAG_BINARY, KIND_PROTOCOL, KIND_SLOW, KIND_FAULT, KIND_IO,
  LEVEL_DEBUG, LEVEL_ERROR,
} from "./abi";

// ===========================================================================
// Handlers and the ABI entry points
// ===========================================================================

/** Called during the handshake; return ACCEPT (0) to accept, anything else rejects (403). */
export type OpenHandler = (conn: u64) => i32;
/**
 * Called once per data message, in order per connection. `data` is a view of
 * a buffer the SDK reuses for the next event: copy what you keep (`text(data)`
 * makes a string of a text message). A non-zero result is counted by the host
 * as a handler error, nothing more.
 */
export type MessageHandler = (conn: u64, data: Uint8Array, binary: bool) => i32;
/** Called once per accepted connection after it ended; connRooms still lists its rooms. */
export type CloseHandler = (conn: u64, code: i32, reason: string) => void;
/** Called when a problem of ABI §7 happens (KIND_PROTOCOL, KIND_SLOW, KIND_FAULT, KIND_IO). */
export type ErrorHandler = (conn: u64, kind: i32, text: string) => void;

/** The plugin's handlers; every one is optional. Pass an object literal to `handle`. */
export class Handlers {
  open: OpenHandler | null = null;
  message: MessageHandler | null = null;
  close: CloseHandler | null = null;
  error: ErrorHandler | null = null;
}

let handlers: Handlers | null = null;
let warned = false;

/**
 * Registers the plugin's handlers, replacing any registered before. Call it
 * from the entry file's top-level code, which runs once per instance when
 * the host instantiates the module. A plugin that never calls it rejects
 * every connection and logs why.
 */
export function handle(h: Handlers): void {
  handlers = h;
}

function noHandlers(): void {
  if (!warned) {
    warned = true;
    log(LEVEL_ERROR, "wshost: no handlers registered: call handle() from the entry file's top-level code");
  }
}

/**
 * Ends every callback: with --runtime minimal (the recommended runtime) the
 * garbage collector only runs when called, and the end of a callback is the
 * one moment no managed value lives on the stack. With the other runtimes it
 * does nothing. A plugin that exports the ABI entry points itself instead of
 * re-exporting this module's must call it last in each of them.
 */
export function collect(): void {
  if (ASC_RUNTIME == 1 /* Runtime.Minimal */) __collect();
}

/** Marks the module as implementing ABI v1; the host never calls it. */
export function wshost_abi_v1(): void {}

/** ABI entry point: dispatches to the open handler. */
export function on_open(conn: u64): i32 {
  let rc = 0;
  let h = handlers;
  if (h === null) {
    noHandlers();
    rc = 1;
  } else {
    let f = h.open;
    if (f) rc = f(conn);
  }
  collect();
  return rc;
}

/** ABI entry point: reads the message and dispatches to the message handler. */
export function on_message(conn: u64, len: u32, flags: u32): i32 {
  let rc = 0;
  let h = handlers;
  if (h === null) {
    noHandlers();
    rc = 1;
  } else {
    let f = h.message;
    if (f) {
      let data = readEvent(len);
      rc = data === null ? 1 : f(conn, data, (flags & FLAG_BINARY) != 0);
    }
  }
  collect();
  return rc;
}

/** ABI entry point: reads the close reason and dispatches to the close handler. */
export function on_close(conn: u64, code: i32, len: u32): void {
  let h = handlers;
  if (h !== null) {
    let f = h.close;
    if (f) f(conn, code, readEventText(len));
  }
  collect();
}

/** ABI entry point: reads the error text and dispatches to the error handler. */
export function on_error(conn: u64, kind: i32, len: u32): void {
  let h = handlers;
  if (h !== null) {
    let f = h.error;
    if (f) f(conn, kind, readEventText(len));
  }
  collect();
}

// ===========================================================================
// Scratch memory
// ===========================================================================

// Buffers up to KEEP bytes are kept from call to call; larger ones are
// allocated for one call and freed, so that one rare large value does not
// stay allocated for the life of the instance.
const KEEP: usize = 64 << 10;

// arg: unmanaged buffer receiving the UTF-8 form of string arguments.
let argMem: usize = 0;
let argCap: usize = 0;

function argAlloc(n: usize): usize {
  if (n <= argCap) return argMem;
  if (n > KEEP) return heap.alloc(n);
  let cap = max<usize>(max<usize>(n, argCap << 1), 256);
  if (cap > KEEP) cap = KEEP;
  if (argMem) heap.free(argMem);
  argMem = heap.alloc(cap);
  argCap = cap;
  return argMem;
}

function argFree(p: usize): void {
  if (p != argMem) heap.free(p);
}

// @ts-ignore: decorator
@inline function utf8Size(s: string): usize {
  return <usize>String.UTF8.byteLength(s);
}

// @ts-ignore: decorator
@inline function putUTF8(s: string, at: usize): usize {
  return String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, at, false, String.UTF8.ErrorMode.REPLACE);
}

// res: unmanaged buffer receiving the results of the calls that fill one.
let resMem: usize = 0;
let resCap: usize = 0;
let fetched: usize = 0; // where fetch left the result: resMem or a one-off block

const OP_CONN_INFO = 0;
const OP_STATE_GET = 1;
const OP_CONFIG_GET = 2;
const OP_ROOM_MEMBERS = 3;
const OP_CONN_ROOMS = 4;

// @ts-ignore: decorator
@inline function callFill(op: i32, conn: u64, kp: usize, kl: u32, bp: usize, bl: u32): i32 {
  switch (op) {
    case OP_CONN_INFO: return hostConnInfo(conn, kp, kl, bp, bl);
    case OP_STATE_GET: return hostStateGet(kp, kl, bp, bl);
    case OP_CONFIG_GET: return hostConfigGet(kp, kl, bp, bl);
    case OP_ROOM_MEMBERS: return hostRoomMembers(kp, kl, bp, bl);
    default: return hostConnRooms(conn, bp, bl);
  }
}

// fetch implements ABI §4: the host returns the full size (rc units of unit
// bytes) and writes what fits; when it did not all fit, grow and ask again
// (the result can change in between, so repeat until it fits). The result is
// at `fetched`; release it with fetchDone. Inlined, so that the switch of
// callFill folds away and the module imports only the functions it calls.
// @ts-ignore: decorator
@inline function fetch(op: i32, unit: usize, conn: u64, kp: usize, kl: u32): i32 {
  if (resMem == 0) {
    resMem = heap.alloc(512);
    resCap = 512;
  }
  let buf = resMem;
  let cap = resCap;
  while (true) {
    let rc = callFill(op, conn, kp, kl, buf, <u32>cap);
    let need = <usize>rc * unit;
    if (rc < 0 || need <= cap) {
      fetched = buf;
      return rc;
    }
    if (buf != resMem) heap.free(buf);
    cap = need + (need >> 3);
    if (cap <= KEEP) {
      heap.free(resMem);
      resMem = heap.alloc(cap);
      resCap = cap;
      buf = resMem;
    } else {
      buf = heap.alloc(cap);
    }
  }
}

function fetchDone(): void {
  if (fetched != resMem) heap.free(fetched);
  fetched = 0;
}

// ===========================================================================
// Results
// ===========================================================================

let last: i32 = 0;

/**
 * The raw result of the last host call made by an SDK function that returns
 * a value (connInfo, stateGet, roomMembers, stateAdd, ...): negative when it
 * returned null (or 0 for stateAdd) because of an error, else the full size
 * or count the host reported.
 */
export function lastResult(): i32 {
  return last;
}

/** The name of an error code: "not found", "bad argument", "too large", "closed", "limit". */
export function errorName(code: i32): string {
  switch (code) {
    case -1: return "not found";
    case -2: return "bad argument";
    case -3: return "too large";
    case -4: return "closed";
    case -5: return "limit";
    case 0: return "ok";
  }
  return "error " + code.toString();
}

/** The name of an on_error kind: "protocol", "slow", "fault", "io". */
export function kindName(kind: i32): string {
  switch (kind) {
    case KIND_PROTOCOL: return "protocol";
    case KIND_SLOW: return "slow";
    case KIND_FAULT: return "fault";
    case KIND_IO: return "io";
  }
  return "kind(" + kind.toString() + ")";
}

// ===========================================================================
// Events
// ===========================================================================

let eventBuf = new Uint8Array(0);

/**
 * Reads the current event's payload, whose size the callback announced as
 * `len`. The result is a view of a buffer reused by the next call (payloads
 * up to 64 KiB; larger ones get their own). null when event_read failed.
 * Only needed by plugins that export the ABI entry points themselves.
 */
export function readEvent(len: u32): Uint8Array | null {
  let size = <i32>len;
  if (size == 0) return eventBuf.subarray(0, 0);
  while (true) {
    let buf = eventBuf;
    if (buf.length < size) {
      buf = new Uint8Array(size);
      if (<usize>size <= KEEP) eventBuf = buf;
    }
    let rc = hostEventRead(buf.dataStart, <u32>size);
    last = rc;
    if (rc < 0) return null;
    if (rc <= size) return buf.subarray(0, rc);
    size = rc; // larger than announced: read it all
  }
}

/** Reads the current event's payload as a string ("" when it cannot be read). */
export function readEventText(len: u32): string {
  let data = readEvent(len);
  return data === null ? "" : text(data);
}

// ===========================================================================
// Messages
// ===========================================================================

function sendRaw(conn: u64, ptr: usize, len: usize, flags: u32): i32 {
  return hostSend(conn, ptr, <u32>len, flags);
}

/**
 * Queues the text message `msg` for connection `conn`. Returns 0, or
 * ERR_NOT_FOUND (unknown connection), ERR_CLOSED (closing or gone),
 * ERR_TOO_LARGE (over the message limit), ERR_LIMIT.
 */
export function send(conn: u64, msg: string): i32 {
  let p = argAlloc(utf8Size(msg));
  let rc = sendRaw(conn, p, putUTF8(msg, p), FLAG_TEXT);
  argFree(p);
  return rc;
}

/** Queues `data` for `conn` with `flags` (FLAG_TEXT: data must be UTF-8; FLAG_BINARY). */
export function sendBytes(conn: u64, data: Uint8Array, flags: u32 = FLAG_TEXT): i32 {
  return sendRaw(conn, data.dataStart, <usize>data.length, flags);
}

/** Queues a binary message for `conn`; results as for send. */
export function sendBinary(conn: u64, data: Uint8Array): i32 {
  return sendRaw(conn, data.dataStart, <usize>data.length, FLAG_BINARY);
}

/**
 * Queues the text message `msg` for every member of `room` but `except`
 * (0: nobody is left out). Returns the number of connections of this node it
 * was queued for, or an error as for send, or ERR_BAD_ARG for a bad room name.
 */
export function broadcast(room: string, msg: string, except: u64 = 0): i32 {
  let rl = utf8Size(room);
  let p = argAlloc(rl + utf8Size(msg));
  rl = putUTF8(room, p);
  let ml = putUTF8(msg, p + rl);
  let rc = hostBroadcast(p, <u32>rl, p + rl, <u32>ml, FLAG_TEXT, except);
  argFree(p);
  return rc;
}

/** Broadcasts `data` with `flags` (FLAG_TEXT or FLAG_BINARY); results as for broadcast. */
export function broadcastBytes(room: string, data: Uint8Array, flags: u32 = FLAG_TEXT, except: u64 = 0): i32 {
  let p = argAlloc(utf8Size(room));
  let rl = putUTF8(room, p);
  let rc = hostBroadcast(p, <u32>rl, data.dataStart, <u32>data.length, flags, except);
  argFree(p);
  return rc;
}

/** Broadcasts a binary message; results as for broadcast. */
export function broadcastBinary(room: string, data: Uint8Array, except: u64 = 0): i32 {
  return broadcastBytes(room, data, FLAG_BINARY, except);
}

/**
 * Starts the closing handshake of `conn` with `code` (1000 or 3000..4999) and
 * `reason` (at most 123 bytes of UTF-8). Returns 0, or ERR_NOT_FOUND,
 * ERR_CLOSED (already closing), ERR_BAD_ARG (bad code), ERR_TOO_LARGE.
 */
export function close(conn: u64, code: i32, reason: string = ""): i32 {
  let p = argAlloc(utf8Size(reason));
  let rc = hostClose(conn, code, p, <u32>putUTF8(reason, p));
  argFree(p);
  return rc;
}

// ===========================================================================
// Rooms
// ===========================================================================

/**
 * Adds `conn` to `room` (1 to 256 bytes, no '\n'; else ERR_BAD_ARG), creating
 * the room on its first join. Returns 0, also when it already was a member.
 */
export function join(conn: u64, room: string): i32 {
  let p = argAlloc(utf8Size(room));
  let rc = hostJoin(conn, p, <u32>putUTF8(room, p));
  argFree(p);
  return rc;
}

/** Removes `conn` from `room`; ERR_NOT_FOUND when it was not a member. */
export function leave(conn: u64, room: string): i32 {
  let p = argAlloc(utf8Size(room));
  let rc = hostLeave(conn, p, <u32>putUTF8(room, p));
  argFree(p);
  return rc;
}

/** The number of members of `room` (0 when it does not exist), or an error code. */
export function roomSize(room: string): i32 {
  let p = argAlloc(utf8Size(room));
  let rc = hostRoomSize(p, <u32>putUTF8(room, p));
  argFree(p);
  return rc;
}

/** The ids of the members of `room`, in the host's order (empty when it does not exist); null on error. */
export function roomMembers(room: string): Array<u64> | null {
  let p = argAlloc(utf8Size(room));
  let rc = fetch(OP_ROOM_MEMBERS, 8, 0, p, <u32>putUTF8(room, p));
  argFree(p);
  last = rc;
  if (rc < 0) {
    fetchDone();
    return null;
  }
  let ids = new Array<u64>(rc);
  for (let i = 0; i < rc; i++) {
    unchecked(ids[i] = load<u64>(fetched + (<usize>i << 3))); // wasm is little-endian, as the ABI
  }
  fetchDone();
  return ids;
}

/** The names of the rooms `conn` is in, in the host's order; null on error. lastResult() is the byte size. */
export function connRooms(conn: u64): Array<string> | null {
  let rc = fetch(OP_CONN_ROOMS, 1, conn, 0, 0);
  last = rc;
  if (rc < 0) {
    fetchDone();
    return null;
  }
  let rooms = new Array<string>();
  let start: usize = 0;
  for (let i: usize = 0; i < <usize>rc; i++) {
    if (load<u8>(fetched + i) == 0x0A) {
      rooms.push(String.UTF8.decodeUnsafe(fetched + start, i - start));
      start = i + 1;
    }
  }
  fetchDone();
  return rooms;
}

// ===========================================================================
// Connections
// ===========================================================================

// keyed runs a buffer-filling call with a string key and leaves the result at
// `fetched` (release with fetchDone).
// @ts-ignore: decorator
@inline function keyed(op: i32, conn: u64, key: string): i32 {
  let p = argAlloc(utf8Size(key));
  let rc = fetch(op, 1, conn, p, <u32>putUTF8(key, p));
  argFree(p);
  last = rc;
  return rc;
}

function fetchedString(rc: i32): string | null {
  let s: string | null = rc < 0 ? null : String.UTF8.decodeUnsafe(fetched, <usize>rc);
  fetchDone();
  return s;
}

function fetchedBytes(rc: i32): Uint8Array | null {
  let b: Uint8Array | null = null;
  if (rc >= 0) {
    let a = new Uint8Array(rc);
    memory.copy(a.dataStart, fetched, <usize>rc);
    b = a;
  }
  fetchDone();
  return b;
}

/**
 * A property of connection `conn`: "id" (decimal), "remote_addr", "path",
 * "query.NAME" (first value), "header.NAME" (case-insensitive),
 * "subprotocol" ("" when none), "attr.NAME" (set with connSet). null when the
 * key is absent (lastResult() == ERR_NOT_FOUND) or on another error; a key
 * present with an empty value ("?room=") is "".
 */
export function connInfo(conn: u64, key: string): string | null {
  return fetchedString(keyed(OP_CONN_INFO, conn, key));
}

/** connInfo as raw bytes (header values need not be UTF-8). */
export function connInfoBytes(conn: u64, key: string): Uint8Array | null {
  return fetchedBytes(keyed(OP_CONN_INFO, conn, key));
}

/**
 * Sets attribute `key` of live connection `conn`, which connInfo then reports
 * as "attr." + key; an empty value removes it. Attributes last as long as the
 * connection, across reloads, and are seen by every instance.
 */
export function connSet(conn: u64, key: string, value: string): i32 {
  let kl = utf8Size(key);
  let p = argAlloc(kl + utf8Size(value));
  kl = putUTF8(key, p);
  let vl = putUTF8(value, p + kl);
  let rc = hostConnSet(conn, p, <u32>kl, p + kl, <u32>vl);
  argFree(p);
  return rc;
}

// ===========================================================================
// Plugin state and configuration
// ===========================================================================

/** A copy of the value of `key` in the plugin's store; null when not set (ERR_NOT_FOUND) or on error. */
export function stateGet(key: string): Uint8Array | null {
  return fetchedBytes(keyed(OP_STATE_GET, 0, key));
}

/** stateGet decoded as UTF-8. */
export function stateGetString(key: string): string | null {
  return fetchedString(keyed(OP_STATE_GET, 0, key));
}

/** Sets `key` to `value` (an empty value is a value). 0, or ERR_LIMIT when the quota would be passed. */
export function stateSet(key: string, value: Uint8Array): i32 {
  let p = argAlloc(utf8Size(key));
  let rc = hostStateSet(p, <u32>putUTF8(key, p), value.dataStart, <u32>value.length);
  argFree(p);
  return rc;
}

/** stateSet with a string value, stored as UTF-8. */
export function stateSetString(key: string, value: string): i32 {
  let kl = utf8Size(key);
  let p = argAlloc(kl + utf8Size(value));
  kl = putUTF8(key, p);
  let vl = putUTF8(value, p + kl);
  let rc = hostStateSet(p, <u32>kl, p + kl, <u32>vl);
  argFree(p);
  return rc;
}

/** Removes `key`; ERR_NOT_FOUND when it was not set. */
export function stateDelete(key: string): i32 {
  let p = argAlloc(utf8Size(key));
  let rc = hostStateDelete(p, <u32>putUTF8(key, p));
  argFree(p);
  return rc;
}

const addOut = memory.data(8);

/**
 * Atomically adds `delta` to the counter at `key` (a little-endian i64; a
 * missing key counts as 0) and returns the new value. On error it returns 0
 * and lastResult() is the code (ERR_BAD_ARG when the value is not 8 bytes).
 * stateAdd(key, 0) reads a counter.
 */
export function stateAdd(key: string, delta: i64): i64 {
  let p = argAlloc(utf8Size(key));
  let rc = hostStateAdd(p, <u32>putUTF8(key, p), delta, addOut);
  argFree(p);
  last = rc;
  return rc < 0 ? 0 : load<i64>(addOut);
}

/** The value of `key` in the [config] table of the plugin's manifest; null when absent. */
export function config(key: string): string | null {
  return fetchedString(keyed(OP_CONFIG_GET, 0, key));
}

// ===========================================================================
// Logging and time
// ===========================================================================

/** Writes `msg` to the host's log at `level` (LEVEL_DEBUG .. LEVEL_ERROR). */
export function log(level: i32, msg: string): void {
  let p = argAlloc(utf8Size(msg));
  hostLog(level, p, <u32>putUTF8(msg, p));
  argFree(p);
}

/** The host's clock, Unix time in nanoseconds; 0 when the call was refused (budget spent). */
export function now(): i64 {
  let ns = hostNow();
  return ns < 0 ? 0 : ns;
}

// ===========================================================================
// UTF-8 helpers
// ===========================================================================

/** Decodes UTF-8 bytes into a new string. */
export function text(data: Uint8Array): string {
  return String.UTF8.decodeUnsafe(data.dataStart, <usize>data.length);
}

/** Encodes a string as UTF-8 into a new array (a lone surrogate becomes U+FFFD). */
export function utf8(s: string): Uint8Array {
  let a = new Uint8Array(<i32>utf8Size(s));
  putUTF8(s, a.dataStart);
  return a;
}

/** The length of `s` in UTF-8 bytes. */
export function utf8Length(s: string): i32 {
  return <i32>utf8Size(s);
}

/** Whether `data` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
export function isValidUTF8(data: Uint8Array): bool {
  let p = data.dataStart;
  let end = p + <usize>data.length;
  while (p < end) {
    let b0 = <u32>load<u8>(p);
    if (b0 < 0x80) { p++; continue; }
    let n: usize;
    let lo: u32 = 0x80;
    let hi: u32 = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 1;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 2;
      if (b0 == 0xE0) lo = 0xA0;
      else if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 3;
      if (b0 == 0xF0) lo = 0x90;
      else if (b0 == 0xF4) hi = 0x8F;
    } else return false;
    if (end - p <= n) return false;
    let b1 = <u32>load<u8>(p, 1);
    if (b1 < lo || b1 > hi) return false;
    for (let i: usize = 2; i <= n; i++) {
      let b = <u32>load<u8>(p + i);
      if (b < 0x80 || b > 0xBF) return false;
    }
    p += n + 1;
  }
  return true;
}

/**
 * Compares two strings in the order of their UTF-8 bytes (code point order),
 * which is how the other languages' plugins sort; String's own order compares
 * UTF-16 units. Use as a sort comparator: names.sort(compareUTF8).
 */
export function compareUTF8(a: string, b: string): i32 {
  let n = min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = <i32>a.charCodeAt(i);
    let y = <i32>b.charCodeAt(i);
    if (x == y) continue;
    // Surrogates (D800..DFFF) encode code points above FFFF: move them above E000..FFFF.
    if (x >= 0xD800) x = x >= 0xE000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xD800) y = y >= 0xE000 ? y - 0x800 : y + 0x2000;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// ===========================================================================
// abort
// ===========================================================================


/**
 * The replacement for AssemblyScript's `abort`, which would otherwise be
 * imported from module "env" (the host refuses such a module). Build with
 *   --use abort=~lib/@wshost/sdk/assembly/index/wshostAbort
 * It logs "abort: MESSAGE at FILE:LINE:COLUMN" at error level, then traps:
 * the host discards the instance and reports a fault to on_error.
 */
export function wshostAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  // A flag in static memory rather than a global: the compiler may compile
  // abort before this file's globals are declared.
  let aborting = memory.data(1);
  if (load<u8>(aborting) == 0) {
    store<u8>(aborting, 1); // an abort while logging (out of memory, say) traps at once
    let msg = "abort: " + (message !== null ? message : "(no message)");
    if (fileName !== null) msg += " at " + fileName + ":" + line.toString() + ":" + column.toString();
    log(LEVEL_ERROR, msg);
  }
  unreachable();
}

/**
 * The replacement for `trace` (else imported from "env"): logs at debug
 * level. Build with --use trace=~lib/@wshost/sdk/assembly/index/wshostTrace
 */
export function wshostTrace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let msg = "trace: " + message;
  if (n > 0) msg += " " + a0.toString();
  if (n > 1) msg += ", " + a1.toString();
  if (n > 2) msg += ", " + a2.toString();
  if (n > 3) msg += ", " + a3.toString();
  if (n > 4) msg += ", " + a4.toString();
  log(LEVEL_DEBUG, msg);
}

/**
 * The replacement for `seed` (the seed of Math.random, else imported from
 * "env"): the host's clock. Build with
 *   --use seed=~lib/@wshost/sdk/assembly/index/wshostSeed
 */
export function wshostSeed(): f64 {
  return <f64>hostNow();
}
