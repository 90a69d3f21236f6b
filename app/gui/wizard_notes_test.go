package gui

import (
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

// TestWizardPagesStartAtTop: each page starts scrolled to its top, however
// far down the page before it was scrolled.
func TestWizardPagesStartAtTop(t *testing.T) {
	a := test.NewTempApp(t)
	w, win := wizardOn(t, testEnv(a, t.TempDir()), 0)
	win.Resize(fyne.NewSize(900, 420))
	test.Type(w.conn.address, "192.0.2.10")
	w.show(1)
	test.Type(w.net.mask, "24")
	test.Type(w.net.hostname, "sensor-01.plant.example")
	w.scroll.ScrollToBottom()
	if w.scroll.Offset.Y == 0 {
		t.Fatal("the Network page does not scroll at this size; the test needs a smaller window")
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" || w.scroll.Offset.Y != 0 {
		t.Fatalf("on %s at offset %v", w.heading.Text, w.scroll.Offset.Y)
	}
	w.show(3)
	w.scroll.ScrollToBottom()
	test.Tap(w.backBtn)
	if w.heading.Text != "Activation" || w.scroll.Offset.Y != 0 {
		t.Fatalf("Back: on %s at offset %v", w.heading.Text, w.scroll.Offset.Y)
	}
}

// TestWizardErrorsNextToTheirField: a problem at the bottom of a page that
// does not fit the window is shown under its field and scrolled into view;
// certificate findings go under the file they are about, go away the moment
// that file or the host name changes, and a clean check leaves no "needs
// attention" under "would accept".
func TestWizardErrorsNextToTheirField(t *testing.T) {
	a := test.NewTempApp(t)
	w, win := wizardOn(t, testEnv(a, t.TempDir()), 0)
	win.Resize(fyne.NewSize(900, 420))
	test.Type(w.conn.address, "192.0.2.10")
	w.show(1)
	n := w.net
	test.Type(n.ip, "192.0.2.10")
	test.Type(n.mask, "24")
	test.Type(n.hostname, "sensor-09.plant.example")
	test.Tap(n.proxy) // and no proxy host: the last fields of the page
	test.Tap(w.nextBtn)
	note := n.notes.at(fieldProxyHost, nil)
	if w.heading.Text != "Network" || len(n.notes.of(fieldProxyHost)) == 0 || !inView(w.scroll, note) || w.scroll.Offset.Y == 0 {
		t.Fatalf("proxy host: on %s, %+v, in view %v, offset %v", w.heading.Text, n.notes.all(), inView(w.scroll, note), w.scroll.Offset.Y)
	}
	test.Tap(n.proxy)
	if len(n.notes.all()) != 0 {
		t.Fatalf("the proxy is off, its notes stay: %+v", n.notes.all())
	}
	test.Tap(w.nextBtn)
	w.show(3) // Certificate; its files are issued for sensor-01, not sensor-09

	_, _, dir := mustCA(t, "sensor-01.plant.example")
	c := w.cert
	test.Type(c.cert, filepath.Join(dir, "sensor-01.plant.example.crt"))
	test.Type(c.key, filepath.Join(dir, "sensor-01.plant.example.key"))
	test.Type(c.chain, filepath.Join(dir, "sensor-01.plant.example-chain.pem"))
	w.scroll.ScrollToBottom()
	test.Tap(w.nextBtn) // Next checks the files
	w.Wait()
	got := c.notes.of(fieldCert)
	if !hasCode(got, certs.CodeCNMismatch) || !highlighted(c.cert) || !inView(w.scroll, c.notes.at(fieldCert, nil)) {
		t.Fatalf("wrong host: under Certificate %s (all %s), in view %v", codes(got), codes(c.notes.all()), inView(w.scroll, c.notes.at(fieldCert, nil)))
	}
	if len(c.notes.of(fieldKey)) != 0 || len(c.notes.of(fieldChain)) != 0 {
		t.Errorf("findings about the certificate under other fields: %+v", c.notes.all())
	}
	if !strings.Contains(c.verdict.Text, "would refuse") || !strings.Contains(c.verdict.Text, "under its field") {
		t.Errorf("verdict %q", c.verdict.Text)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Certificate" {
		t.Fatal("Next past a certificate the sensor would refuse")
	}

	// Another file: the findings about the old one go at once.
	test.Type(c.cert, " ")
	if len(c.notes.all()) != 0 || highlighted(c.cert) || !strings.Contains(c.verdict.Text, "Changed since the last check") {
		t.Fatalf("stale findings: %s, verdict %q", codes(c.notes.all()), c.verdict.Text)
	}
	retype(c.cert, filepath.Join(dir, "sensor-01.plant.example.crt"))

	// The name fixed on the Network page: coming back re-checks, and a
	// clean check shows no problem at all under "would accept".
	w.show(1)
	retype(n.hostname, "sensor-01.plant.example")
	test.Tap(w.nextBtn)
	test.Tap(w.nextBtn)
	test.Tap(w.nextBtn) // the Activation page is not filled in: go round it
	w.show(3)
	w.Wait()
	if hasErrorFinding(c.notes.all()) || !strings.Contains(c.verdict.Text, "would accept") || c.report == nil || c.report.HasErrors() {
		t.Fatalf("after fixing the name: %q %+v", c.verdict.Text, c.notes.all())
	}
	for _, f := range c.notes.all() {
		if f.Code == codeField {
			t.Errorf("a form note under \"would accept\": %+v", f)
		}
	}
}

// TestProgressBarAtZeroLooksEmpty: the part not done is drawn in the input
// background, never in a shade of the primary colour, and nothing is
// filled at 0%.
func TestProgressBarAtZeroLooksEmpty(t *testing.T) {
	test.NewTempApp(t)
	p := newProgressBar()
	w := test.NewTempWindow(t, p)
	w.Resize(fyne.NewSize(400, 60))
	v := fyne.CurrentApp().Settings().ThemeVariant()
	primary := theme.Current().Color(theme.ColorNamePrimary, v)
	track := theme.Current().Color(theme.ColorNameInputBackground, v)
	fill := func() (filled float32, trackOK bool) {
		for _, o := range test.WidgetRenderer(p).Objects() {
			r, ok := o.(*canvas.Rectangle)
			if !ok || !r.Visible() {
				continue
			}
			switch r.FillColor {
			case primary:
				filled += r.Size().Width
			case track:
				trackOK = r.Size().Width == p.Size().Width
			default:
				t.Errorf("a rectangle in %v", r.FillColor)
			}
		}
		return filled, trackOK
	}
	if f, ok := fill(); f != 0 || !ok {
		t.Fatalf("0%%: %v filled, track %v", f, ok)
	}
	p.SetValue(0.5)
	if f, ok := fill(); f != p.Size().Width/2 || !ok {
		t.Fatalf("50%%: %v filled of %v, track %v", f, p.Size().Width, ok)
	}
	test.AssertRendersToMarkup(t, "progress_half.xml", w.Canvas())
	p.SetValue(2)
	if p.Value != 1 {
		t.Errorf("value %v, want it clamped to 1", p.Value)
	}
}

// TestValidationView: the verdict, then the checks that failed or warn,
// then the rest, each with its status in words.
func TestValidationView(t *testing.T) {
	test.NewTempApp(t)
	v := newValidationView()
	test.NewTempWindow(t, v.box)
	v.set(&provision.Validation{OK: false, Verdict: "1 problem(s)", SensorName: "sensor-01", Checks: []provision.ValidationCheck{
		{Check: "sanity", Target: "console", Status: "ok", Detail: "HTTPS on 0.0.0.0:443"},
		{Check: "gateway", Target: "192.0.2.1", Status: "not_applied", Detail: "network backend none"},
		{Check: "capture", Target: "eth1", Status: "warning", Detail: "no OT protocol in the last minute"},
		{Check: "dns", Target: "192.0.2.53", Status: "failed", Detail: "no answer"},
	}}, "")
	var heads []string
	for _, o := range v.checks.Objects {
		heads = append(heads, strings.SplitN(texts(canvasOf{o}), "\n", 2)[0])
	}
	want := []string{"DNS server 192.0.2.53: failed", "Monitoring port eth1: warning", "Component console: ok",
		"Gateway 192.0.2.1: not applied (settings recorded only)"}
	if strings.Join(heads, "|") != strings.Join(want, "|") {
		t.Fatalf("checks in order\n got %q\nwant %q", heads, want)
	}
	if v.verdict.Text != "sensor-01: 1 problem(s)" || v.verdict.Importance != widget.DangerImportance {
		t.Errorf("verdict %q %v", v.verdict.Text, v.verdict.Importance)
	}
	v.set(nil, "Not validated: the sensor cannot validate itself")
	if len(v.checks.Objects) != 0 || !strings.HasPrefix(v.verdict.Text, "Not validated") {
		t.Errorf("no validation: %q", v.verdict.Text)
	}
}

// canvasOf lets texts read one object.
type canvasOf struct{ o fyne.CanvasObject }

func (c canvasOf) Content() fyne.CanvasObject { return c.o }
