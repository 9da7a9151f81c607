//! The events: the `Handler` trait and the glue the `plugin!` macro exports.

use alloc::string::String;

use crate::host::read_event;
use crate::{ConnId, Error, ErrorKind, Result};

/// A data message, as [`Handler::on_message`] receives it. It borrows a
/// buffer of the SDK that lives until the handler returns: copy what you
/// keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// A text message (the host checked it is UTF-8).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

impl<'a> Message<'a> {
    /// The message's bytes, text or binary.
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            Message::Text(s) => s.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// Whether it is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }
}

/// A plugin's event handlers. Every method has a default, so implement only
/// the events you need; [`plugin!`](crate::plugin) exports them.
///
/// The host calls one instance's handlers one at a time, so `&mut self` is
/// the instance's own state: it is kept from one event to the next, but
/// with several instances (the default) each has its own, and a fault
/// discards it. Keep what must be shared in the host (attributes, rooms,
/// [`state_set`](crate::state_set)).
pub trait Handler {
    /// A connection is being opened; it runs during the handshake, before
    /// the `101` response. Return `true` to accept, `false` to reject (the
    /// client gets `403`, and the joins, attributes and messages of this
    /// call are undone). It may [`send`](crate::send) (delivered right
    /// after the handshake), [`join`](crate::join),
    /// [`conn_set`](crate::conn_set) and [`close`](crate::close). The
    /// default accepts every connection.
    fn on_open(&mut self, conn: ConnId) -> bool {
        let _ = conn;
        true
    }

    /// A data message arrived from `conn`; messages of one connection come
    /// in arrival order. An `Err` is reported to the host, which counts and
    /// logs it as a handler error; nothing else happens. The default
    /// ignores messages.
    fn on_message(&mut self, conn: ConnId, msg: Message<'_>) -> Result<()> {
        let _ = (conn, msg);
        Ok(())
    }

    /// An accepted connection ended: `code` is the closing handshake's
    /// (`1005` when the peer sent none, `1006` when the connection dropped,
    /// `1001` at shutdown), `reason` its reason, often empty. The
    /// connection is gone, but [`conn_rooms`](crate::conn_rooms) and
    /// [`conn_info`](crate::conn_info) still answer for it.
    fn on_close(&mut self, conn: ConnId, code: i32, reason: &str) {
        let _ = (conn, code, reason);
    }

    /// A problem with `conn`, see [`ErrorKind`]. For all kinds but
    /// [`ErrorKind::Fault`], `on_close` follows and the connection can no
    /// longer be sent to.
    fn on_error(&mut self, conn: ConnId, kind: ErrorKind, text: &str) {
        let _ = (conn, kind, text);
    }
}

/// Declares the plugin's [`Handler`]: exports `wshost_abi_v1`, `on_open`,
/// `on_message`, `on_close` and `on_error`, which call the handler's
/// methods. Use it once, in the plugin crate (a `cdylib`).
///
/// `plugin!(Type)` creates the handler with `Default::default()`;
/// `plugin!(Type = expr)` with `expr`. Either runs at the instance's first
/// event, and the handler then lives as long as the instance. With the
/// `std` feature (the default) the first event also installs a panic hook
/// that logs a panic's message at error level before it traps.
///
/// ```ignore
/// #[derive(Default)]
/// struct Chat { messages: u64 }
/// impl wshost::Handler for Chat { /* ... */ }
/// wshost::plugin!(Chat);
/// ```
#[macro_export]
macro_rules! plugin {
    ($handler:ty) => {
        $crate::plugin!($handler = <$handler as ::core::default::Default>::default());
    };
    ($handler:ty = $init:expr) => {
        const _: () = {
            // An instance runs one callback at a time and the host calls no
            // export while another one runs, so this is never aliased.
            static mut HANDLER: ::core::option::Option<$handler> = ::core::option::Option::None;

            #[inline(always)]
            fn handler() -> &'static mut $handler {
                // SAFETY: see above; wasm32 plugins are single-threaded.
                unsafe {
                    HANDLER.get_or_insert_with(|| {
                        $crate::__private::init();
                        $init
                    })
                }
            }

            #[no_mangle]
            pub extern "C" fn wshost_abi_v1() {}

            #[no_mangle]
            pub extern "C" fn on_open(conn: u64) -> i32 {
                $crate::__private::on_open(handler(), conn)
            }

            #[no_mangle]
            pub extern "C" fn on_message(conn: u64, len: u32, flags: u32) -> i32 {
                $crate::__private::on_message(handler(), conn, len, flags)
            }

            #[no_mangle]
            pub extern "C" fn on_close(conn: u64, code: i32, len: u32) {
                $crate::__private::on_close(handler(), conn, code, len)
            }

            #[no_mangle]
            pub extern "C" fn on_error(conn: u64, kind: i32, len: u32) {
                $crate::__private::on_error(handler(), conn, kind, len)
            }
        };
    };
}

/// Runs once per instance, at its first event, before the handler is
/// created: with the `std` feature, installs a panic hook that logs the
/// panic message at error level (the panic then traps: `panic = "abort"`).
#[doc(hidden)]
pub fn init() {
    #[cfg(all(feature = "std", target_arch = "wasm32"))]
    std::panic::set_hook(alloc::boxed::Box::new(|info| {
        use alloc::string::ToString;
        crate::log(crate::Level::Error, &info.to_string());
    }));
}

/// The result an export returns for a failed handler: the error's code,
/// which is never 0.
fn failure(e: Error) -> i32 {
    match e.code() {
        0 => 1,
        rc => rc,
    }
}

#[doc(hidden)]
pub fn on_open<H: Handler>(h: &mut H, conn: u64) -> i32 {
    if h.on_open(ConnId(conn)) {
        0
    } else {
        1
    }
}

#[doc(hidden)]
pub fn on_message<H: Handler>(h: &mut H, conn: u64, len: u32, flags: u32) -> i32 {
    let data = match read_event(len) {
        Ok(data) => data,
        Err(e) => return failure(e),
    };
    let msg = if flags & crate::FLAG_BINARY != 0 {
        Message::Binary(&data)
    } else {
        match core::str::from_utf8(&data) {
            Ok(text) => Message::Text(text),
            Err(_) => return failure(Error::BadArg), // the host checks it is UTF-8
        }
    };
    match h.on_message(ConnId(conn), msg) {
        Ok(()) => 0,
        Err(e) => failure(e),
    }
}

/// Reads the payload of on_close and on_error as text (the reason of a
/// close frame is UTF-8, the host's error texts too; anything else is
/// replaced with U+FFFD); empty when it could not be read.
fn read_text(len: u32) -> String {
    let data = read_event(len).unwrap_or_default();
    match String::from_utf8(data) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[doc(hidden)]
pub fn on_close<H: Handler>(h: &mut H, conn: u64, code: i32, len: u32) {
    h.on_close(ConnId(conn), code, &read_text(len));
}

#[doc(hidden)]
pub fn on_error<H: Handler>(h: &mut H, conn: u64, kind: i32, len: u32) {
    h.on_error(ConnId(conn), ErrorKind::from_code(kind), &read_text(len));
}
