package cli

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// TestNoGUIOutsideApp keeps the architecture's import rule: certs, provision
// and sensorcore never pull in fyne.io, and the headless CLI build (-tags
// nogui) carries no GUI either.
func TestNoGUIOutsideApp(t *testing.T) {
	needs.Tool(t, "go", "golang (go list names the package dependencies)")
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

// laptopSensorcore are the sensorcore packages the laptop binaries may link:
// the formats the two sides share (docs/formats.md), and the offline
// analysis engine that `tapline plugin test` and the Plugins screen run so
// a plugin is tried on the laptop with the very engine the sensor runs
// (docs/plugins.md): capture files, decoding, the dissectors and plugins,
// the monitor's pipeline with its inventory, alerts and operations log.
// The rest of sensorcore (daemon, console, SSH listener, generation
// store, live capture's supervision) is the appliance's alone.
var laptopSensorcore = map[string]bool{
	"github.com/tapline/tapline/sensorcore/activation": true,
	"github.com/tapline/tapline/sensorcore/bundle":     true,
	"github.com/tapline/tapline/sensorcore/netconf":    true,
	"github.com/tapline/tapline/sensorcore/release":    true,
	"github.com/tapline/tapline/sensorcore/site":       true,
	"github.com/tapline/tapline/sensorcore/version":    true,
	// the offline analysis engine
	"github.com/tapline/tapline/sensorcore/plugin":         true,
	"github.com/tapline/tapline/sensorcore/plugin/offline": true,
	"github.com/tapline/tapline/sensorcore/monitor":        true,
	"github.com/tapline/tapline/sensorcore/dissect":        true,
	"github.com/tapline/tapline/sensorcore/decode":         true,
	"github.com/tapline/tapline/sensorcore/capture":        true,
	"github.com/tapline/tapline/sensorcore/inventory":      true,
	"github.com/tapline/tapline/sensorcore/alert":          true,
	"github.com/tapline/tapline/sensorcore/store":          true,
	"github.com/tapline/tapline/sensorcore/console/page":   true,
}

// TestLaptopLinksNoAppliance: the tapline binaries (the desktop app and the
// headless CLI, on every desktop system they ship for) link only the shared
// format packages of sensorcore, never the appliance itself; the demo fleet
// drives the sensorcore binary instead.
func TestLaptopLinksNoAppliance(t *testing.T) {
	needs.Tool(t, "go", "golang (go list names the package dependencies)")
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, c := range []struct {
			name, cgo string
			args      []string
		}{
			{"desktop app", "1", []string{"list", "-deps", "../.."}},
			{"headless CLI", "0", []string{"list", "-deps", "-tags", "nogui", "../.."}},
		} {
			t.Run(goos+" "+c.name, func(t *testing.T) {
				cmd := exec.Command("go", c.args...)
				cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED="+c.cgo)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("GOOS=%s go %s: %v\n%s", goos, strings.Join(c.args, " "), err, out)
				}
				for _, dep := range strings.Fields(string(out)) {
					if strings.HasPrefix(dep, "github.com/tapline/tapline/sensorcore/") && !laptopSensorcore[dep] {
						t.Errorf("the %s for %s links %s; the laptop may use only sensorcore's format packages and its offline analysis engine (laptopSensorcore)", c.name, goos, dep)
					}
				}
			})
		}
	}
}
