//! Tests of the SDK's logic against a fake host (native only).

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use std::format;

use crate::*;

/// An in-memory host that implements the functions of `raw` the way
/// sdk/ABI.md says the real one does, enough to test the wrappers.
pub mod fake {
    #![allow(missing_docs, clippy::missing_safety_doc)]
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    #[derive(Default)]
    pub struct Host {
        pub event: Vec<u8>,
        pub rooms: BTreeMap<Vec<u8>, Vec<u64>>,
        pub info: BTreeMap<(u64, Vec<u8>), Vec<u8>>,
        pub state: BTreeMap<Vec<u8>, Vec<u8>>,
        pub sent: Vec<(u64, Vec<u8>, u32)>,
        pub logs: Vec<(i32, Vec<u8>)>,
        pub calls: u32,
        /// How many times room_members adds 100 members to the room before
        /// answering, on each call after the first (the room grows between
        /// the calls of a fetch).
        pub grow_members: u64,
    }

    std::thread_local! {
        pub static HOST: RefCell<Host> = RefCell::new(Host::default());
    }

    /// Runs f with the fake host, counting one host call.
    fn with<R>(f: impl FnOnce(&mut Host) -> R) -> R {
        HOST.with(|h| {
            let mut h = h.borrow_mut();
            h.calls += 1;
            f(&mut h)
        })
    }

    pub fn reset() -> () {
        HOST.with(|h| *h.borrow_mut() = Host::default())
    }

    pub fn inspect<R>(f: impl FnOnce(&mut Host) -> R) -> R {
        HOST.with(|h| f(&mut h.borrow_mut()))
    }

    unsafe fn get(p: *const u8, n: u32) -> Vec<u8> {
        core::slice::from_raw_parts(p, n as usize).to_vec()
    }

    /// Writes what fits of data and returns its full size, as every
    /// buffer-filling host function does.
    unsafe fn put(p: *mut u8, n: u32, data: &[u8]) -> i32 {
        let k = data.len().min(n as usize);
        core::ptr::copy_nonoverlapping(data.as_ptr(), p, k);
        data.len() as i32
    }

    fn room_ok(room: &[u8]) -> bool {
        !room.is_empty() && room.len() <= 256 && !room.contains(&b'\n')
    }

    pub unsafe fn event_read(ptr: *mut u8, len: u32) -> i32 {
        with(|h| put(ptr, len, &h.event))
    }
    pub unsafe fn send(conn: u64, ptr: *const u8, len: u32, flags: u32) -> i32 {
        let msg = get(ptr, len);
        if flags > 1 || (flags == 0 && core::str::from_utf8(&msg).is_err()) {
            return -2;
        }
        with(|h| {
            if !h.info.contains_key(&(conn, b"id".to_vec())) {
                return -1;
            }
            h.sent.push((conn, msg, flags));
            0
        })
    }
    pub unsafe fn broadcast(room_ptr: *const u8, room_len: u32, ptr: *const u8, len: u32, flags: u32, except: u64) -> i32 {
        let (room, msg) = (get(room_ptr, room_len), get(ptr, len));
        if !room_ok(&room) || flags > 1 {
            return -2;
        }
        with(|h| {
            let members: Vec<u64> = h.rooms.get(&room).cloned().unwrap_or_default();
            let mut n = 0;
            for m in members.into_iter().filter(|&m| m != except) {
                h.sent.push((m, msg.clone(), flags));
                n += 1;
            }
            n
        })
    }
    pub unsafe fn close(conn: u64, code: i32, _reason_ptr: *const u8, reason_len: u32) -> i32 {
        if code != 1000 && !(3000..=4999).contains(&code) {
            return -2;
        }
        if reason_len > 123 {
            return -3;
        }
        with(|h| if h.info.contains_key(&(conn, b"id".to_vec())) { 0 } else { -1 })
    }
    pub unsafe fn join(conn: u64, room_ptr: *const u8, room_len: u32) -> i32 {
        let room = get(room_ptr, room_len);
        if !room_ok(&room) {
            return -2;
        }
        with(|h| {
            let m = h.rooms.entry(room).or_default();
            if !m.contains(&conn) {
                m.push(conn);
            }
            0
        })
    }
    pub unsafe fn leave(conn: u64, room_ptr: *const u8, room_len: u32) -> i32 {
        let room = get(room_ptr, room_len);
        if !room_ok(&room) {
            return -2;
        }
        with(|h| {
            let m = h.rooms.entry(room.clone()).or_default();
            let before = m.len();
            m.retain(|&c| c != conn);
            let rc = if m.len() < before { 0 } else { -1 };
            if m.is_empty() {
                h.rooms.remove(&room);
            }
            rc
        })
    }
    pub unsafe fn room_size(room_ptr: *const u8, room_len: u32) -> i32 {
        let room = get(room_ptr, room_len);
        if !room_ok(&room) {
            return -2;
        }
        with(|h| h.rooms.get(&room).map_or(0, |m| m.len() as i32))
    }
    pub unsafe fn room_members(room_ptr: *const u8, room_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32 {
        let room = get(room_ptr, room_len);
        if !room_ok(&room) {
            return -2;
        }
        with(|h| {
            if h.grow_members > 0 && h.calls > 1 {
                let base = 1000 * h.calls as u64;
                h.rooms.entry(room.clone()).or_default().extend(base..base + 100);
                h.grow_members -= 1;
            }
            let m = h.rooms.get(&room).cloned().unwrap_or_default();
            let fit = (buf_len as usize / 8).min(m.len());
            for (i, id) in m[..fit].iter().enumerate() {
                core::ptr::copy_nonoverlapping(id.to_le_bytes().as_ptr(), buf_ptr.add(8 * i), 8);
            }
            m.len() as i32
        })
    }
    pub unsafe fn conn_rooms(conn: u64, buf_ptr: *mut u8, buf_len: u32) -> i32 {
        with(|h| {
            let mut b = Vec::new();
            for (room, m) in &h.rooms {
                if m.contains(&conn) {
                    b.extend_from_slice(room);
                    b.push(b'\n');
                }
            }
            put(buf_ptr, buf_len, &b)
        })
    }
    pub unsafe fn conn_info(conn: u64, key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32 {
        let key = get(key_ptr, key_len);
        with(|h| match h.info.get(&(conn, key)) {
            Some(v) => put(buf_ptr, buf_len, v),
            None => -1,
        })
    }
    pub unsafe fn conn_set(conn: u64, key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32) -> i32 {
        let mut key = b"attr.".to_vec();
        key.extend_from_slice(&get(key_ptr, key_len));
        let val = get(val_ptr, val_len);
        with(|h| {
            if val.is_empty() {
                h.info.remove(&(conn, key));
            } else {
                h.info.insert((conn, key), val);
            }
            0
        })
    }
    pub unsafe fn state_get(key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32 {
        let key = get(key_ptr, key_len);
        with(|h| match h.state.get(&key) {
            Some(v) => put(buf_ptr, buf_len, v),
            None => -1,
        })
    }
    pub unsafe fn state_set(key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32) -> i32 {
        let (key, val) = (get(key_ptr, key_len), get(val_ptr, val_len));
        with(|h| {
            h.state.insert(key, val);
            0
        })
    }
    pub unsafe fn state_delete(key_ptr: *const u8, key_len: u32) -> i32 {
        let key = get(key_ptr, key_len);
        with(|h| if h.state.remove(&key).is_some() { 0 } else { -1 })
    }
    pub unsafe fn state_add(key_ptr: *const u8, key_len: u32, delta: i64, out_ptr: *mut u8) -> i32 {
        let key = get(key_ptr, key_len);
        with(|h| {
            let old = match h.state.get(&key) {
                None => 0,
                Some(v) if v.len() == 8 => i64::from_le_bytes(v[..].try_into().unwrap()),
                Some(_) => return -2,
            };
            let new = old.wrapping_add(delta);
            h.state.insert(key, new.to_le_bytes().to_vec());
            core::ptr::copy_nonoverlapping(new.to_le_bytes().as_ptr(), out_ptr, 8);
            0
        })
    }
    pub unsafe fn config_get(key_ptr: *const u8, key_len: u32, buf_ptr: *mut u8, buf_len: u32) -> i32 {
        let key = get(key_ptr, key_len);
        with(|_| if key == b"greeting" { put(buf_ptr, buf_len, b"hello") } else { -1 })
    }
    pub unsafe fn log(level: i32, ptr: *const u8, len: u32) {
        let msg = get(ptr, len);
        with(|h| h.logs.push((level, msg)))
    }
    pub unsafe fn now() -> i64 {
        with(|_| 1_700_000_000_000_000_000)
    }
}

/// Resets the fake host and adds connections 1..=n.
fn setup(n: u64) {
    fake::reset();
    fake::inspect(|h| {
        for c in 1..=n {
            h.info.insert((c, b"id".to_vec()), c.to_string().into_bytes());
        }
    });
}

fn calls() -> u32 {
    fake::inspect(|h| core::mem::take(&mut h.calls))
}

fn sent() -> Vec<(u64, String, u32)> {
    fake::inspect(|h| h.sent.drain(..).map(|(c, m, f)| (c, String::from_utf8(m).unwrap(), f)).collect())
}

#[test]
fn error_codes() {
    for rc in 0..3 {
        assert_eq!(Error::from_code(rc), None);
    }
    let all = [Error::NotFound, Error::BadArg, Error::TooLarge, Error::Closed, Error::Limit];
    for (i, e) in all.iter().enumerate() {
        let rc = -(i as i32) - 1;
        assert_eq!(Error::from_code(rc), Some(*e));
        assert_eq!(e.code(), rc);
    }
    assert_eq!(Error::from_code(-77), Some(Error::Other(-77)));
    assert_eq!(Error::Other(-77).code(), -77);
    assert_eq!(Error::Closed.to_string(), "wshost: connection closed");
    assert_eq!(ErrorKind::from_code(2), ErrorKind::Slow);
    assert_eq!(ErrorKind::Io.code(), 4);
    assert_eq!(ErrorKind::Fault.to_string(), "fault");
    assert_eq!(ErrorKind::from_code(9).to_string(), "kind(9)");
    assert_eq!(ConnId(42).to_string(), "42");
}

#[test]
fn fetch_grows_until_it_fits() {
    // A result that grows between calls: the loop asks again each time the
    // buffer was too small (it grows by an eighth more than needed).
    let sizes = [10usize, 300, 400, 5000];
    let mut i = 0;
    let (b, rc) = host::fetch(1, 8, |p, n| {
        let size = sizes[i.min(sizes.len() - 1)];
        i += 1;
        for k in 0..size.min(n as usize) {
            unsafe { *p.add(k) = k as u8 };
        }
        size as i32
    })
    .unwrap();
    assert_eq!((b.len(), rc as usize), (5000, 5000));
    assert!(b.iter().enumerate().all(|(k, &x)| x == k as u8));
    assert_eq!(i, 5);

    // One call when the first guess is large enough; units of 8 bytes.
    let mut i = 0;
    let (b, rc) = host::fetch(8, 64, |_, n| {
        i += 1;
        assert_eq!(n, 64);
        3
    })
    .unwrap();
    assert_eq!((b.len(), rc, i), (24, 3, 1));

    assert_eq!(host::fetch(1, 8, |_, _| -4), Err(Error::Closed));
}

#[test]
fn parsing() {
    let mut b = Vec::new();
    b.extend_from_slice(&7u64.to_le_bytes());
    b.extend_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(host::parse_members(&b), vec![ConnId(7), ConnId(u64::MAX)]);
    assert_eq!(host::parse_rooms(b"lobby\nannex\n"), vec!["lobby", "annex"]);
    assert_eq!(host::parse_rooms(b""), Vec::<String>::new());
    assert_eq!(host::parse_rooms(b"a\xff\n"), vec!["a\u{fffd}"]);
}

#[test]
fn wrappers_against_the_fake_host() {
    setup(3);
    let (a, b) = (ConnId(1), ConnId(2));
    assert_eq!(join(a, "lobby"), Ok(()));
    assert_eq!(join(b, "lobby"), Ok(()));
    assert_eq!(join(b, ""), Err(Error::BadArg));
    assert_eq!(room_size("lobby"), Ok(2));
    assert_eq!(room_members("lobby"), Ok(vec![a, b]));
    assert_eq!(room_members("nowhere"), Ok(vec![]));
    assert_eq!(conn_rooms(b), Ok(vec!["lobby".to_string()]));
    calls();

    // 300 members do not fit the first guess: two calls.
    fake::inspect(|h| h.rooms.insert(b"big".to_vec(), (1..=300).collect()));
    let m = room_members("big").unwrap();
    assert_eq!((m.len(), m[299], calls()), (300, ConnId(300), 2));
    // A room that grows between the calls, past the slack of the larger
    // buffer, twice: four calls.
    fake::inspect(|h| h.grow_members = 2);
    let m = room_members("big").unwrap();
    assert_eq!((m.len(), calls()), (500, 4));

    assert_eq!(broadcast("lobby", "hi", Some(a)), Ok(1));
    assert_eq!(broadcast("lobby", "all", None), Ok(2));
    assert_eq!(send(b, "direct"), Ok(()));
    assert_eq!(send_binary(b, &[0xff]), Ok(()));
    assert_eq!(send_flags(b, b"x", 2), Err(Error::BadArg));
    assert_eq!(send(ConnId(99), "x"), Err(Error::NotFound));
    fake::inspect(|h| h.sent.retain(|(_, _, f)| *f == 0));
    assert_eq!(
        sent(),
        vec![(2, "hi".into(), 0), (1, "all".into(), 0), (2, "all".into(), 0), (2, "direct".into(), 0)]
    );

    assert_eq!(conn_info(a, "id"), Ok("1".to_string()));
    assert_eq!(conn_info(a, "attr.nick"), Err(Error::NotFound));
    assert_eq!(conn_set(a, "nick", "alice"), Ok(()));
    assert_eq!(conn_info(a, "attr.nick"), Ok("alice".to_string()));
    let long = "x".repeat(1000);
    assert_eq!(conn_set(a, "long", &long), Ok(()));
    assert_eq!(conn_info(a, "attr.long"), Ok(long));
    fake::inspect(|h| h.info.insert((1, b"header.x".to_vec()), b"a\xffb".to_vec()));
    assert_eq!(conn_info(a, "header.x"), Ok("a\u{fffd}b".to_string()));
    assert_eq!(conn_info_bytes(a, "header.x"), Ok(b"a\xffb".to_vec()));

    assert_eq!(state_get("k"), Err(Error::NotFound));
    assert_eq!(state_set("k", b""), Ok(()));
    assert_eq!(state_get("k"), Ok(vec![]));
    assert_eq!(state_add("n", 5), Ok(5));
    assert_eq!(state_add("n", -7), Ok(-2));
    assert_eq!(state_add("k", 1), Err(Error::BadArg));
    assert_eq!(state_delete("k"), Ok(()));
    assert_eq!(state_delete("k"), Err(Error::NotFound));

    assert_eq!(config("greeting"), Ok("hello".to_string()));
    assert_eq!(config("nope"), Err(Error::NotFound));
    assert_eq!(close(a, 999, ""), Err(Error::BadArg));
    assert_eq!(close(a, 4000, &"r".repeat(124)), Err(Error::TooLarge));
    assert_eq!(close(a, 4000, "bye"), Ok(()));
    assert!(now().unwrap() > 0);
    log(Level::Warn, "careful");
    assert_eq!(fake::inspect(|h| h.logs.clone()), vec![(2, b"careful".to_vec())]);
}

/// A handler that records what it was called with.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
}

impl Handler for Recorder {
    fn on_open(&mut self, conn: ConnId) -> bool {
        self.events.push(format!("open {}", conn));
        conn.0 != 3
    }
    fn on_message(&mut self, conn: ConnId, msg: Message<'_>) -> Result<()> {
        self.events.push(match msg {
            Message::Text(t) => format!("text {} {}", conn, t),
            Message::Binary(b) => format!("binary {} {:?}", conn, b),
        });
        send(conn, "reply")
    }
    fn on_close(&mut self, conn: ConnId, code: i32, reason: &str) {
        self.events.push(format!("close {} {} {}", conn, code, reason));
    }
    fn on_error(&mut self, conn: ConnId, kind: ErrorKind, text: &str) {
        self.events.push(format!("error {} {} {}", conn, kind, text));
    }
}

#[test]
fn glue() {
    use crate::__private as g;
    setup(2);
    let mut h = Recorder::default();
    let event = |data: &[u8]| fake::inspect(|host| host.event = data.to_vec());
    assert_eq!(g::on_open(&mut h, 1), 0);
    assert_eq!(g::on_open(&mut h, 3), 1);
    event(b"hello");
    assert_eq!(g::on_message(&mut h, 1, 5, 0), 0);
    // A payload larger than announced is read whole.
    event(&[1, 2, 3]);
    assert_eq!(g::on_message(&mut h, 2, 2, 1), 0);
    // A failed handler reports the error's code.
    event(b"x");
    assert_eq!(g::on_message(&mut h, 99, 1, 0), -1);
    // Invalid UTF-8 in a text message never reaches the handler.
    event(b"\xff");
    assert_eq!(g::on_message(&mut h, 1, 1, 0), -2);
    event(b"");
    assert_eq!(g::on_message(&mut h, 1, 0, 0), 0);
    event(b"trap: boom");
    g::on_error(&mut h, 1, 3, 10);
    event(b"bye");
    g::on_close(&mut h, 1, 4000, 3);
    event(b"");
    g::on_close(&mut h, 2, 1006, 0);
    assert_eq!(
        h.events,
        vec![
            "open 1",
            "open 3",
            "text 1 hello",
            "binary 2 [1, 2, 3]",
            "text 99 x",
            "text 1 ",
            "error 1 fault trap: boom",
            "close 1 4000 bye",
            "close 2 1006 ",
        ]
    );
}

// The macro compiles and exports the functions under the ABI's names.
#[derive(Default)]
struct Exported;
impl Handler for Exported {
    fn on_open(&mut self, _: ConnId) -> bool {
        false
    }
}
crate::plugin!(Exported);

#[test]
fn macro_exports() {
    extern "C" {
        fn wshost_abi_v1();
        fn on_open(conn: u64) -> i32;
        fn on_message(conn: u64, len: u32, flags: u32) -> i32;
    }
    setup(1);
    unsafe {
        wshost_abi_v1();
        assert_eq!(on_open(1), 1);
        assert_eq!(on_message(1, 0, 0), 0);
    }
}
