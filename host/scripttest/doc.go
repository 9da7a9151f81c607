// Package scripttest replays a scripted session against a plugin, in
// process and with no network: clients connect through in-memory pipes to a
// real host running the real plugin. Plugin authors unit-test their logic
// with it from CI (`wshost test FILE.wasm SCRIPT`) or from Go tests (Run).
//
// A script is a text file, one step a line; blank lines and lines starting
// with # are skipped. NAME is a client's name, TEXT the rest of the line
// (spaces kept), HEX bytes in hexadecimal. The plugin is served at /ws/P,
// P being the .wasm file's base name.
//
//	connect NAME [?QUERY] [Header=value ...]   open a client (fails the step if refused)
//	connect-fail [?QUERY] STATUS                a handshake the plugin refuses with HTTP STATUS
//	send NAME TEXT                              send a text message
//	send-binary NAME HEX                        send a binary message
//	expect NAME TEXT                            the client's next message is this text
//	expect-binary NAME HEX                      ... this binary message
//	expect-match NAME REGEXP                    ... a text message matching REGEXP (whole)
//	expect-close NAME CODE                      ... the close frame, with CODE
//	expect-silence NAME [DURATION]              no message arrives within DURATION (default 200ms)
//	close NAME [CODE [REASON]]                  close the client with a close frame (default 1000)
//	drop NAME                                   drop the client's connection without a close frame
//	reload FILE.wasm [FILE.toml]                hot-reload the plugin (paths relative to the script)
//
// Every expect step is a check: it passes or fails, and the run goes on.
// The report ends with a line "N passed, N failed".
package scripttest
