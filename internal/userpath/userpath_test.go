package userpath

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestExpandHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv(HomeEnv(), home)
	for in, want := range map[string]string{
		"~": home, "~/.ssh/id_ed25519": filepath.Join(home, ".ssh", "id_ed25519"), `~\.ssh\id_ed25519`: filepath.Join(home, ".ssh", "id_ed25519"),
		"~other/x": "~other/x", "a/~/b": "a/~/b", "": "",
	} {
		if got := Expand(in); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestResolveUnix: on Linux and macOS, relative paths (with either slash)
// are under the inventory's folder; Windows-only paths are refused.
func TestResolveUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows rules are TestResolveWindows")
	}
	dir := "/home/eng/site-a"
	for in, want := range map[string]string{
		"certs/sensor-01.crt": "/home/eng/site-a/certs/sensor-01.crt", `certs\sensor-01.crt`: "/home/eng/site-a/certs/sensor-01.crt",
		`..\shared\chain.pem`: "/home/eng/shared/chain.pem", "/etc/tapline/root.pub": "/etc/tapline/root.pub", "": "",
		"Zürich Süd/a b.crt": "/home/eng/site-a/Zürich Süd/a b.crt",
	} {
		got, err := Resolve(dir, in)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`C:\certs\sensor-01.crt`, "D:/certs/x.crt", `\\fileserver\pki\chain.pem`} {
		if _, err := Resolve(dir, in); err == nil || !strings.Contains(err.Error(), "Windows path") {
			t.Errorf("Resolve(%q): %v, want it refused", in, err)
		}
	}
}
