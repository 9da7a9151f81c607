// chat-as: wshost's example chat plugin written in AssemblyScript. It behaves
// byte for byte like the Go example, whose README
// (plugins/examples/chat/README.md) is the specification.
//
// Connect to /ws/NAME?nick=NICK&room=ROOM (both optional). Text messages are
// relayed to everyone in the sender's room as "[ROOM] NICK: TEXT"; the
// commands /nick NAME, /join ROOM and /who change the nick, move to another
// room and list the room.
//
// The plugin keeps no state of its own: the nick and the room are connection
// attributes held by the host, read on every event, because several
// instances of the plugin serve connections at the same time.

import * as wshost from "@wshost/sdk";

// The ABI entry points: the SDK's dispatchers call the handlers below.
export { wshost_abi_v1, on_open, on_message, on_close, on_error } from "@wshost/sdk";

const DEFAULT_ROOM = "general";
const MAX_NICK = 32;
const MAX_ROOM = 64;

function open(c: u64): i32 {
  let q = wshost.connInfo(c, "query.nick");
  let nick = q !== null && validName(q, MAX_NICK) ? q : guest(c);
  q = wshost.connInfo(c, "query.room");
  let room = q !== null && validName(q, MAX_ROOM) ? q : DEFAULT_ROOM;
  wshost.connSet(c, "nick", nick);
  wshost.connSet(c, "room", room);
  wshost.join(c, room);
  wshost.send(c, "* welcome " + nick + "! you are in #" + room + ". commands: /nick NAME, /join ROOM, /who");
  wshost.broadcast(room, "* " + nick + " joined #" + room, c);
  return wshost.ACCEPT;
}

// failed turns a host call's result into the handler's: non-zero (a handler
// error for the host) when the call failed.
function failed(rc: i32): i32 {
  return rc < 0 ? 1 : 0;
}

function message(c: u64, data: Uint8Array, binary: bool): i32 {
  if (binary) {
    return failed(wshost.send(c, "! binary messages are not supported"));
  }
  let text = trim(wshost.text(data));
  if (text.length == 0) return 0;
  let nick = nickOf(c);
  let room = roomOf(c);
  if (text.charCodeAt(0) != 0x2F /* '/' */) {
    return failed(wshost.broadcast(room, "[" + room + "] " + nick + ": " + text));
  }
  let cmd = text;
  let arg = "";
  let i = indexSpace(text);
  if (i >= 0) {
    cmd = text.substring(0, i);
    arg = trim(text.substring(i));
  }
  if (cmd == "/nick") {
    if (!validName(arg, MAX_NICK)) {
      return failed(wshost.send(c, "! invalid nick: use 1-32 letters, digits, _ or -"));
    }
    wshost.connSet(c, "nick", arg);
    return failed(wshost.broadcast(room, "* " + nick + " is now known as " + arg));
  }
  if (cmd == "/join") {
    if (!validName(arg, MAX_ROOM)) {
      return failed(wshost.send(c, "! invalid room: use 1-64 letters, digits, _ or -"));
    }
    if (arg == room) {
      return failed(wshost.send(c, "! you are already in #" + room));
    }
    wshost.leave(c, room);
    wshost.broadcast(room, "* " + nick + " left #" + room, c);
    wshost.join(c, arg);
    wshost.connSet(c, "room", arg);
    return failed(wshost.broadcast(arg, "* " + nick + " joined #" + arg));
  }
  if (cmd == "/who") {
    let members = wshost.roomMembers(room);
    let nicks = new Array<string>();
    if (members !== null) {
      for (let j = 0; j < members.length; j++) {
        let n = wshost.connInfo(members[j], "attr.nick");
        if (n !== null) nicks.push(n);
      }
    }
    nicks.sort(wshost.compareUTF8);
    return failed(wshost.send(c, "* in #" + room + ": " + nicks.join(", ")));
  }
  return failed(wshost.send(c, "! unknown command: " + cmd));
}

function closed(c: u64, code: i32, reason: string): void {
  let nick = nickOf(c);
  let rooms = wshost.connRooms(c);
  if (rooms === null) return;
  for (let i = 0; i < rooms.length; i++) {
    let room = rooms[i];
    wshost.broadcast(room, "* " + nick + " left #" + room, c);
  }
}

function errored(c: u64, kind: i32, text: string): void {
  wshost.log(wshost.LEVEL_WARN, "connection " + c.toString() + ": " + wshost.kindName(kind) + " error: " + text);
}

// roomOf reads the connection's room from the host, falling back to the
// default on_open would have chosen.
function roomOf(c: u64): string {
  let room = wshost.connInfo(c, "attr.room");
  return room !== null && room.length > 0 ? room : DEFAULT_ROOM;
}

function nickOf(c: u64): string {
  let nick = wshost.connInfo(c, "attr.nick");
  return nick !== null && nick.length > 0 ? nick : guest(c);
}

function guest(c: u64): string {
  return "guest-" + c.toString();
}

// validName reports whether s is 1 to max characters of [A-Za-z0-9_-]
// (ASCII only, so its length in UTF-16 units is its length in bytes).
function validName(s: string, max: i32): bool {
  let n = s.length;
  if (n == 0 || n > max) return false;
  for (let i = 0; i < n; i++) {
    let b = s.charCodeAt(i);
    if (!(b >= 0x61 && b <= 0x7A || b >= 0x41 && b <= 0x5A || b >= 0x30 && b <= 0x39 || b == 0x5F || b == 0x2D)) {
      return false;
    }
  }
  return true;
}

// isSpace reports whether b is ASCII whitespace: space, \t, \n, \v, \f, \r.
function isSpace(b: i32): bool {
  return b == 0x20 || b >= 0x09 && b <= 0x0D;
}

// trim removes leading and trailing ASCII whitespace (only: not Unicode
// spaces, so every implementation of the chat trims the same bytes).
function trim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isSpace(s.charCodeAt(start))) start++;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  return start == 0 && end == s.length ? s : s.substring(start, end);
}

function indexSpace(s: string): i32 {
  for (let i = 0; i < s.length; i++) {
    if (isSpace(s.charCodeAt(i))) return i;
  }
  return -1;
}

// Last in the file: top-level code runs (and the functions it names are
// compiled) in file order, so globals must be declared before this line.
wshost.handle({ open: open, message: message, close: closed, error: errored });
