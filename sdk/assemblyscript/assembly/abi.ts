// The raw wshost ABI v1 (sdk/ABI.md): the 18 functions of import module
// "wshost" and the numbers the contract defines. index.ts re-exports all of
// it; prefer its wrappers, which take strings and typed arrays and follow the
// buffer rule of ABI §4.
//
// Types map to wasm as the ABI says: pointers are usize (i32 on wasm32),
// lengths and flags u32 (i32, read as unsigned), connection ids u64 (i64),
// results i32 (>= 0 success, < 0 an error code) and `now` i64.

// ---- Error codes (ABI §5) ----

/** No such connection, room member, key or attribute. */
export const ERR_NOT_FOUND: i32 = -1;
/** A memory range outside linear memory, a bad name, close code or flags, invalid UTF-8. */
export const ERR_BAD_ARG: i32 = -2;
/** A message over the message limit, a close reason over 123 bytes. */
export const ERR_TOO_LARGE: i32 = -3;
/** The connection is closing or gone. */
export const ERR_CLOSED: i32 = -4;
/** The callback's host-call budget is spent, or the state quota would be passed. */
export const ERR_LIMIT: i32 = -5;

// ---- Message flags (on_message, send, broadcast) ----

/** A text frame (bit 0 clear). */
export const FLAG_TEXT: u32 = 0;
/** A binary frame (bit 0 set). */
export const FLAG_BINARY: u32 = 1;

// ---- on_error kinds (ABI §7) ----

/** The client broke the protocol; the host closes with 1007, 1009 or 1002. */
export const KIND_PROTOCOL: i32 = 1;
/** The send queue overflowed; the host closes with 1008. */
export const KIND_SLOW: i32 = 2;
/** A callback trapped or ran past its deadline; the text starts with "trap:" or "deadline:". */
export const KIND_FAULT: i32 = 3;
/** Reading or writing the socket failed; the connection is gone. */
export const KIND_IO: i32 = 4;

// ---- Log levels ----

export const LEVEL_DEBUG: i32 = 0;
export const LEVEL_INFO: i32 = 1;
export const LEVEL_WARN: i32 = 2;
export const LEVEL_ERROR: i32 = 3;

// ---- on_open results ----

/** on_open: accept the connection. */
export const ACCEPT: i32 = 0;
/** on_open: reject it (the client gets 403). Any non-zero value rejects. */
export const REJECT: i32 = 1;

// ---- Close codes the host uses ----

export const CLOSE_NORMAL: i32 = 1000;
export const CLOSE_GOING_AWAY: i32 = 1001;
export const CLOSE_PROTOCOL_ERROR: i32 = 1002;
export const CLOSE_NO_STATUS: i32 = 1005;
export const CLOSE_ABNORMAL: i32 = 1006;
export const CLOSE_INVALID_DATA: i32 = 1007;
export const CLOSE_POLICY: i32 = 1008;
export const CLOSE_TOO_BIG: i32 = 1009;

// ---- Events and messages ----

/** Copies the first min(len, size) bytes of the current event's payload to ptr; returns the full size. */
// @ts-ignore: decorator
@external("wshost", "event_read")
export declare function hostEventRead(ptr: usize, len: u32): i32;

/** Queues one message for one connection. */
// @ts-ignore: decorator
@external("wshost", "send")
export declare function hostSend(conn: u64, ptr: usize, len: u32, flags: u32): i32;

/** Queues one message for every member of a room but `except` (0: nobody); returns the count. */
// @ts-ignore: decorator
@external("wshost", "broadcast")
export declare function hostBroadcast(roomPtr: usize, roomLen: u32, ptr: usize, len: u32, flags: u32, except: u64): i32;

/** Starts the closing handshake (code 1000 or 3000..4999, reason at most 123 bytes). */
// @ts-ignore: decorator
@external("wshost", "close")
export declare function hostClose(conn: u64, code: i32, reasonPtr: usize, reasonLen: u32): i32;

// ---- Rooms ----

// @ts-ignore: decorator
@external("wshost", "join")
export declare function hostJoin(conn: u64, roomPtr: usize, roomLen: u32): i32;

// @ts-ignore: decorator
@external("wshost", "leave")
export declare function hostLeave(conn: u64, roomPtr: usize, roomLen: u32): i32;

// @ts-ignore: decorator
@external("wshost", "room_size")
export declare function hostRoomSize(roomPtr: usize, roomLen: u32): i32;

/** Writes as many member ids as fit, 8 bytes each, little-endian; returns the member count. */
// @ts-ignore: decorator
@external("wshost", "room_members")
export declare function hostRoomMembers(roomPtr: usize, roomLen: u32, bufPtr: usize, bufLen: u32): i32;

/** Writes the names of the connection's rooms, each followed by '\n'; returns the full size. */
// @ts-ignore: decorator
@external("wshost", "conn_rooms")
export declare function hostConnRooms(conn: u64, bufPtr: usize, bufLen: u32): i32;

// ---- Connections ----

/** Writes the value of a key (id, remote_addr, path, query.NAME, header.NAME, subprotocol, attr.NAME); returns the full size. */
// @ts-ignore: decorator
@external("wshost", "conn_info")
export declare function hostConnInfo(conn: u64, keyPtr: usize, keyLen: u32, bufPtr: usize, bufLen: u32): i32;

/** Sets attribute attr.KEY of a live connection; valLen 0 removes it. */
// @ts-ignore: decorator
@external("wshost", "conn_set")
export declare function hostConnSet(conn: u64, keyPtr: usize, keyLen: u32, valPtr: usize, valLen: u32): i32;

// ---- Plugin state and configuration ----

// @ts-ignore: decorator
@external("wshost", "state_get")
export declare function hostStateGet(keyPtr: usize, keyLen: u32, bufPtr: usize, bufLen: u32): i32;

// @ts-ignore: decorator
@external("wshost", "state_set")
export declare function hostStateSet(keyPtr: usize, keyLen: u32, valPtr: usize, valLen: u32): i32;

// @ts-ignore: decorator
@external("wshost", "state_delete")
export declare function hostStateDelete(keyPtr: usize, keyLen: u32): i32;

/** Atomically adds delta to the key's little-endian i64 and writes the new value (8 bytes) to outPtr. */
// @ts-ignore: decorator
@external("wshost", "state_add")
export declare function hostStateAdd(keyPtr: usize, keyLen: u32, delta: i64, outPtr: usize): i32;

// @ts-ignore: decorator
@external("wshost", "config_get")
export declare function hostConfigGet(keyPtr: usize, keyLen: u32, bufPtr: usize, bufLen: u32): i32;

// ---- Logging and time ----

// @ts-ignore: decorator
@external("wshost", "log")
export declare function hostLog(level: i32, ptr: usize, len: u32): void;

/** The Unix time in nanoseconds (negative: the call was refused). */
// @ts-ignore: decorator
@external("wshost", "now")
export declare function hostNow(): i64;
