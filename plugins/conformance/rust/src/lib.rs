//! The Rust conformance plugin: it speaks the protocol of
//! plugins/conformance/README.md, calling every host function of ABI v1
//! through the Rust SDK (or `wshost::raw` where a command asks for a raw
//! call) and replying with the raw return codes, so the cross-language test
//! checks the SDK as much as the host. It mirrors the Go probe
//! (host/plugin/testdata/probe), extra commands included.

use std::fmt::Display;

use wshost::{raw, ConnId, Error, ErrorKind, Handler, Level, Message, Result};

#[derive(Default)]
struct Conformance {
    /// Results of this instance's last `hostcalls` command.
    last_ok: i64,
    last_limited: i64,
}

wshost::plugin!(Conformance);

impl Handler for Conformance {
    fn on_open(&mut self, c: ConnId) -> bool {
        let mode = match wshost::conn_info(c, "query.open") {
            Ok(mode) => mode,
            Err(_) => return true,
        };
        let (verb, arg) = mode.split_once(':').unwrap_or((&mode, ""));
        match verb {
            "reject" => return false,
            "trap" => wshost::trap(),
            "panic" => panic!("conformance: open=panic"),
            "loop" => run_forever(),
            "join" => drop(wshost::join(c, arg)),
            "joinreject" => {
                let _ = wshost::join(c, arg);
                return false;
            }
            "send" => drop(wshost::send(c, arg)),
            "close" => drop(wshost::close(c, 4000, "bye")),
            _ => {}
        }
        true
    }

    fn on_close(&mut self, c: ConnId, code: i32, reason: &str) {
        let mut rooms = wshost::conn_rooms(c).unwrap_or_default();
        rooms.sort_unstable();
        let v = format!("{} {}|{}", code, reason, rooms.join(","));
        let _ = wshost::state_set(&format!("close:{}", c), v.as_bytes());
        let _ = wshost::state_add("closes", 1);
        fault_if(c, "close");
    }

    fn on_error(&mut self, c: ConnId, kind: ErrorKind, text: &str) {
        let v = format!("{} {}", kind.code(), text);
        let _ = wshost::state_set(&format!("error:{}", c), v.as_bytes());
        let _ = wshost::state_add("errors", 1);
        fault_if(c, "error");
    }

    fn on_message(&mut self, c: ConnId, msg: Message<'_>) -> Result<()> {
        let data = match msg {
            Message::Binary(data) => return wshost::send_binary(c, data), // echoed
            Message::Text(data) => data,
        };
        let (cmd, rest) = data.split_once(' ').unwrap_or((data, ""));
        let mut r = Reply::default();
        match cmd {
            "send" | "sendbin" => {
                if let (Some(f), Some(id)) = fields_conn(rest, 2, 0) {
                    let msg = text(f[1]);
                    r.code(if cmd == "send" { wshost::send(id, msg) } else { wshost::send_binary(id, msg.as_bytes()) });
                }
            }
            "sendflags" => {
                if let ((Some(f), Some(id)), Some(flags)) = (fields_conn(rest, 3, 0), parse_uint(at(&fields(rest, 3), 1), 32)) {
                    let msg = text(f[2]);
                    // SAFETY: the host only reads msg.
                    r.num(unsafe { raw::send(id.0, msg.as_ptr(), msg.len() as u32, flags as u32) });
                }
            }
            "broadcast" => {
                if let (Some(f), Some(except)) = fields_conn(rest, 3, 1) {
                    let except = if except.0 == 0 { None } else { Some(except) };
                    r.count(wshost::broadcast(text(f[0]), text(f[2]), except));
                }
            }
            "join" | "leave" => {
                if let (Some(f), Some(id)) = fields_conn(rest, 2, 0) {
                    let room = text(f[1]);
                    r.code(if cmd == "join" { wshost::join(id, room) } else { wshost::leave(id, room) });
                }
            }
            "close" => {
                if let ((Some(f), Some(id)), Some(code)) = (fields_conn(rest, 3, 0), parse_int(at(&fields(rest, 3), 1), 32)) {
                    r.code(wshost::close(id, code as i32, text(f[2])));
                }
            }
            "size" => r.count(wshost::room_size(text(rest))),
            "members" => {
                let ids = wshost::room_members(text(rest)).map(|mut ids| {
                    ids.sort_unstable();
                    ids
                });
                r.count(ids.as_ref().map(Vec::len).map_err(|e| *e));
                let list: Vec<String> = ids.unwrap_or_default().iter().map(|id| id.to_string()).collect();
                r.value(list.join(",").as_bytes());
            }
            "rooms" => {
                if let Some(id) = parse_conn(rest) {
                    let rooms = wshost::conn_rooms(id).map(|mut rooms| {
                        rooms.sort_unstable();
                        rooms
                    });
                    // conn_rooms returns the size in bytes: each name and a '\n'.
                    r.count(rooms.as_ref().map(|rooms| rooms.iter().map(|n| n.len() + 1).sum::<usize>()).map_err(|e| *e));
                    r.value(rooms.unwrap_or_default().join(",").as_bytes());
                }
            }
            "info" => {
                if let (Some(f), Some(id)) = fields_conn(rest, 2, 0) {
                    r.bytes(wshost::conn_info_bytes(id, text(f[1])));
                }
            }
            "infobuf" => {
                if let ((Some(f), Some(id)), Some(n)) = (fields_conn(rest, 3, 0), parse_uint(at(&fields(rest, 3), 2), 20)) {
                    let key = text(f[1]);
                    let mut buf = vec![b'#'; n as usize + 4];
                    // SAFETY: the host writes at most n bytes of the n+4 of buf.
                    r.num(unsafe { raw::conn_info(id.0, key.as_ptr(), key.len() as u32, buf.as_mut_ptr(), n as u32) });
                    r.value(&buf);
                }
            }
            "set" => {
                if let (Some(f), Some(id)) = fields_conn(rest, 3, 0) {
                    r.code(wshost::conn_set(id, text(f[1]), text(f[2])));
                }
            }
            "sget" => r.bytes(wshost::state_get(text(rest))),
            "sset" => {
                if let Some(f) = fields(rest, 2) {
                    r.code(wshost::state_set(text(f[0]), text(f[1]).as_bytes()));
                }
            }
            "sdel" => r.code(wshost::state_delete(text(rest))),
            "sadd" => {
                let f = fields(rest, 2);
                if let (Some(f), Some(delta)) = (&f, parse_int(at(&f, 1), 64)) {
                    let v = wshost::state_add(text(f[0]), delta);
                    r.code(v.map(drop));
                    if let Ok(v) = v {
                        r.value(v.to_string().as_bytes());
                    }
                }
            }
            "config" => r.bytes(wshost::config_bytes(text(rest))),
            "log" => {
                let f = fields(rest, 2);
                if let (Some(f), Some(level)) = (&f, parse_int(at(&f, 0), 32)) {
                    let msg = text(f[1]);
                    match level {
                        0 => wshost::log(Level::Debug, msg),
                        1 => wshost::log(Level::Info, msg),
                        2 => wshost::log(Level::Warn, msg),
                        3 => wshost::log(Level::Error, msg),
                        // SAFETY: the host only reads msg.
                        _ => unsafe { raw::log(level as i32, msg.as_ptr(), msg.len() as u32) },
                    }
                    r.num(0);
                }
            }
            "now" => match wshost::now() {
                Ok(ns) => r.num(ns),
                Err(e) => r.num(e.code()),
            },
            "spin" => {
                if let Some(ms) = parse_int(rest, 64) {
                    spin(ms)?;
                    r.num(0);
                }
            }
            "loop" => run_forever(),
            "trap" => wshost::trap(),
            "panic" => panic!("conformance: panic command"),
            "grow" => {
                if let Some(mib) = parse_uint(rest, 16) {
                    grow(mib as usize);
                    r.num(0);
                }
            }
            "hostcalls" | "lasthostcalls" => {
                if cmd == "hostcalls" {
                    let n = match parse_int(rest, 64) {
                        Some(n) => n,
                        None => return wshost::send(c, "= ?"),
                    };
                    self.last_ok = 0;
                    self.last_limited = 0;
                    for _ in 0..n.max(0) {
                        match wshost::room_size("hostcalls") {
                            Ok(_) => self.last_ok += 1,
                            Err(Error::Limit) => self.last_limited += 1,
                            Err(_) => {}
                        }
                    }
                }
                r.num(self.last_ok);
                r.value(self.last_limited.to_string().as_bytes());
            }
            "id" => r.num(c),
            "echo" => return wshost::send(c, text(rest)),
            "fail" => {
                wshost::log(Level::Error, &format!("message handler: {}", text(rest)));
                return Err(Error::Other(1));
            }
            "badptr" => {
                const OUTSIDE: usize = 0xFFFF_FF00;
                let key = "badptr";
                // SAFETY: every range is outside linear memory: the host
                // returns ERR_BAD_ARG without touching memory.
                unsafe {
                    r.num(raw::send(c.0, OUTSIDE as *const u8, 16, 0));
                    r.value(raw::event_read(OUTSIDE as *mut u8, 16).to_string().as_bytes());
                    r.value(raw::conn_info(c.0, "id".as_ptr(), 2, 0xFFFF_FFF0usize as *mut u8, 32).to_string().as_bytes());
                    r.value(raw::state_set(OUTSIDE as *const u8, 8, "x".as_ptr(), 1).to_string().as_bytes());
                    r.value(raw::state_add(key.as_ptr(), key.len() as u32, 1, 0xFFFF_FFFCusize as *mut u8).to_string().as_bytes());
                }
            }
            _ => {}
        }
        wshost::send(c, &r.finish())
    }
}

/// Builds "= RESULT [VALUE ...]"; a reply with no result is "= ?".
#[derive(Default)]
struct Reply {
    b: String,
    err: bool, // the result was an error code: values are left out
}

impl Reply {
    fn num(&mut self, n: impl Display) {
        self.b.push_str("= ");
        self.b.push_str(&n.to_string());
    }

    fn code<T>(&mut self, res: Result<T>) {
        match res {
            Ok(_) => self.num(0),
            Err(e) => {
                self.num(e.code());
                self.err = true;
            }
        }
    }

    fn count<T: Display>(&mut self, res: Result<T>) {
        match res {
            Ok(n) => self.num(n),
            Err(e) => self.code::<()>(Err(e)),
        }
    }

    /// The length of a buffer result (what the host function returned: the
    /// full size) and the value.
    fn bytes(&mut self, res: Result<Vec<u8>>) {
        match res {
            Ok(v) => {
                self.num(v.len());
                self.value(&v);
            }
            Err(e) => self.code::<()>(Err(e)),
        }
    }

    /// Appends " v", or nothing when v is empty or the result was an error;
    /// a v that is not UTF-8 (a text message must be) is sent as hex:HEX.
    fn value(&mut self, v: &[u8]) {
        if v.is_empty() || self.err {
            return;
        }
        self.b.push(' ');
        match std::str::from_utf8(v) {
            Ok(s) => self.b.push_str(s),
            Err(_) => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                self.b.push_str("hex:");
                for &x in v {
                    self.b.push(DIGITS[(x >> 4) as usize] as char);
                    self.b.push(DIGITS[(x & 15) as usize] as char);
                }
            }
        }
    }

    fn finish(self) -> String {
        if self.b.is_empty() {
            "= ?".to_string()
        } else {
            self.b
        }
    }
}

/// Splits s at single spaces into exactly n fields, the last one keeping any
/// further spaces; None when s has fewer.
fn fields(s: &str, n: usize) -> Option<Vec<&str>> {
    let f: Vec<&str> = s.splitn(n, ' ').collect();
    if f.len() < n {
        None
    } else {
        Some(f)
    }
}

/// fields(s, n), and field i parsed as a connection id.
fn fields_conn(s: &str, n: usize, i: usize) -> (Option<Vec<&str>>, Option<ConnId>) {
    let f = fields(s, n);
    let id = f.as_ref().and_then(|f| parse_conn(f[i]));
    (f, id)
}

fn at<'a>(f: &Option<Vec<&'a str>>, i: usize) -> &'a str {
    f.as_ref().and_then(|f| f.get(i).copied()).unwrap_or("")
}

fn parse_conn(s: &str) -> Option<ConnId> {
    parse_uint(s, 64).map(ConnId)
}

/// Parses decimal digits (no sign, as Go's strconv.ParseUint) into an
/// unsigned integer of the given bit size.
fn parse_uint(s: &str, bits: u32) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = s.parse().ok()?;
    if bits < 64 && n >> bits != 0 {
        return None;
    }
    Some(n)
}

/// Parses an optionally signed decimal (as Go's strconv.ParseInt) into a
/// signed integer of the given bit size.
fn parse_int(s: &str, bits: u32) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    let (min, max) = if bits < 64 { (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1) } else { (i64::MIN, i64::MAX) };
    if n < min || n > max {
        return None;
    }
    Some(n)
}

/// Maps the literal "-" to the empty string.
fn text(s: &str) -> &str {
    if s == "-" {
        ""
    } else {
        s
    }
}

/// Traps when the connection was opened with ?fault=WHEN.
fn fault_if(c: ConnId, when: &str) {
    if matches!(wshost::conn_info(c, "query.fault"), Ok(f) if f == when) {
        wshost::trap();
    }
}

static mut SINK: u64 = 0;

/// Spins the CPU for n iterations without host calls.
fn burn(n: u64) {
    for i in 0..n {
        // SAFETY: single-threaded; volatile so the loop is not optimized out.
        unsafe {
            let s = core::ptr::read_volatile(&SINK);
            core::ptr::write_volatile(&mut SINK, s.wrapping_add(i ^ (s >> 3)));
        }
    }
}

/// Busy-loops for ms milliseconds of the host's clock, reading it every
/// 2^12 iterations.
fn spin(ms: i64) -> Result<()> {
    let start = wshost::now()?;
    loop {
        if wshost::now()? - start >= ms.saturating_mul(1_000_000) {
            return Ok(());
        }
        burn(1 << 12);
    }
}

/// Loops forever with no host calls: the host's deadline ends it.
fn run_forever() -> ! {
    loop {
        burn(1 << 16);
    }
}

/// Allocates mib MiB and touches every page of it.
fn grow(mib: usize) {
    if mib == 0 {
        return;
    }
    let mut b = vec![0u8; mib << 20];
    for i in (0..b.len()).step_by(4096) {
        b[i] = 1;
    }
    // SAFETY: as in burn.
    unsafe { core::ptr::write_volatile(&mut SINK, b[b.len() / 2] as u64) };
}
