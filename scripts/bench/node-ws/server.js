// A plain Node `ws` broadcast server, the peer users would write instead of
// wshost: every text message a client sends goes to every member of its room
// (the sender included), one message per frame. The room is the `room` query
// parameter (default "general"), as with wshost's chat.
//
//   node server.js [PORT]        listens on 127.0.0.1:PORT (default 8093)
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || process.env.PORT || 8093);
const rooms = new Map(); // room name -> Set of sockets

const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });

wss.on('connection', (ws, req) => {
  const room = new URL(req.url, 'http://x').searchParams.get('room') || 'general';
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    for (const m of members) {
      if (m.readyState === WebSocket.OPEN) m.send(data, { binary: isBinary });
    }
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
});

server.listen(port, '127.0.0.1', () => console.log(`node-ws listening on 127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
