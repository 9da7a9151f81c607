//! wshost's example chat plugin in Rust, served at /ws/chat: the same chat
//! as the Go one in ../chat, byte for byte (its README.md is the
//! specification).
//!
//! Connect to /ws/chat?nick=NAME&room=ROOM (both optional). Text messages are
//! relayed to everyone in the sender's room as "[ROOM] NICK: TEXT"; the
//! commands /nick NAME, /join ROOM and /who change the nick, move to another
//! room and list the room.
//!
//! The plugin keeps no state of its own: the nick and the room are connection
//! attributes held by the host, read on every event, because several
//! instances of the plugin serve connections at the same time.

use wshost::{ConnId, ErrorKind, Handler, Level, Message, Result};

const DEFAULT_ROOM: &str = "general";
const MAX_NICK: usize = 32;
const MAX_ROOM: usize = 64;

#[derive(Default)]
struct Chat;

wshost::plugin!(Chat);

/// Concatenates parts into one message.
fn line(parts: &[&str]) -> String {
    parts.concat()
}

impl Handler for Chat {
    fn on_open(&mut self, c: ConnId) -> bool {
        let nick = match wshost::conn_info(c, "query.nick") {
            Ok(nick) if valid_name(&nick, MAX_NICK) => nick,
            _ => guest(c),
        };
        let room = match wshost::conn_info(c, "query.room") {
            Ok(room) if valid_name(&room, MAX_ROOM) => room,
            _ => DEFAULT_ROOM.to_string(),
        };
        let _ = wshost::conn_set(c, "nick", &nick);
        let _ = wshost::conn_set(c, "room", &room);
        let _ = wshost::join(c, &room);
        let _ = wshost::send(
            c,
            &line(&["* welcome ", &nick, "! you are in #", &room, ". commands: /nick NAME, /join ROOM, /who"]),
        );
        let _ = wshost::broadcast(&room, &line(&["* ", &nick, " joined #", &room]), Some(c));
        true
    }

    fn on_message(&mut self, c: ConnId, msg: Message<'_>) -> Result<()> {
        let text = match msg {
            Message::Binary(_) => return wshost::send(c, "! binary messages are not supported"),
            Message::Text(text) => trim(text),
        };
        if text.is_empty() {
            return Ok(());
        }
        let (nick, room) = whoami(c);
        if !text.starts_with('/') {
            return wshost::broadcast(&room, &line(&["[", &room, "] ", &nick, ": ", text]), None).map(drop);
        }
        let (cmd, arg) = match text.find(is_space) {
            Some(i) => (&text[..i], trim(&text[i..])),
            None => (text, ""),
        };
        match cmd {
            "/nick" => {
                if !valid_name(arg, MAX_NICK) {
                    return wshost::send(c, "! invalid nick: use 1-32 letters, digits, _ or -");
                }
                let _ = wshost::conn_set(c, "nick", arg);
                wshost::broadcast(&room, &line(&["* ", &nick, " is now known as ", arg]), None).map(drop)
            }
            "/join" => {
                if !valid_name(arg, MAX_ROOM) {
                    return wshost::send(c, "! invalid room: use 1-64 letters, digits, _ or -");
                }
                if arg == room {
                    return wshost::send(c, &line(&["! you are already in #", &room]));
                }
                let _ = wshost::leave(c, &room);
                let _ = wshost::broadcast(&room, &line(&["* ", &nick, " left #", &room]), Some(c));
                let _ = wshost::join(c, arg);
                let _ = wshost::conn_set(c, "room", arg);
                wshost::broadcast(arg, &line(&["* ", &nick, " joined #", arg]), None).map(drop)
            }
            "/who" => {
                let members = wshost::room_members(&room).unwrap_or_default();
                let mut nicks: Vec<String> =
                    members.into_iter().filter_map(|m| wshost::conn_info(m, "attr.nick").ok()).collect();
                nicks.sort_unstable(); // by bytes, as Go's slices.Sort
                wshost::send(c, &line(&["* in #", &room, ": ", &nicks.join(", ")]))
            }
            _ => wshost::send(c, &line(&["! unknown command: ", cmd])),
        }
    }

    fn on_close(&mut self, c: ConnId, _code: i32, _reason: &str) {
        let nick = nick_of(c);
        for room in wshost::conn_rooms(c).unwrap_or_default() {
            let _ = wshost::broadcast(&room, &line(&["* ", &nick, " left #", &room]), Some(c));
        }
    }

    fn on_error(&mut self, c: ConnId, kind: ErrorKind, text: &str) {
        let kind = kind.to_string(); // protocol, slow, fault, io (or kind(N))
        wshost::log(Level::Warn, &line(&["connection ", &c.to_string(), ": ", &kind, " error: ", text]));
    }
}

/// Reads the connection's nick and room from the host, falling back to the
/// defaults on_open would have chosen.
fn whoami(c: ConnId) -> (String, String) {
    let room = match wshost::conn_info(c, "attr.room") {
        Ok(room) if !room.is_empty() => room,
        _ => DEFAULT_ROOM.to_string(),
    };
    (nick_of(c), room)
}

fn nick_of(c: ConnId) -> String {
    match wshost::conn_info(c, "attr.nick") {
        Ok(nick) if !nick.is_empty() => nick,
        _ => guest(c),
    }
}

fn guest(c: ConnId) -> String {
    format!("guest-{}", c)
}

/// Whether s is 1 to max characters of [A-Za-z0-9_-].
fn valid_name(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether c is ASCII whitespace: space, \t, \n, \v, \f, \r (not
/// char::is_ascii_whitespace, which leaves out \v).
fn is_space(c: char) -> bool {
    c == ' ' || ('\t'..='\r').contains(&c)
}

/// Removes leading and trailing ASCII whitespace (only: not Unicode spaces,
/// so every implementation of the chat trims the same bytes).
fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("a", 32));
        assert!(valid_name("Az09_-", 32));
        assert!(valid_name(&"n".repeat(32), 32));
        assert!(!valid_name(&"n".repeat(33), 32));
        assert!(!valid_name("", 32));
        assert!(!valid_name("a b", 32));
        assert!(!valid_name("bad/room", 64));
        assert!(!valid_name("é", 32));
    }

    #[test]
    fn trimming() {
        assert_eq!(trim("  hello bob \t"), "hello bob");
        assert_eq!(trim(" \r\n\x0b\x0c"), "");
        assert_eq!(trim("\u{a0}x\u{a0}"), "\u{a0}x\u{a0}"); // not Unicode spaces
        assert_eq!("/nick\x0bb0b".find(is_space), Some(5));
    }
}
