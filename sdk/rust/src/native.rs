//! The `wshost` functions outside WebAssembly, where there is no host: they
//! exist so that code using the crate compiles natively, and panic when
//! called. The crate's own tests replace them with a fake host.
#![allow(clippy::missing_safety_doc, missing_docs)]

#[cfg(test)]
pub use crate::tests::fake::*;

#[cfg(not(test))]
mod stubs {
    macro_rules! stubs {
        ($(fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {$(
            /// Panics: there is no host outside WebAssembly.
            pub unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                let _ = ($($arg,)*);
                panic!(concat!("wshost::raw::", stringify!($name), ": no host outside WebAssembly"))
            }
        )*};
    }

    stubs! {
        fn event_read(ptr: *mut u8, len: u32) -> i32;
        fn send(conn: u64, ptr: *const u8, len: u32, flags: u32) -> i32;
        fn broadcast(room_ptr: *const u8, room_len: u32, ptr: *const u8, len: u32, flags: u32, except: u64) -> i32;
        fn close(conn: u64, code: i32, reason_ptr: *const u8, reason_len: u32) -> i32;
        fn join(conn: u64, room_ptr: *const u8, room_len: u32) -> i32;
        fn leave(conn: u64, room_ptr: *const u8, room_len: u32) -> i32;
        fn room_size(room_ptr: *const u8, room_len: u32) -> i32;
        fn room_members(room_ptr: *const u8, room_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
        fn conn_rooms(conn: u64, buf_ptr: *mut u8, buf_len: u32) -> i32;
        fn conn_info(conn: u64, key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
        fn conn_set(conn: u64, key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32) -> i32;
        fn state_get(key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
        fn state_set(key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32) -> i32;
        fn state_delete(key_ptr: *const u8, key_len: u32) -> i32;
        fn state_add(key_ptr: *const u8, key_len: u32, delta: i64, out_ptr: *mut u8) -> i32;
        fn config_get(key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32;
        fn log(level: i32, ptr: *const u8, len: u32);
        fn now() -> i64;
    }
}

#[cfg(not(test))]
pub use stubs::*;
