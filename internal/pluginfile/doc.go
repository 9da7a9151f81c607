// Package pluginfile makes and writes plugin files the way operators and
// deploy tools do: a new version of a module that behaves the same (a
// custom section appended), written into a watched plugins directory with
// an atomic rename. Tests, the soak and the load tool share it.
package pluginfile
