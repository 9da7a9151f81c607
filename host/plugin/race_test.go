//go:build race

package plugin_test

// raceEnabled: the race detector's shadow memory does not fit the small
// memory limit of a compile child in precompile_test.go.
const raceEnabled = true
