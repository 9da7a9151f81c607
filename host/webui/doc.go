// Package webui serves the browser chat page of wshost.
//
// The page is a self-contained set of static files (HTML, CSS and plain
// JavaScript, no build step and no external URLs) embedded into the binary.
// [Handler] serves them with index.html at "/". The page connects back to the
// chat plugin over a WebSocket at "ws/chat" relative to its own location, so
// the handler may be mounted under a path prefix with [net/http.StripPrefix]
// as long as the chat endpoint lives under the same prefix:
//
//	mux.Handle("/chat/", http.StripPrefix("/chat", webui.Handler()))
//	// page: https://host/chat/  ->  socket: wss://host/chat/ws/chat
//
// The page is built on wshost-client.js, an ES module served beside it
// ("/wshost-client.js") that users may import in their own pages: connect(url,
// {onMessage, onState, ...}) with reconnects (exponential backoff with
// jitter), sends queued while disconnected, and close(). See README.md.
//
// The chat protocol is plain text lines: the client sends message text or the
// commands "/nick NAME", "/join ROOM" and "/who"; the server answers with
// notices ("* ..."), chat lines ("[ROOM] NICK: TEXT") and errors ("! ...").
package webui
