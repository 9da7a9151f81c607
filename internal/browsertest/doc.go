// Package browsertest drives the embedded chat page (host/webui) in Debian's
// headless Chromium with chromedp, against an in-process wshost serving the
// example chat plugin. It holds tests only; `make test` installs Chromium
// when it is missing. Set WSHOST_CHROMIUM to use another browser binary and
// WSHOST_ARTIFACTS to choose where screenshots go (default: artifacts/ at
// the repository root).
package browsertest
