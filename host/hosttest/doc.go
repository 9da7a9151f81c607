// Package hosttest holds helpers for tests of wshost servers and plugins:
// in-process servers on random 127.0.0.1 ports, real WebSocket clients with
// read deadlines, and polling with a deadline instead of sleeping.
package hosttest
