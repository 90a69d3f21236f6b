package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/provision"
)

// TestTour runs the screenshot tour on the test driver against a demo
// fleet: every screen is reached and every action in it succeeds.
func TestTour(t *testing.T) {
	f := startDemo(t, 2)
	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	env.Preset = &f
	env.Inventory, env.FilesDir, env.KnownHosts = f.Inventory, f.FilesDir, f.KnownHosts
	m := NewMainWindow(a, env)
	m.Window.Resize(fyne.NewSize(1100, 720))
	var shots []string
	err := m.Tour(func(name string) error {
		if img := m.Window.Canvas().Capture(); img.Bounds().Dx() == 0 {
			t.Errorf("%s: empty capture", name)
		}
		shots = append(shots, name)
		w := m.wizard
		heading := map[string]string{"setup-connect-key": "Connect", "setup-connect": "Connect", "setup-network": "Network", "setup-network-error": "Network",
			"setup-activation-mismatch": "Activation", "setup-activation": "Activation", "setup-certificate": "Certificate",
			"setup-review": "Review", "setup-push": "Push", "setup-validate": "Validate"}
		if want, ok := heading[name]; ok && w.heading.Text != want {
			t.Errorf("%s: on the %s page", name, w.heading.Text)
		}
		switch name {
		case "setup-connect-key":
			if w.conn.keyFile.Disabled() || !w.conn.keyUse.Visible() || !strings.HasPrefix(w.conn.keyUse.Text, "Empty: ") {
				t.Errorf("%s: the key file's line: %q", name, w.conn.keyUse.Text)
			}
		case "setup-network-error":
			if !hasCode(w.net.notes.of(fieldGateway), provision.CodeNetwork) {
				t.Errorf("%s: %+v", name, w.net.notes.all())
			}
		case "setup-activation-mismatch":
			if !hasCode(w.act.notes.of("Sensor"), codeIdentity) {
				t.Errorf("%s: %+v", name, w.act.notes.all())
			}
		case "setup-activation":
			if len(w.act.notes.all()) != 0 || !w.act.confirm.Checked {
				t.Errorf("%s: %+v", name, w.act.notes.all())
			}
		case "setup-push":
			if !w.push.done.Visible() {
				t.Errorf("%s: not in the done state: %q", name, w.push.outcome.Text)
			}
		case "setup-validate":
			if w.val.view.shown == nil || len(w.val.view.checks.Objects) == 0 {
				t.Errorf("%s: no validation shown: %q", name, w.val.view.verdict.Text)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(shots) != 20 {
		t.Errorf("shots %v", shots)
	}
	if r := m.wizard.push.Result(); r == nil || r.Outcome != provision.OutcomeDone {
		t.Errorf("wizard push: %+v", r)
	}
	for i := 0; i < 2; i++ {
		if r, _ := m.fleet.model.get(i); r.outcome != provision.OutcomeDone {
			t.Errorf("fleet row %d: %+v", i, r)
		}
	}
	if m.workbench.ca.ca == nil {
		t.Errorf("local CA not unlocked: %s", codes(m.workbench.ca.findings.shown))
	}
	if len(m.known.entries) < 2 {
		t.Errorf("known hosts: %d", len(m.known.entries))
	}
}
