//! The functions of import module `wshost`, exactly as `sdk/ABI.md` declares
//! them: pointers are `i32` addresses in linear memory, lengths `u32`,
//! connection ids `u64`, results `i32` (`>= 0` success, negative an error
//! code; see [`Error::from_code`](crate::Error::from_code)).
//!
//! These are the unchecked building blocks of the safe functions at the
//! crate root; use them only to pass what the wrappers cannot express (a raw
//! `flags` value, a buffer you manage yourself, a deliberately bad pointer).
//! The host never traps because of an argument: a range outside linear
//! memory returns `ERR_BAD_ARG` (-2). They are `unsafe` because the host
//! writes through the buffer pointers it is given.
//!
//! Outside WebAssembly there is no host: the same functions exist so that
//! code depending on the crate compiles natively (for `cargo test` of a
//! plugin's pure logic), but calling one panics.

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wshost")]
extern "C" {
    /// Copies the first `min(len, size)` bytes of the current event's
    /// payload to `ptr`; returns the payload's full size.
    pub fn event_read(ptr: *mut u8, len: u32) -> i32;
    /// Queues one message for one connection; bit 0 of `flags`: binary.
    pub fn send(conn: u64, ptr: *const u8, len: u32, flags: u32) -> i32;
    /// Queues one message for every member of a room but `except` (0:
    /// nobody); returns how many connections of this node it was queued for.
    pub fn broadcast(room_ptr: *const u8, room_len: u32, ptr: *const u8, len: u32, flags: u32, except: u64) -> i32;
    /// Starts the closing handshake with `code` and a reason.
    pub fn close(conn: u64, code: i32, reason_ptr: *const u8, reason_len: u32) -> i32;
    /// Adds the connection to a room.
    pub fn join(conn: u64, room_ptr: *const u8, room_len: u32) -> i32;
    /// Removes the connection from a room.
    pub fn leave(conn: u64, room_ptr: *const u8, room_len: u32) -> i32;
    /// Returns the number of members of a room.
    pub fn room_size(room_ptr: *const u8, room_len: u32) -> i32;
    /// Writes as many member ids as fit (8 bytes each, little-endian);
    /// returns the member count.
    pub fn room_members(room_ptr: *const u8, room_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
    /// Writes the connection's room names, each followed by `\n`; returns the
    /// full size in bytes.
    pub fn conn_rooms(conn: u64, buf_ptr: *mut u8, buf_len: u32) -> i32;
    /// Writes the value of a connection key; returns its full size.
    pub fn conn_info(conn: u64, key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
    /// Sets attribute `attr.KEY`; `val_len` 0 removes it.
    pub fn conn_set(conn: u64, key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32) -> i32;
    /// Writes the value of a key of the plugin's store; returns its full size.
    pub fn state_get(key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
    /// Sets a key of the plugin's store (an empty value is a value).
    pub fn state_set(key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32) -> i32;
    /// Removes a key of the plugin's store.
    pub fn state_delete(key_ptr: *const u8, key_len: u32) -> i32;
    /// Atomically adds `delta` to a little-endian i64 counter and writes the
    /// new value (8 bytes) to `out_ptr`.
    pub fn state_add(key_ptr: *const u8, key_len: u32, delta: i64, out_ptr: *mut u8) -> i32;
    /// Writes the value of a key of the manifest's `[config]` table; returns
    /// its full size.
    pub fn config_get(key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
    /// Writes a log line at level 0 debug, 1 info, 2 warn or 3 error.
    pub fn log(level: i32, ptr: *const u8, len: u32);
    /// Returns the Unix time in nanoseconds.
    pub fn now() -> i64;
}

#[cfg(not(target_arch = "wasm32"))]
pub use crate::native::*;
