// Package soak is wshost's soak test: thousands of WebSocket clients on
// 127.0.0.1 against an in-process server whose broadcast plugin is replaced
// every few seconds, with churn, abrupt disconnects and many senders, then
// an exact check of what every client received and of what the process
// kept (goroutines, file descriptors, heap).
//
// The delivery rule. Every sender writes numbered messages "SENDER SEQ",
// one at a time, and waits for its own copy (the plugin broadcasts to the
// whole room, the sender included). For a receiver R and a sender S in the
// same room:
//
//   - What R got from S is a run of consecutive SEQs in increasing order: no
//     duplicate, no reordering, no gap (a room member either is in the
//     room's fan-out of a message or not, and its queue is written in
//     order). This holds for every receiver, dropped ones included.
//   - R must have got S's message k when R's handshake completed before S
//     started writing k (so R had joined), and S's message k had certainly
//     been handled before R started closing. "Certainly handled" is proved
//     by S: it received its own copy of message k+1 (the host handles one
//     connection's messages in turn), or the server's reply to S's close
//     frame (read after message k). R must have closed cleanly (it reads
//     everything queued before its close frame); a receiver the script
//     dropped abruptly has no obligation beyond the first rule.
//
// Any close the script did not ask for, a closing handshake that does not
// end with 1000, a failed write, a missing echo, a plugin reload that is
// refused or a handler error fails the run.
package soak
