package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoGUIOutsideApp keeps the architecture's import rule: certs, provision
// and sensorcore never pull in fyne.io, and the headless CLI build (-tags
// nogui) carries no GUI either.
func TestNoGUIOutsideApp(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command on PATH to list package dependencies")
	}
	cases := []struct {
		name string
		args []string
	}{
		{"core packages", []string{"list", "-deps", "../../certs/...", "../../provision/...", "../../sensorcore/..."}},
		{"headless CLI", []string{"list", "-deps", "-tags", "nogui", "../.."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command("go", c.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("go %s: %v\n%s", strings.Join(c.args, " "), err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if strings.HasPrefix(dep, "fyne.io/") {
					t.Errorf("%s depend on %s; only app/gui and app/desktop may import fyne.io", c.name, dep)
				}
			}
		})
	}
}
