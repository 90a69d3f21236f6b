package gui

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/app/preset"
	"github.com/tapline/tapline/sensorcore/activation"
)

// startDemo runs a demo fleet of n real sensors for one test and returns the
// preset it hands the app: the screens under test know the fleet only
// through it, as the app does.
func startDemo(t *testing.T, n int) preset.Preset {
	t.Helper()
	return startDemoWith(t, demo.Options{Sensors: n}).Preset()
}

// startDemoWith runs the demo fleet o describes (its Dir and Sensorcore
// filled in) for one test.
func startDemoWith(t *testing.T, o demo.Options) *demo.Fleet {
	t.Helper()
	o.Dir, o.Sensorcore = filepath.Join(t.TempDir(), "demo"), sensorcoreBin
	f, err := demo.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop() })
	return f
}

// demoEnv is a test Env that trusts the demo's activation authority and
// keeps its own known_hosts.
func demoEnv(t *testing.T, a fyne.App, p preset.Preset) Env {
	t.Helper()
	root, err := activation.ReadPublicKey(p.TrustRoot)
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(a, t.TempDir())
	env.Now = time.Now // the sensor checks against its own clock
	env.ActivationRoots = []ed25519.PublicKey{root}
	env.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	return env
}

// wizardOn builds the setup wizard on env in a test window and shows page.
func wizardOn(t *testing.T, env Env, page int) (*wizardScreen, fyne.Window) {
	t.Helper()
	w := newWizardScreen(env)
	win := test.NewTempWindow(t, w.build())
	w.show(page)
	return w, win
}

// connectedTo fills the wizard for sn and signs in to it, trusting its host
// key as the engineer does after comparing the fingerprint.
func connectedTo(t *testing.T, w *wizardScreen, sn preset.Sensor) {
	t.Helper()
	w.prefill(sn)
	w.Wait()
	test.Tap(w.conn.connectBtn)
	w.Wait()
	test.Tap(w.conn.trustBtn)
	w.Wait()
	if w.conn.connected == "" {
		t.Fatalf("connect to %s: %q %s", sn.Name, w.conn.state.Text, codes(w.conn.notes.all()))
	}
}
