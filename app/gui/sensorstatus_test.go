package gui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
)

// TestSensorStatusShown: what the sensor's status reports at the push's end
// about its devices (against the licensed count) and its uplink shows in
// the wizard's done state and in Fleet (its own column, a line each in the
// sensor's log); a sensor that reports neither shows neither.
func TestSensorStatusShown(t *testing.T) {
	a := test.NewTempApp(t)
	env := testEnv(a, t.TempDir())
	row := provision.Row{Sensor: "sensor-01", Address: "192.0.2.10", SSHPort: 22, ConsolePort: 443}
	done := provision.Result{Sensor: "sensor-01", Outcome: provision.OutcomeDone, Activated: true, Generation: 2, FinalAddr: "192.0.2.10:22",
		ServedFingerprint: strings.Repeat("ab", 32), Step: provision.StepVerify}
	withState := done
	withState.Devices = &provision.StatusDevices{Discovered: 212, Licensed: 500, Plan: "OT-500"}
	withState.Uplink = &provision.StatusUplink{Connected: true, Server: "tls://192.0.2.21:4222", Outbox: 3, Dropped: 0}
	over := done
	over.Devices = &provision.StatusDevices{Discovered: 612, Licensed: 500, Plan: "OT-500"}
	over.Uplink = &provision.StatusUplink{Error: "dial tcp 192.0.2.21:4222: i/o timeout", Outbox: 40, Dropped: 2}

	w := newWizardScreen(env)
	test.NewTempWindow(t, w.build()).Resize(fyne.NewSize(1100, 720))
	for _, c := range []struct {
		name string
		res  provision.Result
		want []string
		not  []string
	}{
		{"reported", withState, []string{"Devices: 212 discovered of 500 licensed (OT-500).", "Uplink: streaming to tls://192.0.2.21:4222; 3 waiting, 0 operations dropped."}, nil},
		{"over the licence, uplink down", over, []string{"Devices: 612 discovered, over the 500 the licence (OT-500) covers: ask for a larger plan.",
			"Uplink: not connected (dial tcp 192.0.2.21:4222: i/o timeout); 40 waiting in the outbox, 2 operations dropped."}, nil},
		{"not reported", done, nil, []string{"Devices", "Uplink"}},
	} {
		w.push.showDone(c.res, row)
		txt := w.push.doneText.Text
		for _, s := range c.want {
			if !strings.Contains(txt, s) {
				t.Errorf("%s: the done state lacks %q:\n%s", c.name, s, txt)
			}
		}
		for _, s := range c.not {
			if strings.Contains(txt, s) {
				t.Errorf("%s: the done state says %q of a sensor that reported none:\n%s", c.name, s, txt)
			}
		}
	}

	fl := newFleetScreen(env)
	test.NewTempWindow(t, fl.build()).Resize(fyne.NewSize(1100, 720))
	rows := []provision.Row{row, {Sensor: "sensor-02", Address: "192.0.2.11", SSHPort: 22}, {Sensor: "sensor-03", Address: "192.0.2.12", SSHPort: 22}}
	fl.model.reset(rows)
	two, three := over, done
	two.Sensor, three.Sensor = "sensor-02", "sensor-03"
	fl.model.finished(&provision.BatchReport{Results: []provision.RowResult{
		{Row: rows[0], Result: withState, Attempts: 1}, {Row: rows[1], Result: two, Attempts: 1}, {Row: rows[2], Result: three, Attempts: 1}}})
	fl.table.Refresh()
	col := len(fleetColumns) - 1
	if fleetColumns[col].title != "Devices, uplink" {
		t.Fatalf("last column %q", fleetColumns[col].title)
	}
	for i, want := range []string{"212/500 devices, uplink up", "612/500 devices (over licence), uplink down", ""} {
		r, _ := fl.model.get(i)
		if r.sensorState != want {
			t.Errorf("row %d: %q, want %q", i, r.sensorState, want)
		}
		cell := container.NewStack(widget.NewLabel("old"), newProgressBar())
		fl.cell(widget.TableCellID{Row: i, Col: col}, cell)
		if got := cell.Objects[0].(*widget.Label).Text; got != want {
			t.Errorf("row %d's cell: %q, want %q", i, got, want)
		}
	}
	log := strings.Join(fl.model.logOf(1), "\n")
	for _, s := range statusLines(two) {
		if !strings.Contains(log, s) {
			t.Errorf("sensor-02's log lacks %q:\n%s", s, log)
		}
	}
	if log := strings.Join(fl.model.logOf(2), "\n"); strings.Contains(log, "Devices") || strings.Contains(log, "Uplink") {
		t.Errorf("sensor-03 reported neither, its log says:\n%s", log)
	}
}

// TestDevicesShownFromRealSensors: against real sensors whose monitors
// replay a Modbus capture, the wizard's done state and Fleet (its Devices,
// uplink column and each sensor's log) say how many devices each sensor
// discovered against its activation's licensed count, as its status says
// it; the demo sensors have no uplink, so nothing is said of one. The
// screenshot tour drives the app: the wizard pushes one sensor, Fleet both.
func TestDevicesShownFromRealSensors(t *testing.T) {
	needs.Root(t, "runs sensorcore serve, whose monitoring engine runs as its own user")
	capture := needs.Shared(t, "pcaps/modbus/modbusSmall.pcap")[0]
	fleet := startDemoWith(t, demo.Options{Sensors: 2, Replay: []string{capture}})
	// Each sensor counts what its monitor discovered every few seconds:
	// wait until both have.
	deadline := time.Now().Add(60 * time.Second)
	for _, sn := range fleet.Sensors {
		run := filepath.Join(sn.Root, "var", "lib", "sensorcore", "run.json")
		for {
			var ri struct {
				Discovered *int `json:"devices_discovered"`
			}
			if b, err := os.ReadFile(run); err == nil && json.Unmarshal(b, &ri) == nil && ri.Discovered != nil && *ri.Discovered > 0 {
				break
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(run)
				t.Fatalf("%s discovered no device within a minute: %s", sn.Name, b)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	f := fleet.Preset()
	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	env.Preset = &f
	env.Inventory, env.FilesDir, env.KnownHosts = f.Inventory, f.FilesDir, f.KnownHosts
	m := NewMainWindow(a, env)
	m.Window.Resize(fyne.NewSize(1100, 720))
	devices := regexp.MustCompile(`Devices: ([1-9][0-9]*) discovered of 100 licensed \(demo\)\.`)
	seen := map[string]bool{}
	err := m.Tour(func(name string) error {
		switch name {
		case "setup-push":
			seen[name] = true
			if txt := m.wizard.push.doneText.Text; !devices.MatchString(txt) || strings.Contains(txt, "Uplink") {
				t.Errorf("the done state does not say the sensor's devices as its status did, or speaks of an uplink:\n%s", txt)
			}
		case "fleet":
			seen[name] = true
			for i := 0; i < m.fleet.model.len(); i++ {
				r, _ := m.fleet.model.get(i)
				log := strings.Join(m.fleet.model.logOf(i), "\n")
				c := regexp.MustCompile(`^([1-9][0-9]*)/100 devices$`).FindStringSubmatch(r.sensorState)
				if r.outcome != provision.OutcomeDone || c == nil {
					t.Errorf("row %d: %s, Devices, uplink %q\n%s", i, r.outcome, r.sensorState, log)
					continue
				}
				if !strings.Contains(log, "Devices: "+c[1]+" discovered of 100 licensed (demo).") || strings.Contains(log, "Uplink") {
					t.Errorf("row %d's log does not say its devices as its status did, or speaks of an uplink:\n%s", i, log)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen["setup-push"] || !seen["fleet"] {
		t.Fatalf("the tour did not reach the done state and Fleet: %v", seen)
	}
}
