package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit: deploy/systemd/wshost.service has the hardening this
// project promises, and systemd-analyze verify (when installed) finds
// nothing to say about it, with ExecStart pointing at a real wshost build.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../deploy/systemd/wshost.service")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(unit), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		"DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"CapabilityBoundingSet=", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "CacheDirectory=wshost",
		"StateDirectory=wshost", "ReadOnlyPaths=/etc/wshost/plugins", "LimitNOFILE=1048576",
		"ExecStart=/usr/local/bin/wshost --config /etc/wshost/wshost.toml", "ExecReload=/bin/kill -HUP $MAINPID",
	} {
		if !lines[want] {
			t.Errorf("the unit lacks the line %q", want)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit's directives were not verified")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wshost")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/wshost").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "wshost.service")
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/wshost", bin)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// verify exits 0 on unknown keys and bad values, only warning: any
	// word about the unit is a failure.
	if err != nil || strings.Contains(string(out), "wshost.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
