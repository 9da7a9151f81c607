// wshost chat page. Plain JavaScript, loaded as an ES module; no dependencies but
// wshost-client.js beside it.
//
// Talks to the chat plugin over a WebSocket at "ws/chat" relative to this
// page (ws: or wss: to match http: or https:), one text line per message.
// Server text is only ever inserted with textContent, never as HTML. The
// connection (reconnects, backoff, queued sends) is wshost-client.js's.

import { connect as wshostConnect, socketURL } from './wshost-client.js';

const NICK_RE = /^[A-Za-z0-9_-]{1,32}$/;
const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;

// Server lines (see the plugin's protocol).
const N = '[A-Za-z0-9_-]{1,32}';
const R = '[A-Za-z0-9_-]{1,64}';
const WELCOME_RE = new RegExp(`^\\* welcome (${N})! you are in #(${R})\\.`);
const JOINED_RE = new RegExp(`^\\* (${N}) joined #(${R})$`);
const LEFT_RE = new RegExp(`^\\* (${N}) left #(${R})$`);
const RENAMED_RE = new RegExp(`^\\* (${N}) is now known as (${N})$`);
const WHO_RE = new RegExp(`^\\* in #(${R}):(.*)$`);
const CHAT_RE = new RegExp(`^\\[(${R})\\] (${N}): ?(.*)$`, 's');
const WHO_CMD_RE = /^\/who(\s|$)/;

const STORE_NICK = 'wshost.chat.nick';
const STORE_ROOM = 'wshost.chat.room';

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
const CONNECT_TIMEOUT_MS = 10000;
const WHO_DEBOUNCE_MS = 150;
const WHO_STALE_MS = 10000;
const MAX_QUEUE = 200;
const MAX_LOG_LINES = 1000;
const MAX_HISTORY = 50;

// ---- DOM ----

const byId = (id) => document.getElementById(id);
const ui = {
  status: byId('status'),
  statusText: byId('status-text'),
  statusAnnounce: byId('status-announce'),
  retryNow: byId('retry-now'),
  nick: byId('current-nick'),
  room: byId('current-room'),
  log: byId('log'),
  composer: byId('composer'),
  input: byId('message-input'),
  queued: byId('queued'),
  members: byId('member-list'),
  memberCount: byId('member-count'),
  nickForm: byId('nick-form'),
  nickInput: byId('nick-input'),
  roomForm: byId('room-form'),
  roomInput: byId('room-input'),
};

// ---- state ----

const state = {
  client: null,        // the wshost-client connection
  status: 'connecting',
  retryAt: 0,
  countdownTimer: null,
  nick: '',
  room: '',
  members: [],
  queuedWho: 0,        // user "/who" commands among the queued sends
  whoPending: [],      // FIFO of {auto, at} for every /who sent on this socket
  whoTimer: null,
  history: [],
  historyPos: -1,
};

const stateLog = [];   // every connection state, oldest first (for tests)

// ---- storage ----

function load(key, re) {
  try {
    const v = localStorage.getItem(key);
    return v && re.test(v) ? v : '';
  } catch {
    return '';
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage unavailable (private mode, quota): keep going without it
  }
}

// ---- connection ----

// The socket lives at "ws/chat" beside the page, so the page works under a
// path prefix and over https (wss:) as well as at "/" over http (ws:). The
// current nick and room go along on every attempt, so a reconnect lands in
// the same room with the same name.
function chatURL() {
  return socketURL('ws/chat', {
    nick: NICK_RE.test(state.nick) ? state.nick : '',
    room: ROOM_RE.test(state.room) ? state.room : '',
  });
}

function connect() {
  state.client = wshostConnect(chatURL, {
    backoffBaseMs: BACKOFF_BASE_MS,
    backoffMaxMs: BACKOFF_MAX_MS,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    maxQueue: MAX_QUEUE,
    onState: (status, info) => {
      if (status !== 'online') {
        state.whoPending = [];
        clearTimeout(state.whoTimer);
      }
      stateLog.push(status);
      if (stateLog.length > 200) stateLog.shift();
      if (info.error) logLine('local', `cannot connect: ${info.error.message || info.error}`);
      state.retryAt = info.retryAt;
      clearInterval(state.countdownTimer);
      state.countdownTimer = status === 'reconnecting' ? setInterval(renderStatus, 250) : null;
      setStatus(status);
    },
    onOpen: () => {
      // The queue went out first, in order; its /who replies come first.
      for (; state.queuedWho > 0; state.queuedWho--) state.whoPending.push({ auto: false, at: Date.now() });
      renderQueued();
      requestWho(true);
    },
    onClose: (ev) => {
      const why = ev.reason ? `: ${ev.reason}` : '';
      logLine('local', `disconnected (code ${ev.code}${why})`);
    },
    onQueue: () => renderQueued(),
    onMessage: (data) => {
      if (typeof data !== 'string') return;
      for (const raw of data.split('\n')) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line !== '') handleLine(line);
      }
    },
  });
}

function setStatus(status) {
  const prev = state.status;
  state.status = status;
  renderStatus();
  // Announce only meaningful changes, not every retry cycle.
  if (status !== prev && (status === 'online' || status === 'offline' || prev === 'online')) {
    ui.statusAnnounce.textContent =
      status === 'online' ? 'Connected.' :
      status === 'offline' ? 'Offline.' : 'Connection lost, reconnecting.';
  }
}

function renderStatus() {
  let text;
  switch (state.status) {
    case 'online':
      text = 'online';
      break;
    case 'offline':
      text = 'offline';
      break;
    case 'closed':
      text = 'disconnected';
      break;
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
      text = `reconnecting in ${secs}s`;
      break;
    }
    default:
      text = 'connecting…';
  }
  ui.status.dataset.state = state.status;
  if (ui.statusText.textContent !== text) ui.statusText.textContent = text;
  ui.retryNow.hidden = !['offline', 'reconnecting', 'closed'].includes(state.status);
}

// ---- sending ----

function isOpen() {
  return state.client !== null && state.client.open;
}

// send sends a line typed by the user (or a command from the forms); while
// disconnected the client queues it and sends it on reconnect.
function send(text, auto = false) {
  const isWho = WHO_CMD_RE.test(text);
  if (state.client.send(text)) {
    if (isWho) state.whoPending.push({ auto, at: Date.now() });
  } else if (isWho) {
    state.queuedWho += 1;
  }
}

function renderQueued() {
  const n = state.client ? state.client.queued : 0;
  if (n === 0) state.queuedWho = 0;
  ui.queued.hidden = n === 0;
  ui.queued.textContent = n === 0 ? '' :
    `${n} message${n === 1 ? '' : 's'} queued, will be sent when the connection is back`;
}

// requestWho asks for the member list; automatic requests are debounced and
// their replies are not printed in the log.
function requestWho(now = false) {
  clearTimeout(state.whoTimer);
  state.whoTimer = null;
  const go = () => {
    state.whoTimer = null;
    if (isOpen()) send('/who', true);
  };
  if (now) go();
  else state.whoTimer = setTimeout(go, WHO_DEBOUNCE_MS);
}

// ---- receiving ----

function handleLine(line) {
  let m;
  if (line.startsWith('*')) {
    if ((m = WHO_RE.exec(line))) {
      const [, room, list] = m;
      const cutoff = Date.now() - WHO_STALE_MS;
      while (state.whoPending.length && state.whoPending[0].at < cutoff) state.whoPending.shift();
      const req = state.whoPending.shift();
      if (room === state.room) {
        setMembers(list.split(',').map((s) => s.trim()).filter(Boolean));
      }
      if (!req || !req.auto) logLine('notice', line);
      return;
    }
    if ((m = WELCOME_RE.exec(line))) {
      setNick(m[1]);
      setRoom(m[2]);
    } else if ((m = JOINED_RE.exec(line))) {
      const [, nick, room] = m;
      if (nick === state.nick) {
        setRoom(room);
        requestWho();
      } else if (room === state.room) {
        addMember(nick);
        requestWho();
      }
    } else if ((m = LEFT_RE.exec(line))) {
      const [, nick, room] = m;
      if (room === state.room && nick !== state.nick) {
        removeMember(nick);
        requestWho();
      }
    } else if ((m = RENAMED_RE.exec(line))) {
      const [, oldNick, newNick] = m;
      if (oldNick === state.nick) setNick(newNick);
      if (state.members.includes(oldNick)) {
        setMembers(state.members.map((n) => (n === oldNick ? newNick : n)));
      }
      requestWho();
    }
    logLine('notice', line);
    return;
  }
  if (line.startsWith('!')) {
    logLine('error', line);
    return;
  }
  if ((m = CHAT_RE.exec(line))) {
    logChat(m[1], m[2], m[3], line);
    return;
  }
  logLine('other', line);
}

function setNick(nick) {
  if (!NICK_RE.test(nick)) return;
  state.nick = nick;
  save(STORE_NICK, nick);
  ui.nick.textContent = nick;
  if (document.activeElement !== ui.nickInput) ui.nickInput.value = nick;
  renderMembers();
}

function setRoom(room) {
  if (!ROOM_RE.test(room)) return;
  if (room !== state.room) setMembers([]);
  state.room = room;
  save(STORE_ROOM, room);
  ui.room.textContent = room;
  if (document.activeElement !== ui.roomInput) ui.roomInput.value = room;
  document.title = `#${room} — wshost chat`;
}

// ---- members ----

function setMembers(list) {
  state.members = [...new Set(list)].sort((a, b) =>
    a.localeCompare(b, undefined, { sensitivity: 'base' }));
  renderMembers();
}

function addMember(nick) {
  if (!state.members.includes(nick)) setMembers([...state.members, nick]);
}

function removeMember(nick) {
  if (state.members.includes(nick)) setMembers(state.members.filter((n) => n !== nick));
}

function renderMembers() {
  const frag = document.createDocumentFragment();
  for (const nick of state.members) {
    const li = document.createElement('li');
    li.textContent = nick;
    li.dataset.nick = nick;
    if (nick === state.nick) li.className = 'self';
    frag.append(li);
  }
  ui.members.replaceChildren(frag);
  ui.memberCount.textContent = String(state.members.length);
}

// ---- log ----

function nickHue(nick) {
  let h = 0;
  for (let i = 0; i < nick.length; i++) h = (h * 31 + nick.charCodeAt(i)) >>> 0;
  return h % 360;
}

function timeText(d) {
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function appendEntry(kind, build, raw) {
  const log = ui.log;
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;

  const line = document.createElement('div');
  line.className = `line ${kind}`;
  line.dataset.kind = kind;
  const now = new Date();
  const time = document.createElement('time');
  time.className = 'time';
  time.dateTime = now.toISOString();
  time.textContent = timeText(now);
  const body = document.createElement('span');
  body.className = 'body';
  build(body, line);
  line.dataset.raw = raw;
  line.append(time, body);
  log.append(line);

  while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

// logLine adds a notice ("notice"), error ("error"), client-side note
// ("local") or unrecognised line ("other") to the log, as plain text.
function logLine(kind, text) {
  appendEntry(kind, (body) => { body.textContent = text; }, text);
}

function logChat(room, nick, text, raw) {
  appendEntry('chat', (body, line) => {
    if (room !== state.room) {
      const tag = document.createElement('span');
      tag.className = 'room-tag';
      tag.textContent = `[${room}]`;
      body.append(tag);
    }
    const b = document.createElement('b');
    b.className = 'nick';
    b.textContent = nick;
    b.style.setProperty('--nick-hue', String(nickHue(nick)));
    body.append(b, document.createTextNode(`: ${text}`));
    line.dataset.nick = nick;
    line.dataset.room = room;
    if (nick === state.nick) {
      line.classList.add('self');
    } else if (state.nick && new RegExp(`(^|[^A-Za-z0-9_-])${state.nick}($|[^A-Za-z0-9_-])`, 'i').test(text)) {
      line.classList.add('mention');
    }
  }, raw);
}

// ---- UI events ----

ui.composer.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = ui.input.value;
  if (text.trim() === '') return;
  send(text);
  if (state.history[state.history.length - 1] !== text) {
    state.history.push(text);
    if (state.history.length > MAX_HISTORY) state.history.shift();
  }
  state.historyPos = -1;
  ui.input.value = '';
});

ui.input.addEventListener('keydown', (ev) => {
  if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return;
  if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey || state.history.length === 0) return;
  const h = state.history;
  let pos = state.historyPos;
  if (ev.key === 'ArrowUp') {
    pos = pos === -1 ? h.length - 1 : Math.max(0, pos - 1);
  } else {
    if (pos === -1) return;
    pos = pos + 1 >= h.length ? -1 : pos + 1;
  }
  ev.preventDefault();
  state.historyPos = pos;
  ui.input.value = pos === -1 ? '' : h[pos];
});

ui.nickForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const nick = ui.nickInput.value.trim();
  if (!NICK_RE.test(nick)) {
    ui.nickInput.reportValidity();
    return;
  }
  if (nick !== state.nick) send(`/nick ${nick}`);
});

ui.roomForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const room = ui.roomInput.value.trim().replace(/^#/, '');
  if (!ROOM_RE.test(room)) {
    ui.roomInput.reportValidity();
    return;
  }
  if (room !== state.room) send(`/join ${room}`);
});

ui.retryNow.addEventListener('click', () => state.client.reconnect());

// Leaving the page closes the socket cleanly (and lets the page into the
// back/forward cache); coming back from that cache reconnects.
window.addEventListener('pagehide', () => {
  clearInterval(state.countdownTimer);
  if (state.client) state.client.close(1000, 'page closed');
});

window.addEventListener('pageshow', (ev) => {
  if (ev.persisted && state.client) state.client.reconnect();
});

// ---- start ----

{
  // ?nick=..&room=.. on the page URL override the remembered values.
  const params = new URLSearchParams(window.location.search);
  const nick = params.get('nick') || '';
  const room = (params.get('room') || '').replace(/^#/, '');
  state.nick = NICK_RE.test(nick) ? nick : load(STORE_NICK, NICK_RE);
  state.room = ROOM_RE.test(room) ? room : load(STORE_ROOM, ROOM_RE);
  ui.nickInput.value = state.nick;
  ui.roomInput.value = state.room;
  renderStatus();
  renderMembers();
  connect();
}

// A read-only view of the state for debugging and browser tests.
// connections counts successful opens (1 + reconnects); states records
// every state change since the page loaded.
window.wshostChat = Object.freeze({
  get status() { return state.status; },
  get nick() { return state.nick; },
  get room() { return state.room; },
  get members() { return [...state.members]; },
  get queued() { return state.client.queue; },
  get connections() { return state.client.connections; },
  get reconnects() { return Math.max(0, state.client.connections - 1); },
  get states() { return [...stateLog]; },
  get socketURL() { return state.client.socket ? state.client.socket.url : chatURL(); },
  reconnect: () => state.client.reconnect(),
});
