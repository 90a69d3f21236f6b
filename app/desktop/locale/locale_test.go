package locale

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

func TestIsPOSIX(t *testing.T) {
	for loc, want := range map[string]bool{"C": true, "C.UTF-8": true, "POSIX": true, "POSIX@euro": true,
		"": false, "en_US.UTF-8": false, "de_DE@euro": false, "Ca": false} {
		if got := IsPOSIX(loc); got != want {
			t.Errorf("IsPOSIX(%q) = %v", loc, got)
		}
	}
}

func TestEffective(t *testing.T) {
	env := map[string]string{"LANG": "de_DE.UTF-8", "LC_MESSAGES": "C"}
	if got := Effective(func(k string) string { return env[k] }); got != "C" {
		t.Errorf("LC_MESSAGES before LANG: %q", got)
	}
	env["LC_ALL"] = "fr_FR.UTF-8"
	if got := Effective(func(k string) string { return env[k] }); got != "fr_FR.UTF-8" {
		t.Errorf("LC_ALL first: %q", got)
	}
}

// TestNoFyneLocaleError runs the real tapline binary with LANG=C.UTF-8 (Debian and Ubuntu images): a command
// prints its output and no "Fyne error" about the locale.
func TestNoFyneLocaleError(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the GUI binary (cgo), which -short leaves out")
	}
	goTool := needs.Tool(t, "go", "golang")
	bin := t.TempDir() + "/tapline"
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/tapline/tapline").CombinedOutput(); err != nil {
		needs.Missing(t, "this test builds the GUI binary, which needs cgo and the X11/GL headers (tools/ensure-deps.sh gui): %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "tapline ") || strings.Contains(string(out), "Fyne error") {
		t.Fatalf("tapline version with LANG=C.UTF-8: %v\n%s", err, out)
	}
}
