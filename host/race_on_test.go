//go:build race

package host_test

// raceEnabled: the race detector is on; it deepens every stack.
const raceEnabled = true
