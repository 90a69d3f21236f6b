package desktop

import (
	"strings"
	"testing"
	"time"
)

func TestNoDisplay(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		name, goos string
		getenv     func(string) string
		refused    bool
	}{
		{"linux without a display", "linux", env(), true},
		{"linux with X11", "linux", env("DISPLAY", ":0"), false},
		{"linux with Wayland", "linux", env("WAYLAND_DISPLAY", "wayland-0"), false},
		{"windows", "windows", env(), false},
		{"macOS", "darwin", env(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := NoDisplay(c.goos, c.getenv)
			if (msg != "") != c.refused {
				t.Fatalf("NoDisplay = %q", msg)
			}
			if c.refused && !strings.Contains(msg, "DISPLAY") {
				t.Errorf("message does not name DISPLAY: %q", msg)
			}
		})
	}
}

// TestRunRefusesBadStart: flags the app cannot honour end with exit 2 and a
// sentence, before any window (and without a display these tests need none).
func TestRunRefusesBadStart(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	for _, args := range [][]string{{"--bogus"}, {"--screen", "Bogus"}, {"stray"}, {}} {
		if got := Run(args, timeNow()); got != 2 {
			t.Errorf("Run(%q) = %d, want 2", args, got)
		}
	}
	if got := Run([]string{"--help-app"}, timeNow()); got != 0 {
		t.Errorf("--help-app: %d", got)
	}
}

func timeNow() time.Time { return time.Now() }
