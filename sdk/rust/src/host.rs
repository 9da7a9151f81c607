//! The safe wrappers of the host functions.

use alloc::string::String;
use alloc::vec::Vec;

use crate::{count, raw, status, ConnId, Error, Level, Result};

/// Bit 0 of a message's flags: a binary frame (clear: text).
pub const FLAG_BINARY: u32 = 1;

/// The buffer size the functions returning a value start with: enough for
/// any attribute, query parameter or room list a chat deals with, so the
/// common case is a single host call.
const FIRST_GUESS: usize = 256;

// A Rust slice's pointer is never null; for an empty slice it is a dangling
// but aligned address, which the host reads zero bytes at.
#[inline]
fn len32(b: &[u8]) -> u32 {
    b.len() as u32
}

/// Implements the ABI's rule for buffer results (sdk/ABI.md §4): `call`
/// writes what fits in the buffer it is given and returns the full result,
/// `rc` units of `unit` bytes (or a negative error code); when it did not
/// all fit, grow the buffer and ask again, as often as it takes (the result
/// may grow between two calls). Returns the bytes and `rc`.
pub(crate) fn fetch(unit: usize, first: usize, mut call: impl FnMut(*mut u8, u32) -> i32) -> Result<(Vec<u8>, u32)> {
    let mut buf: Vec<u8> = Vec::with_capacity(first);
    loop {
        let cap = buf.capacity().min(u32::MAX as usize);
        let rc = call(buf.as_mut_ptr(), cap as u32);
        let n = count(rc)?;
        let need = (n as usize).saturating_mul(unit);
        if need <= cap {
            // SAFETY: the host wrote the first `need` bytes (the whole
            // result, which fit) through the pointer it was given.
            unsafe { buf.set_len(need) };
            return Ok((buf, n));
        }
        buf = Vec::with_capacity(need.saturating_add(need / 8));
    }
}

/// Returns the bytes as a `String`, replacing invalid UTF-8 with U+FFFD
/// without copying when they are valid.
fn into_string(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Returns the current event's whole payload: the message in
/// [`Handler::on_message`](crate::Handler::on_message), the error text in
/// `on_error`, the close reason in `on_close`. The [`Handler`](crate::Handler)
/// methods receive it already read; this is for code that reads it again.
pub fn event_read() -> Result<Vec<u8>> {
    // SAFETY: the host writes at most `len` bytes at `ptr`.
    fetch(1, FIRST_GUESS, |p, n| unsafe { raw::event_read(p, n) }).map(|(b, _)| b)
}

/// Reads the current event's payload, whose size the callback announced.
pub(crate) fn read_event(announced: u32) -> Result<Vec<u8>> {
    if announced == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: as above.
    fetch(1, announced as usize, |p, n| unsafe { raw::event_read(p, n) }).map(|(b, _)| b)
}

/// Queues a text message for `conn`.
///
/// Errors: [`Error::NotFound`] (no such connection), [`Error::Closed`]
/// (closing or gone), [`Error::TooLarge`] (over the message limit),
/// [`Error::Limit`] (budget spent).
pub fn send(conn: ConnId, text: &str) -> Result<()> {
    send_flags(conn, text.as_bytes(), 0)
}

/// Queues a binary message for `conn`; errors as for [`send`].
pub fn send_binary(conn: ConnId, data: &[u8]) -> Result<()> {
    send_flags(conn, data, FLAG_BINARY)
}

/// Queues a message with raw ABI `flags` (bit 0: binary; the host rejects
/// any other bit, and a text message that is not UTF-8, with
/// [`Error::BadArg`]).
pub fn send_flags(conn: ConnId, data: &[u8], flags: u32) -> Result<()> {
    // SAFETY: the host only reads `data`.
    status(unsafe { raw::send(conn.0, data.as_ptr(), len32(data), flags) })
}

/// Queues a text message for every member of `room` except `except`
/// (`None`: nobody is left out). Returns how many connections of this node
/// it was queued for (0 for a room that does not exist). Errors as for
/// [`send`], and [`Error::BadArg`] for a bad room name.
pub fn broadcast(room: &str, text: &str, except: Option<ConnId>) -> Result<u32> {
    broadcast_flags(room, text.as_bytes(), 0, except)
}

/// As [`broadcast`], for a binary message.
pub fn broadcast_binary(room: &str, data: &[u8], except: Option<ConnId>) -> Result<u32> {
    broadcast_flags(room, data, FLAG_BINARY, except)
}

/// As [`broadcast`], with raw ABI `flags`.
pub fn broadcast_flags(room: &str, data: &[u8], flags: u32, except: Option<ConnId>) -> Result<u32> {
    let except = except.map_or(0, |c| c.0);
    // SAFETY: the host only reads `room` and `data`.
    count(unsafe { raw::broadcast(room.as_ptr(), room.len() as u32, data.as_ptr(), len32(data), flags, except) })
}

/// Starts the closing handshake of `conn` with `code` (1000 or 3000..=4999)
/// and `reason` (at most 123 bytes). Errors: [`Error::NotFound`],
/// [`Error::Closed`] (already closing), [`Error::BadArg`] (bad code),
/// [`Error::TooLarge`] (reason too long).
pub fn close(conn: ConnId, code: i32, reason: &str) -> Result<()> {
    // SAFETY: the host only reads `reason`.
    status(unsafe { raw::close(conn.0, code, reason.as_ptr(), reason.len() as u32) })
}

/// Adds `conn` to `room`, creating the room on its first join; joining a
/// room again is no error. A room name is 1 to 256 bytes without `\n`
/// (else [`Error::BadArg`]); rooms belong to the plugin.
pub fn join(conn: ConnId, room: &str) -> Result<()> {
    // SAFETY: the host only reads `room`.
    status(unsafe { raw::join(conn.0, room.as_ptr(), room.len() as u32) })
}

/// Removes `conn` from `room`; [`Error::NotFound`] if it was not a member.
/// A room left empty is gone.
pub fn leave(conn: ConnId, room: &str) -> Result<()> {
    // SAFETY: the host only reads `room`.
    status(unsafe { raw::leave(conn.0, room.as_ptr(), room.len() as u32) })
}

/// Returns the number of members of `room` (0 for a room that does not
/// exist).
pub fn room_size(room: &str) -> Result<u32> {
    // SAFETY: the host only reads `room`.
    count(unsafe { raw::room_size(room.as_ptr(), room.len() as u32) })
}

/// Returns the members of `room`, in the host's order (empty for a room
/// that does not exist).
pub fn room_members(room: &str) -> Result<Vec<ConnId>> {
    // SAFETY: the host writes at most `n` bytes at `p`.
    let (b, _) = fetch(8, FIRST_GUESS, |p, n| unsafe { raw::room_members(room.as_ptr(), room.len() as u32, p, n) })?;
    Ok(parse_members(&b))
}

pub(crate) fn parse_members(b: &[u8]) -> Vec<ConnId> {
    b.chunks_exact(8)
        .map(|c| ConnId(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])))
        .collect()
}

/// Returns the names of the rooms `conn` is in, in the host's order (empty
/// when none). During `on_close` they are still the rooms it was in.
/// Names that are not UTF-8 (only [`raw::join`] can make one) have their
/// invalid bytes replaced with U+FFFD.
pub fn conn_rooms(conn: ConnId) -> Result<Vec<String>> {
    // SAFETY: the host writes at most `n` bytes at `p`.
    let (b, _) = fetch(1, FIRST_GUESS, |p, n| unsafe { raw::conn_rooms(conn.0, p, n) })?;
    Ok(parse_rooms(&b))
}

pub(crate) fn parse_rooms(b: &[u8]) -> Vec<String> {
    let mut rooms = Vec::new();
    let mut rest = b;
    while let Some(i) = rest.iter().position(|&c| c == b'\n') {
        rooms.push(String::from_utf8_lossy(&rest[..i]).into_owned());
        rest = &rest[i + 1..];
    }
    rooms
}

/// Returns a property of connection `conn`. Keys: `id` (decimal),
/// `remote_addr`, `path`, `query.NAME` (first value), `header.NAME`
/// (case-insensitive, first value), `subprotocol` (empty when none) and
/// `attr.NAME` (set with [`conn_set`]). An absent key is
/// [`Error::NotFound`]; a present but empty one (`?room=`) is `""`.
/// Invalid UTF-8 is replaced with U+FFFD; [`conn_info_bytes`] returns the
/// bytes as they are.
pub fn conn_info(conn: ConnId, key: &str) -> Result<String> {
    conn_info_bytes(conn, key).map(into_string)
}

/// As [`conn_info`], returning the value's bytes unchanged.
pub fn conn_info_bytes(conn: ConnId, key: &str) -> Result<Vec<u8>> {
    // SAFETY: the host reads `key` and writes at most `n` bytes at `p`.
    fetch(1, FIRST_GUESS, |p, n| unsafe { raw::conn_info(conn.0, key.as_ptr(), key.len() as u32, p, n) }).map(|(b, _)| b)
}

/// Sets attribute `key` of live connection `conn`, which [`conn_info`] then
/// reports as `attr.KEY`; an empty value removes it. Attributes last as long
/// as the connection, across reloads, and are shared by all instances.
pub fn conn_set(conn: ConnId, key: &str, value: &str) -> Result<()> {
    // SAFETY: the host only reads `key` and `value`.
    status(unsafe { raw::conn_set(conn.0, key.as_ptr(), key.len() as u32, value.as_ptr(), value.len() as u32) })
}

/// Returns the value of `key` in the plugin's store, which the host keeps
/// (shared by all instances, kept across reloads); [`Error::NotFound`] if it
/// is not set.
pub fn state_get(key: &str) -> Result<Vec<u8>> {
    // SAFETY: the host reads `key` and writes at most `n` bytes at `p`.
    fetch(1, FIRST_GUESS, |p, n| unsafe { raw::state_get(key.as_ptr(), key.len() as u32, p, n) }).map(|(b, _)| b)
}

/// Sets `key` to `value` in the plugin's store (an empty value is a value,
/// not a deletion). [`Error::Limit`] when the store would pass its limit.
pub fn state_set(key: &str, value: &[u8]) -> Result<()> {
    // SAFETY: the host only reads `key` and `value`.
    status(unsafe { raw::state_set(key.as_ptr(), key.len() as u32, value.as_ptr(), len32(value)) })
}

/// Removes `key` from the plugin's store; [`Error::NotFound`] if it was not
/// set.
pub fn state_delete(key: &str) -> Result<()> {
    // SAFETY: the host only reads `key`.
    status(unsafe { raw::state_delete(key.as_ptr(), key.len() as u32) })
}

/// Atomically adds `delta` to the counter at `key`, a little-endian `i64`
/// (a missing key counts as 0), and returns the new value; `state_add(key,
/// 0)` reads a counter. [`Error::BadArg`] when the key holds a value that
/// is not 8 bytes long.
pub fn state_add(key: &str, delta: i64) -> Result<i64> {
    let mut out = [0u8; 8];
    // SAFETY: the host reads `key` and writes 8 bytes at `out`.
    status(unsafe { raw::state_add(key.as_ptr(), key.len() as u32, delta, out.as_mut_ptr()) })?;
    Ok(i64::from_le_bytes(out))
}

/// Returns the value of `key` in the `[config]` table of the plugin's
/// manifest; [`Error::NotFound`] if there is none. Invalid UTF-8 is
/// replaced with U+FFFD; [`config_bytes`] returns the bytes as they are.
pub fn config(key: &str) -> Result<String> {
    config_bytes(key).map(into_string)
}

/// As [`config`], returning the value's bytes unchanged.
pub fn config_bytes(key: &str) -> Result<Vec<u8>> {
    // SAFETY: the host reads `key` and writes at most `n` bytes at `p`.
    fetch(1, FIRST_GUESS, |p, n| unsafe { raw::config_get(key.as_ptr(), key.len() as u32, p, n) }).map(|(b, _)| b)
}

/// Writes `msg` to the host's log at `level`; the host tags it with the
/// plugin's name and version and the connection. A log past the host-call
/// budget is dropped.
pub fn log(level: Level, msg: &str) {
    // SAFETY: the host only reads `msg`.
    unsafe { raw::log(level as i32, msg.as_ptr(), msg.len() as u32) }
}

/// Returns the host's clock, Unix time in nanoseconds, or
/// [`Error::Limit`] when the callback's host-call budget is spent.
pub fn now() -> Result<i64> {
    // SAFETY: no arguments.
    let ns = unsafe { raw::now() };
    if ns < 0 {
        return Err(Error::from_code(ns.max(i32::MIN as i64) as i32).unwrap_or(Error::Other(i32::MIN)));
    }
    Ok(ns)
}
