package gui

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/activation"
)

// TestActivationEditInvalidatesFile: editing the path forgets the file read
// before and its confirmation; Enter reads the new one, and only its name
// can be confirmed and carried to Review.
func TestActivationEditInvalidatesFile(t *testing.T) {
	a := test.NewTempApp(t)
	env := testEnv(a, t.TempDir())
	roots, paths := activationFiles(t, t.TempDir(), testNow, "sensor-01", "sensor-02")
	env.ActivationRoots = roots
	w, _ := wizardOn(t, env, 2)
	s := w.act

	test.Type(s.path, paths[0])
	pressEnter(s.path)
	w.Wait()
	if s.file == nil || s.file.Payload.SensorName != "sensor-01" || s.confirm.Disabled() {
		t.Fatalf("first file: %q %s", s.details.Text, codes(s.notes.all()))
	}
	test.Tap(s.confirm)
	test.Tap(s.terms)
	if r := w.row(); r.Sensor != "sensor-01" {
		t.Fatalf("row %q", r.Sensor)
	}

	// The engineer types another path: the old file and its tick are gone.
	retype(s.path, paths[1])
	if s.file != nil || s.confirm.Checked || !s.confirm.Disabled() || w.row().Sensor != "" ||
		!strings.Contains(s.details.Text, "Press Enter or Next to read sensor-02.tapact") {
		t.Fatalf("after editing the path: file %v, confirmed %v, details %q", s.file != nil, s.confirm.Checked, s.details.Text)
	}
	// Enter (as Next) reads it and stays on the page for the new name.
	pressEnter(s.path)
	w.Wait()
	if w.heading.Text != "Activation" || s.file == nil || s.file.Payload.SensorName != "sensor-02" || s.confirm.Checked {
		t.Fatalf("Enter after editing: on %s, %q", w.heading.Text, s.details.Text)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" || !hasCode(s.notes.of("Sensor name"), codeField) ||
		!strings.Contains(s.notes.of("Sensor name")[0].Hint, "sensor-02") {
		t.Fatalf("Next before confirming sensor-02: on %s, %+v", w.heading.Text, s.notes.all())
	}
	test.Tap(s.confirm)
	if len(s.notes.of("Sensor name")) != 0 {
		t.Error("the note stays after the tick")
	}
	if r := w.row(); r.Sensor != "sensor-02" || r.Activation != paths[1] {
		t.Fatalf("row: %q %q", r.Sensor, r.Activation)
	}

	// A path that cannot be read says so under the path, and the file
	// problem goes as soon as the path is edited.
	retype(s.path, filepath.Join(t.TempDir(), "missing.tapact"))
	test.Tap(w.nextBtn)
	w.Wait()
	if got := s.notes.of("Activation file"); !hasCode(got, codeFile) || !highlighted(s.path) {
		t.Fatalf("missing file: %+v", s.notes.all())
	}
	test.Type(s.path, "x")
	if len(s.notes.all()) != 0 || highlighted(s.path) {
		t.Fatalf("edited path keeps the old problem: %+v", s.notes.all())
	}
}

// TestIdentityProblem: the file is compared with the sensor signed in to as
// the sensor's apply compares it.
func TestIdentityProblem(t *testing.T) {
	p := activation.Payload{SensorName: "sensor-01", SensorID: "S-1"}
	cases := []struct {
		name string
		live *provision.Status
		want string // "", or the severity
	}{
		{"not connected", nil, ""},
		{"never named", &provision.Status{SensorName: "localhost", SensorNameSource: provision.NameFromHost}, ""},
		{"older appliance, never provisioned", &provision.Status{SensorName: "debian"}, ""},
		{"configured, same", &provision.Status{SensorName: "sensor-01", SensorNameSource: provision.NameFromConfig}, ""},
		{"configured, other", &provision.Status{SensorName: "sensor-02", SensorNameSource: provision.NameFromConfig}, "error"},
		{"activated, same", &provision.Status{SensorName: "sensor-01", SensorID: "S-1", SensorNameSource: provision.NameFromActivation}, ""},
		{"activated, re-issued file", &provision.Status{SensorName: "sensor-01", SensorID: "S-9", SensorNameSource: provision.NameFromActivation}, ""},
		{"activated, renamed", &provision.Status{SensorName: "old-01", SensorID: "S-1", SensorNameSource: provision.NameFromActivation}, "warning"},
		{"activated, other sensor", &provision.Status{SensorName: "sensor-02", SensorID: "S-2", SensorNameSource: provision.NameFromActivation}, "error"},
		{"older appliance, activated as another", &provision.Status{SensorName: "sensor-02", SensorID: "S-2", Generation: 3}, "error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := identityProblem(c.live, "192.0.2.10:22", p)
			switch {
			case c.want == "" && f != nil:
				t.Fatalf("flagged: %+v", *f)
			case c.want != "" && (f == nil || string(f.Severity) != c.want || f.Code != codeIdentity || f.Hint == ""):
				t.Fatalf("got %+v, want a %s", f, c.want)
			case c.want == "error" && (!strings.Contains(f.Message, `"sensor-01"`) || !strings.Contains(f.Message, c.live.SensorName) ||
				!strings.Contains(f.Message, "192.0.2.10:22")):
				t.Fatalf("the message must name both sensors and the address: %q", f.Message)
			}
		})
	}
}

// TestActivationFlagsAnotherSensor: after Connect the wizard knows the live
// sensor's name and id (sensorcore status over the same SSH session); a
// file for another sensor is flagged on the Activation page, next to the
// file's details, and cannot be confirmed, instead of being refused at
// apply; the right file shows that it is for the sensor signed in to.
func TestActivationFlagsAnotherSensor(t *testing.T) {
	f := startDemo(t, 2)
	a := test.NewTempApp(t)
	w, win := wizardOn(t, demoEnv(t, a, f), 0)
	win.Resize(fyne.NewSize(1000, 700))
	connectedTo(t, w, f.Sensors[0])
	sn := f.Sensors[0]
	snAddr := net.JoinHostPort(sn.Address, sn.SSHPort)
	live := w.conn.live
	if w.conn.connected == "" || live == nil || live.SensorName != sn.Name || live.SensorNameSource != provision.NameFromConfig {
		t.Fatalf("connect: %q %+v %s", w.conn.state.Text, live, codes(w.conn.notes.all()))
	}
	if !strings.Contains(w.conn.state.Text, `The sensor says it is "`+sn.Name+`"`) {
		t.Errorf("Connect does not say who the sensor is: %q", w.conn.state.Text)
	}
	test.Tap(w.nextBtn)
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" {
		t.Fatalf("on %s: %s", w.heading.Text, codes(w.shown()))
	}
	s := w.act
	retype(s.path, f.Sensors[1].Activation)
	pressEnter(s.path)
	w.Wait()
	bad := s.notes.of("Sensor")
	if len(bad) != 1 || bad[0].Code != codeIdentity || bad[0].Severity != certs.SeverityError ||
		!strings.Contains(bad[0].Message, `"`+f.Sensors[1].Name+`"`) || !strings.Contains(bad[0].Message, `"`+sn.Name+`"`) ||
		!strings.Contains(bad[0].Message, snAddr) {
		t.Fatalf("another sensor's file: %+v", s.notes.all())
	}
	if !s.confirm.Disabled() || s.confirm.Checked {
		t.Fatal("a file for another sensor can be confirmed")
	}
	test.Tap(s.terms)
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" || !inView(w.scroll, s.notes.at("Sensor", nil)) {
		t.Fatalf("Next with another sensor's file: on %s, note in view %v", w.heading.Text, inView(w.scroll, s.notes.at("Sensor", nil)))
	}

	// The right file: no flag, and the page says it is for this sensor.
	retype(s.path, sn.Activation)
	pressEnter(s.path)
	w.Wait()
	if len(s.notes.all()) != 0 || s.confirm.Disabled() ||
		!strings.Contains(s.details.Text, "The sensor at "+snAddr+` says it is "`+sn.Name+`": this file is for it.`) {
		t.Fatalf("the right file: %q %+v", s.details.Text, s.notes.all())
	}
	test.Tap(s.confirm)
	test.Tap(w.nextBtn)
	if w.heading.Text != "Certificate" {
		t.Fatalf("on %s: %s", w.heading.Text, codes(w.shown()))
	}

	// Connecting to the other sensor flags the file chosen before.
	w.show(0)
	retype(w.conn.address, f.Sensors[1].Address)
	retype(w.conn.sshPort, f.Sensors[1].SSHPort)
	if w.act.file != nil && len(w.act.notes.of("Sensor")) != 0 {
		t.Fatal("a flag stays while not connected")
	}
	test.Tap(w.conn.connectBtn)
	w.Wait()
	test.Tap(w.conn.trustBtn)
	w.Wait()
	if w.conn.live == nil || w.conn.live.SensorName != f.Sensors[1].Name || !hasCode(w.act.notes.of("Sensor"), codeIdentity) || w.act.confirm.Checked {
		t.Fatalf("after connecting to %s: %+v", f.Sensors[1].Name, w.act.notes.all())
	}
}
