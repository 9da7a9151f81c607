// Package cli is the wshost command: flags to a Config, Config to a running
// server. cmd/wshost only adds signal handling, so tests drive Main directly.
package cli
