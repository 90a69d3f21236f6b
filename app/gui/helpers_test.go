package gui

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/sensorcore/activation"
)

// testNow is the pinned clock of every GUI test.
var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// RSA key generation is slow under -race; the tests share three keys.
var (
	keysOnce sync.Once
	testKeys [3]crypto.Signer
)

func rsaKeys(t testing.TB) [3]crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		for i := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys
}

// mustCA makes a local CA with a root and issues a certificate for host,
// then exports the sensor's files (HOST.crt, HOST.key, HOST-chain.pem) into
// a temporary folder and returns it.
func mustCA(t testing.TB, host string) (*ca.CA, *ca.Issued, string) {
	t.Helper()
	k := rsaKeys(t)
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Plant", RootKey: k[0], Now: testNow.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	is, err := c.Issue(ca.IssueRequest{Hostname: host, IP: netip.MustParseAddr("192.0.2.10"), Key: k[1], Now: testNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := ca.Export(dir, host, is, ca.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return c, is, dir
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testEnv(a fyne.App, dir string) Env {
	return Env{App: a, Now: func() time.Time { return testNow }, Rand: rand.Reader, FilesDir: dir, KnownHosts: filepath.Join(dir, "known_hosts"), ui: newUIQueue(), caKDF: 1000}
}

func codes(fs []certs.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return strings.Join(out, ",")
}

func hasCode(fs []certs.Finding, code string) bool {
	for _, f := range fs {
		if f.Code == code {
			return true
		}
	}
	return false
}

// shown is every problem the wizard's current page shows next to its
// fields and actions.
func (s *wizardScreen) shown() []certs.Finding {
	switch st := s.steps[s.cur].(type) {
	case *connectStep:
		return st.notes.all()
	case *networkStep:
		return st.notes.all()
	case *activationStep:
		return st.notes.all()
	case *certStep:
		return st.notes.all()
	case *reviewStep:
		return append(st.notes.all(), st.findings.shown...)
	case *pushStep:
		return st.findings.shown
	}
	return nil
}

// highlighted reports whether e's border is drawn in the error colour once
// the focus moved on (test.Type focuses an entry and never unfocuses it; a
// focused entry shows its focus, not its error).
func highlighted(e *widget.Entry) bool {
	e.FocusLost()
	want := theme.Current().Color(theme.ColorNameError, fyne.CurrentApp().Settings().ThemeVariant())
	for _, o := range test.WidgetRenderer(e).Objects() {
		if r, ok := o.(*canvas.Rectangle); ok && r.StrokeColor == want {
			return true
		}
	}
	return false
}

// activationFiles issues an activation file for each name under a test
// root (IDS-0001, IDS-0002, ... in order) and returns the root to trust and
// the files' paths.
func activationFiles(t testing.TB, dir string, now time.Time, names ...string) ([]ed25519.PublicKey, []string) {
	t.Helper()
	rootPub, rootKey, _ := ed25519.GenerateKey(rand.Reader)
	signPub, signKey, _ := ed25519.GenerateKey(rand.Reader)
	sc, err := activation.CertifySigner(rootKey, signPub, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, n := range names {
		data, err := activation.Issue(activation.Request{SensorID: fmt.Sprintf("IDS-%04d", i+1), SensorName: n, Site: "Plant A", Zone: "Line 1",
			PlanID: "OT-500", Mode: activation.ModeLocal, DeviceCount: 500, Expires: now.AddDate(1, 0, 0)}, signKey, sc, now)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, writeFile(t, dir, n+".tapact", data))
	}
	return []ed25519.PublicKey{rootPub}, paths
}

// texts is every text the canvas shows (labels, rich text, entries), for
// tests that count how often something is said.
func texts(c interface{ Content() fyne.CanvasObject }) string {
	var b strings.Builder
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *canvas.Text:
			b.WriteString(x.Text + "\n")
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
			return
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(c.Content())
	return b.String()
}

// inView reports whether o is inside sc's visible part.
func inView(sc *container.Scroll, o fyne.CanvasObject) bool {
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(o).Y - d.AbsolutePositionForObject(sc).Y
	return o.Visible() && top >= 0 && top+o.Size().Height <= sc.Size().Height+1
}
