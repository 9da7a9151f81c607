package plugin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wshost/wshost/host/plugin"
)

// The [limits] rate keys reach the host's limits; bad ones are refused with
// an error that names the key.
func TestManifestRateLimits(t *testing.T) {
	m, err := plugin.ParseManifest([]byte("[limits]\nrate_messages = 20\nrate_messages_burst = 40\nrate_bytes = 65536\nrate_bytes_burst = 2097152\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := m.HostLimits()
	if l.RateMessages != 20 || l.RateMessagesBurst != 40 || l.RateBytes != 65536 || l.RateBytesBurst != 2<<20 {
		t.Errorf("host limits %+v", l)
	}
	m, err = plugin.ParseManifest([]byte("[limits]\nrate_messages = 5\nrate_bytes = 100\nmessage_bytes = 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := m.HostLimits(); l.RateMessagesBurst != 5 || l.RateBytesBurst != 1000 {
		t.Errorf("default bursts %d, %d; want 5, 1000", l.RateMessagesBurst, l.RateBytesBurst)
	}
	if l := (plugin.Manifest{}).HostLimits(); l.RateMessages != 0 || l.RateBytes != 0 {
		t.Errorf("no manifest: rates %d, %d", l.RateMessages, l.RateBytes)
	}

	for _, tc := range []struct{ toml, want string }{
		{"[limits]\nrate_messages = -1\n", "limits.rate_messages"},
		{"[limits]\nrate_bytes = -1\n", "limits.rate_bytes"},
		{"[limits]\nrate_messages_burst = 3\n", "limits.rate_messages_burst needs limits.rate_messages"},
		{"[limits]\nrate_bytes_burst = 3\n", "limits.rate_bytes_burst needs limits.rate_bytes"},
		{"[limits]\nrate_bytes = 10\nrate_bytes_burst = 100\n", "message limit"},
		{"[limits]\nrate_message = 10\n", "limits.rate_message"},
	} {
		_, err := plugin.ParseManifest([]byte(tc.toml))
		if !errors.Is(err, plugin.ErrManifest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want ErrManifest naming %q", tc.toml, err, tc.want)
		}
	}
}
