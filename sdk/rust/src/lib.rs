//! SDK for writing [wshost](https://github.com/wshost/wshost) plugins in Rust.
//!
//! A wshost plugin is a WebAssembly module: the host keeps the WebSocket
//! connections, the rooms, the connection attributes and a key/value store;
//! the plugin decides what happens when a connection opens, sends a message,
//! fails or closes. This crate implements the plugin side of ABI v1
//! (`sdk/ABI.md`):
//!
//! - the 18 host functions as safe functions returning [`Result`]
//!   ([`send`], [`broadcast`], [`join`], [`conn_info`], [`state_add`], ...),
//!   and unchecked in [`raw`];
//! - the events as the [`Handler`] trait, and the [`plugin!`] macro that
//!   exports `wshost_abi_v1`, `on_open`, `on_message`, `on_close` and
//!   `on_error` for a type implementing it.
//!
//! ```ignore
//! use wshost::{ConnId, Handler, Message};
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl Handler for Echo {
//!     fn on_message(&mut self, conn: ConnId, msg: Message<'_>) -> wshost::Result<()> {
//!         match msg {
//!             Message::Text(text) => wshost::send(conn, text),
//!             Message::Binary(data) => wshost::send_binary(conn, data),
//!         }
//!     }
//! }
//!
//! wshost::plugin!(Echo);
//! ```
//!
//! Build it as a `cdylib` for `wasm32-unknown-unknown`; see README.md.
//!
//! A panic traps (with `panic = "abort"`, the default of
//! `wasm32-unknown-unknown`): the host reports it as a fault, `on_error`
//! kind 3. With the default feature `std`, the panic message is logged
//! first, at error level.
//!
//! Without default features the crate is `no_std` and needs only `alloc`
//! (results are `Vec`s and `String`s). Outside WebAssembly the crate
//! compiles, so a plugin's pure logic can be unit tested natively, but
//! calling a host function there panics.

#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

mod handler;
mod host;
#[cfg(not(target_arch = "wasm32"))]
mod native;
pub mod raw;

pub use handler::{Handler, Message};
pub use host::*;

#[doc(hidden)]
pub mod __private {
    pub use crate::handler::{init, on_close, on_error, on_message, on_open};
}

use core::fmt;

/// A connection id: never 0 for a real connection, unique for the life of
/// the cluster, never reused. `Display` writes it in decimal, as
/// `conn_info(conn, "id")` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u64> for ConnId {
    fn from(id: u64) -> Self {
        ConnId(id)
    }
}

impl From<ConnId> for u64 {
    fn from(c: ConnId) -> Self {
        c.0
    }
}

/// An error a host function reported: one of the five negative codes of
/// ABI v1, or [`Error::Other`] for any other code (a newer host's, or one a
/// plugin returns from a handler on purpose).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// `-1` `ERR_NOT_FOUND`: no such connection, room member, key or
    /// attribute.
    NotFound,
    /// `-2` `ERR_BAD_ARG`: a memory range outside linear memory, a bad name,
    /// close code or flags, invalid UTF-8.
    BadArg,
    /// `-3` `ERR_TOO_LARGE`: a message over the message limit, a close
    /// reason over 123 bytes.
    TooLarge,
    /// `-4` `ERR_CLOSED`: the connection is closing or gone.
    Closed,
    /// `-5` `ERR_LIMIT`: the callback's host-call budget is spent, or the
    /// plugin's `state_*` total would pass its limit.
    Limit,
    /// Any other code. [`Error::code`] returns it as is.
    Other(i32),
}

impl Error {
    /// The error a negative result code stands for; `None` for a success
    /// (`rc >= 0`).
    pub const fn from_code(rc: i32) -> Option<Error> {
        if rc >= 0 {
            return None;
        }
        Some(match rc {
            -1 => Error::NotFound,
            -2 => Error::BadArg,
            -3 => Error::TooLarge,
            -4 => Error::Closed,
            -5 => Error::Limit,
            _ => Error::Other(rc),
        })
    }

    /// The raw ABI code: `-1` for [`Error::NotFound`] ... `-5` for
    /// [`Error::Limit`], the carried value for [`Error::Other`].
    pub const fn code(self) -> i32 {
        match self {
            Error::NotFound => -1,
            Error::BadArg => -2,
            Error::TooLarge => -3,
            Error::Closed => -4,
            Error::Limit => -5,
            Error::Other(rc) => rc,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str("wshost: not found"),
            Error::BadArg => f.write_str("wshost: bad argument"),
            Error::TooLarge => f.write_str("wshost: too large"),
            Error::Closed => f.write_str("wshost: connection closed"),
            Error::Limit => f.write_str("wshost: limit reached"),
            Error::Other(rc) => write!(f, "wshost: error {}", rc),
        }
    }
}

/// The result of a host function.
pub type Result<T> = core::result::Result<T, Error>;

/// Maps a status-only result code to `Ok(())` or the error.
#[inline]
pub(crate) fn status(rc: i32) -> Result<()> {
    match Error::from_code(rc) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Maps a count or size result to `Ok(rc)` or the error.
#[inline]
pub(crate) fn count(rc: i32) -> Result<u32> {
    match Error::from_code(rc) {
        None => Ok(rc as u32),
        Some(e) => Err(e),
    }
}

/// Why the host called [`Handler::on_error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `1`: the client broke the protocol (invalid UTF-8 in a text frame, a
    /// frame over the limit, a malformed frame); the host closes with
    /// 1007, 1009 or 1002. `on_close` follows.
    Protocol,
    /// `2`: the connection's send queue overflowed; the host closes with
    /// 1008. `on_close` follows.
    Slow,
    /// `3`: a callback for this connection trapped or ran past its deadline;
    /// the text starts with `trap:` or `deadline:` and names the callback.
    /// The host discarded that instance (its globals are lost); the
    /// connection stays open unless the manifest says otherwise.
    Fault,
    /// `4`: reading or writing the socket failed; the connection is gone.
    /// `on_close` follows.
    Io,
    /// A kind this SDK does not know.
    Other(i32),
}

impl ErrorKind {
    /// The kind the ABI number stands for.
    pub const fn from_code(kind: i32) -> ErrorKind {
        match kind {
            1 => ErrorKind::Protocol,
            2 => ErrorKind::Slow,
            3 => ErrorKind::Fault,
            4 => ErrorKind::Io,
            _ => ErrorKind::Other(kind),
        }
    }

    /// The ABI number: 1 to 4, or the carried value.
    pub const fn code(self) -> i32 {
        match self {
            ErrorKind::Protocol => 1,
            ErrorKind::Slow => 2,
            ErrorKind::Fault => 3,
            ErrorKind::Io => 4,
            ErrorKind::Other(kind) => kind,
        }
    }

    /// `"protocol"`, `"slow"`, `"fault"`, `"io"`, or `"unknown"`.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Protocol => "protocol",
            ErrorKind::Slow => "slow",
            ErrorKind::Fault => "fault",
            ErrorKind::Io => "io",
            ErrorKind::Other(_) => "unknown",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Other(kind) => write!(f, "kind({})", kind),
            k => f.write_str(k.name()),
        }
    }
}

/// A log level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum Level {
    /// `0`
    Debug = 0,
    /// `1`
    Info = 1,
    /// `2`
    Warn = 2,
    /// `3`
    Error = 3,
}

/// Stops the callback with a WebAssembly trap (`unreachable`), which the
/// host reports as a fault (`on_error` kind 3, `trap:`). A `panic!` does the
/// same when the plugin is built with `panic = "abort"`, the default of
/// `wasm32-unknown-unknown`.
#[inline]
pub fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("wshost: trap");
}

#[cfg(test)]
mod tests;
