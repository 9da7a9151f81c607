package plugin

import "time"

// SetDirPollInterval sets how often WatchDir looks for a vanished plugins
// directory, and returns a function that restores the old value.
func SetDirPollInterval(d time.Duration) (restore func()) {
	old := dirPollInterval
	dirPollInterval = d
	return func() { dirPollInterval = old }
}
