// wshost-client.js: a small WebSocket client for wshost plugins, for your own
// pages. Plain JavaScript, an ES module, no dependencies.
//
//   import { connect, socketURL } from './wshost-client.js';
//   const chat = connect(socketURL('ws/chat'), {
//     onMessage: (data) => console.log(data),
//     onState: (state, info) => console.log(state, info),
//   });
//   chat.send('hello');   // sent now, or queued until the connection is back
//   chat.close();         // for good: no more reconnects
//
// The client reconnects by itself after every close it did not ask for,
// waiting with exponential backoff and jitter between attempts, and sends
// what was queued meanwhile, in order, as soon as it is connected again.
//
// States: "connecting" (an attempt is under way), "online", "reconnecting"
// (waiting info.delay ms until info.retryAt), "offline" (the browser says the
// network is down; retried when it comes back) and "closed" (close() was
// called).

const DEFAULTS = {
  protocols: undefined,     // WebSocket subprotocols
  binaryType: 'arraybuffer',
  backoffBaseMs: 500,       // first retry after 250-500 ms ...
  backoffMaxMs: 15000,      // ... doubling up to 7.5-15 s
  connectTimeoutMs: 10000,  // an attempt not open by then is abandoned
  maxQueue: 1000,           // sends kept while disconnected; the oldest go first
  reconnect: true,          // or (closeEvent) => boolean
  watchNetwork: true,       // follow the window's online/offline events
  WebSocket: undefined,     // the WebSocket constructor (default: globalThis's)
};

// socketURL resolves path (say "ws/chat") against base (default: the page's
// address) and turns http: into ws: and https: into wss:, so a page served
// under a path prefix, or over TLS, talks to the socket beside it. params,
// if given, become the query string.
export function socketURL(path, params, base) {
  const url = new URL(path, base ?? globalThis.location.href);
  if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol === 'http:') url.protocol = 'ws:';
  url.hash = '';
  if (params) {
    url.search = '';
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
  }
  return url.toString();
}

// backoffDelay is the wait before retry number attempt (0, 1, ...): "equal
// jitter", a random time between half the capped exponential and all of it,
// so clients dropped together do not come back together.
export function backoffDelay(attempt, baseMs = DEFAULTS.backoffBaseMs, maxMs = DEFAULTS.backoffMaxMs) {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

// connect opens a WebSocket to url (a string or URL, or a function returning
// one, called before every attempt so query parameters can change) and keeps
// it open. Options (all optional):
//
//   onMessage(data, event)  each message (a string, or an ArrayBuffer)
//   onState(state, info)    every state change; info has attempt, delay,
//                           retryAt, code, reason, wasClean, error
//   onOpen(event)           each successful connection, after the queue is sent
//   onClose(event)          each close of an open connection
//   onQueue(n)              the number of queued sends changed
//   and the fields of DEFAULTS above.
export function connect(url, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const WS = opts.WebSocket ?? globalThis.WebSocket;
  const noop = () => {};
  const onMessage = opts.onMessage ?? noop;
  const onState = opts.onState ?? noop;
  const onOpen = opts.onOpen ?? noop;
  const onClose = opts.onClose ?? noop;
  const onQueue = opts.onQueue ?? noop;

  let ws = null;
  let state = '';
  let attempt = 0;        // failed attempts since the last open
  let connections = 0;    // successful opens, ever
  let retryTimer = null;
  let connectTimer = null;
  let retryAt = 0;
  let closed = false;
  const queue = [];

  function setState(next, info = {}) {
    state = next;
    onState(next, { attempt, retryAt, ...info });
  }

  function clearTimers() {
    clearTimeout(retryTimer);
    clearTimeout(connectTimer);
    retryTimer = connectTimer = null;
  }

  function drop() {
    if (!ws) return;
    const old = ws;
    ws = null;
    old.onopen = old.onmessage = old.onclose = old.onerror = null;
    try { old.close(1000); } catch { /* not open yet, or already closed */ }
  }

  function open() {
    clearTimers();
    drop();
    retryAt = 0;
    setState('connecting');
    let sock;
    try {
      sock = opts.protocols === undefined ? new WS(resolve()) : new WS(resolve(), opts.protocols);
    } catch (error) {
      // A malformed URL: retrying will not help unless url() changes.
      scheduleRetry({ error });
      return;
    }
    ws = sock;
    sock.binaryType = opts.binaryType;
    connectTimer = setTimeout(() => {
      if (ws !== sock) return;
      drop();
      scheduleRetry({ error: new Error('connect timeout') });
    }, opts.connectTimeoutMs);

    sock.onopen = (ev) => {
      if (ws !== sock) return;
      clearTimeout(connectTimer);
      connectTimer = null;
      attempt = 0;
      connections += 1;
      const pending = queue.splice(0);
      for (const data of pending) sock.send(data);
      if (pending.length) onQueue(0);
      setState('online');
      onOpen(ev);
    };
    sock.onmessage = (ev) => {
      if (ws === sock) onMessage(ev.data, ev);
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      clearTimers();
      const wasOpen = state === 'online';
      if (wasOpen) onClose(ev);
      const info = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
      const again = typeof opts.reconnect === 'function' ? opts.reconnect(ev) : opts.reconnect;
      if (closed || !again) {
        closed = true;
        unwatch();
        setState('closed', info);
        return;
      }
      scheduleRetry(info);
    };
    sock.onerror = noop; // a close event always follows
  }

  function resolve() {
    const u = typeof url === 'function' ? url() : url;
    return String(u);
  }

  function scheduleRetry(info) {
    clearTimers();
    if (closed) return;
    if (opts.watchNetwork && globalThis.navigator?.onLine === false) {
      setState('offline', info);
      return; // the "online" event reconnects
    }
    const delay = backoffDelay(attempt, opts.backoffBaseMs, opts.backoffMaxMs);
    attempt += 1;
    retryAt = Date.now() + delay;
    retryTimer = setTimeout(open, delay);
    setState('reconnecting', { ...info, delay });
  }

  function isOpen() {
    return ws !== null && ws.readyState === WS.OPEN;
  }

  const onlineEvent = () => {
    if (!closed && !isOpen()) open();
  };
  const offlineEvent = () => {
    // An open socket may linger half-open; its close event will tell.
    if (!closed && !isOpen()) {
      clearTimers();
      drop();
      setState('offline');
    }
  };
  function watch() {
    if (!opts.watchNetwork || !globalThis.addEventListener) return;
    globalThis.addEventListener('online', onlineEvent);
    globalThis.addEventListener('offline', offlineEvent);
  }
  function unwatch() {
    if (!opts.watchNetwork || !globalThis.removeEventListener) return;
    globalThis.removeEventListener('online', onlineEvent);
    globalThis.removeEventListener('offline', offlineEvent);
  }
  watch();

  const client = {
    // send sends data now when connected and returns true, or queues it
    // (dropping the oldest past maxQueue) and returns false. After close()
    // it throws.
    send(data) {
      if (closed) throw new Error('wshost-client: send after close()');
      if (isOpen()) {
        ws.send(data);
        return true;
      }
      queue.push(data);
      if (queue.length > opts.maxQueue) queue.shift();
      onQueue(queue.length);
      return false;
    },
    // reconnect drops the current connection, if any, and connects now
    // (resetting the backoff); it also revives a closed client.
    reconnect() {
      if (closed) {
        closed = false;
        watch();
      }
      attempt = 0;
      open();
    },
    // close closes the connection for good (code 1000 by default): no more
    // reconnects. Queued sends are kept, and sent if reconnect() is called.
    close(code = 1000, reason = '') {
      if (closed) return;
      closed = true;
      clearTimers();
      unwatch();
      if (ws) {
        const old = ws;
        ws = null;
        old.onopen = old.onmessage = old.onclose = old.onerror = null;
        try { old.close(code, reason); } catch { /* already closed */ }
      }
      setState('closed', { code, reason, wasClean: true });
    },
    get state() { return state; },
    get open() { return isOpen(); },
    get queued() { return queue.length; },
    get queue() { return [...queue]; },
    get connections() { return connections; },
    get attempt() { return attempt; },
    get retryAt() { return retryAt; },
    get socket() { return ws; },
  };

  open();
  return client;
}
