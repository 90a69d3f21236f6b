package gui

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

func pressEnter(e fyne.Focusable) { e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }

func retype(e interface {
	fyne.Focusable
	SetText(string)
}, s string) {
	e.SetText("")
	test.Type(e, s)
}

// TestWizardProvisionsDemoSensor drives every page of the wizard against a
// real sensorcore (embedded SSH listener and console on loopback) and ends
// with the bundle's certificate served by the console.
func TestWizardProvisionsDemoSensor(t *testing.T) {
	f := startDemo(t, 1)
	sn := f.Sensors[0]
	a := test.NewTempApp(t)
	w, win := wizardOn(t, demoEnv(t, a, f), 0)
	win.Resize(fyne.NewSize(1000, 720))
	host, sshPort, consolePort := sn.Address, sn.SSHPort, sn.ConsolePort
	sshAddr, consoleAddr := net.JoinHostPort(host, sshPort), net.JoinHostPort(host, consolePort)

	// Connect: nothing moves before the host key is confirmed.
	test.Tap(w.nextBtn)
	if w.heading.Text != "Connect" || !hasCode(w.shown(), codeField) {
		t.Fatal("Next must wait for a connection, and say so")
	}
	test.Tap(w.conn.connectBtn)
	if !hasCode(w.shown(), codeField) {
		t.Fatalf("empty address: %s", codes(w.shown()))
	}
	test.Type(w.conn.address, host)
	retype(w.conn.sshPort, sshPort)
	retype(w.conn.consolePort, consolePort)
	retype(w.conn.user, sn.User)
	// Password sign-in: the key file and its passphrase are off, and the
	// other way round.
	if w.conn.password.Disabled() || !w.conn.keyFile.Disabled() || !w.conn.keyPass.Disabled() || !w.conn.keyBrowse.Disabled() {
		t.Fatal("Password chosen: only the password may be typed")
	}
	w.conn.auth.SetSelected(authKey)
	if !w.conn.password.Disabled() || w.conn.keyFile.Disabled() || w.conn.keyPass.Disabled() || w.conn.keyBrowse.Disabled() {
		t.Fatal("Key file chosen: only the key file and its passphrase may be typed")
	}
	test.Tap(w.conn.connectBtn)
	if !hasCode(w.conn.notes.of("Key file"), codeField) || len(w.conn.notes.of("Password")) != 0 {
		t.Fatalf("no key file: %+v", w.conn.notes.all())
	}
	w.conn.auth.SetSelected(authPassword)
	if len(w.conn.notes.all()) != 0 {
		t.Fatalf("back to Password, the key file's note stays: %+v", w.conn.notes.all())
	}
	test.Type(w.conn.password, "wrong")
	pressEnter(w.conn.password) // Enter connects
	w.Wait()
	if w.conn.unknown == nil || w.conn.trustBtn.Hidden || !strings.Contains(w.conn.state.Text, "SHA256:") ||
		!strings.Contains(w.conn.state.Text, "sensor's console (its overview page)") {
		t.Fatalf("first contact must show the fingerprint: %q %s", w.conn.state.Text, codes(w.shown()))
	}
	// The fingerprint is shown once, not again in a finding below it.
	if n := strings.Count(texts(win.Canvas()), w.conn.unknown.Fingerprint); n != 1 {
		t.Fatalf("the fingerprint is shown %d times:\n%s", n, texts(win.Canvas()))
	}
	test.Tap(w.conn.trustBtn)
	w.Wait()
	if !hasCode(w.conn.notes.of("Password"), codeAuth) || w.conn.connected != "" || !highlighted(w.conn.password) {
		t.Fatalf("wrong password, under Password: %+v", w.conn.notes.all())
	}
	retype(w.conn.password, sn.Password)
	// The sensor throttles sign-ins from an address after a failure and
	// says for how long; Connect waits that long: the right password typed
	// at once signs in on the first try.
	test.Tap(w.conn.connectBtn) // the key is known now: no second question
	w.Wait()
	if w.conn.connected == "" || w.nextBtn.Disabled() || !w.conn.trustBtn.Hidden {
		t.Fatalf("connect: %q %s", w.conn.state.Text, codes(w.shown()))
	}
	if got := recentHosts(a.Preferences()); len(got) != 1 || got[0] != sshAddr {
		t.Errorf("recent hosts %v, want [%s]", got, sshAddr)
	}
	pressEnter(w.conn.password) // Enter advances
	if w.heading.Text != "Network" {
		t.Fatalf("Enter did not advance: %s", w.heading.Text)
	}

	// Network: netconf's findings, in the field's words.
	test.Type(w.net.ip, sn.NewIP)
	test.Type(w.net.mask, "24")
	test.Type(w.net.gateway, "198.51.100.1")
	test.Type(w.net.dns, "192.0.2.53")
	test.Type(w.net.hostname, sn.Hostname)
	test.Type(w.net.reach, host)
	test.Tap(w.nextBtn)
	if w.heading.Text != "Network" || !hasCode(w.shown(), provision.CodeNetwork) {
		t.Fatalf("a gateway outside the subnet: %s %s", w.heading.Text, codes(w.shown()))
	}
	retype(w.net.gateway, "192.0.2.1")
	pressEnter(w.net.gateway)
	if w.heading.Text != "Activation" {
		t.Fatalf("network: %s", codes(w.shown()))
	}

	// Activation: the name it was issued for, confirmed by the engineer.
	test.Type(w.act.path, sn.Activation)
	pressEnter(w.act.path)
	w.Wait()
	if !strings.Contains(w.act.details.Text, `"`+sn.Name+`"`) || hasErrorFinding(w.act.issues) {
		t.Fatalf("activation: %q %s", w.act.details.Text, codes(w.act.issues))
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" || !hasCode(w.shown(), codeField) {
		t.Fatal("Next before the name is confirmed")
	}
	test.Tap(w.act.confirm)
	test.Tap(w.act.terms)
	test.Tap(w.nextBtn)
	if w.heading.Text != "Certificate" {
		t.Fatalf("activation: %s", codes(w.shown()))
	}

	// Certificate: the demo CA's files, checked for the hostname.
	test.Type(w.cert.cert, sn.Cert)
	test.Type(w.cert.key, sn.Key)
	test.Type(w.cert.chain, sn.Chain)
	test.Tap(w.cert.checkBtn)
	w.Wait()
	if w.cert.report == nil || w.cert.report.HasErrors() {
		t.Fatalf("certificate: %q %s", w.cert.verdict.Text, codes(w.cert.notes.all()))
	}
	wantFP := w.cert.report.FingerprintSHA256
	test.Tap(w.nextBtn)
	w.Wait()

	// Review: every check once more, and the change as before/after.
	if w.heading.Text != "Review" || w.rev.rep == nil || hasErrorFinding(w.rev.rep.Findings) {
		t.Fatalf("review: %s %+v", w.heading.Text, w.rev.rep)
	}
	diff := strings.Join(w.rev.rep.Diff, "\n")
	if !strings.Contains(diff, "- address "+host) || !strings.Contains(diff, "+ address "+sn.NewIP+"/24") {
		t.Errorf("diff:\n%s", diff)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Push" || !w.nextBtn.Hidden {
		t.Fatal("push page")
	}

	// Cancel stops a push at once and says so; nothing is left running.
	test.Tap(w.push.pushBtn)
	if w.push.stopBtn.Disabled() || !w.push.pushBtn.Disabled() || !w.backBtn.Disabled() {
		t.Fatal("while pushing: Cancel on, Push and Back off")
	}
	test.Tap(w.push.stopBtn)
	w.Wait()
	if r := w.push.Result(); r != nil && r.Outcome == provision.OutcomeDone {
		t.Fatalf("a cancelled push ended done: %+v", r)
	}
	if !w.push.stopBtn.Disabled() || w.push.pushBtn.Disabled() || len(w.push.findings.shown) == 0 || w.push.done.Visible() {
		t.Fatalf("after cancel: %q %s", w.push.outcome.Text, codes(w.push.findings.shown))
	}
	// A push cancelled on the way shows provision's code and fix; one
	// cancelled while the bundle was built never reached provision.
	if r := w.push.Result(); r != nil && (w.push.findings.shown[0].Code != provision.CodeCancelled || w.push.findings.shown[0].Hint == "") {
		t.Errorf("cancelled push: %+v", w.push.findings.shown)
	}

	if !w.push.liveCard.Hidden && w.push.Result() == nil {
		t.Error("live diff shown before preflight ran")
	}
	// Back to Review and forward again: the old failure is not this push's.
	test.Tap(w.backBtn)
	w.Wait()
	test.Tap(w.nextBtn)
	if w.heading.Text != "Push" || w.push.outcome.Text != "" || len(w.push.findings.shown) != 0 || w.push.bar.Value != 0 ||
		w.push.Result() != nil || w.push.liveCard.Visible() || w.push.pushBtn.Importance != widget.HighImportance {
		t.Fatalf("coming back after a failure: %q %s bar %v", w.push.outcome.Text, codes(w.push.findings.shown), w.push.bar.Value)
	}

	test.Tap(w.push.pushBtn)
	w.Wait()
	r := w.push.Result()
	if r == nil || r.Outcome != provision.OutcomeDone {
		t.Fatalf("push: %+v\n%q %s", r, w.push.outcome.Text, codes(w.push.findings.shown))
	}
	if r.ServedFingerprint != wantFP || !strings.Contains(w.push.outcome.Text, "verified") || w.push.bar.Value != 1 {
		t.Errorf("end state: served %s want %s; %q", r.ServedFingerprint, wantFP, w.push.outcome.Text)
	}
	// The Push page shows the network change against the sensor's live
	// settings read at preflight; Review's is labelled as the offline one.
	if live := w.push.liveDiff.Text(); w.push.liveCard.Hidden || !strings.Contains(w.push.liveCard.Title, "live before/after") ||
		live != strings.Join(r.NetworkDiff, "\n") || !strings.Contains(live, "+ address "+sn.NewIP+"/24") {
		t.Errorf("live diff (hidden %v):\n%s\nresult:\n%s", w.push.liveCard.Hidden, live, strings.Join(r.NetworkDiff, "\n"))
	}
	if !strings.Contains(w.rev.diffCard.Subtitle, "offline, from the settings entered") {
		t.Errorf("review diff card: %q", w.rev.diffCard.Subtitle)
	}
	// And independently of provision: the console serves the certificate.
	c, err := tls.Dial("tcp", consoleAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sum := sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	if got := hex.EncodeToString(sum[:]); got != wantFP {
		t.Errorf("console serves %s, want %s", got, wantFP)
	}
	if !w.backBtn.Disabled() == w.push.running() {
		t.Error("Back must be enabled once the push ended")
	}
	// The done state: the sensor set up, Next sensor and Open console; Push
	// is no longer the button to press.
	p := w.push
	if !p.done.Visible() || p.done.Title != "Sensor "+sn.Name+" is set up" || p.nextBtn.Importance != widget.HighImportance ||
		p.pushBtn.Importance == widget.HighImportance || p.pushBtn.Text != pushAgainLabel || !inView(w.scroll, p.done) {
		t.Fatalf("done state: shown %v %q, push %q %v", p.done.Visible(), p.done.Title, p.pushBtn.Text, p.pushBtn.Importance)
	}
	var opened []string
	w.env.urls = func(u *url.URL) { opened = append(opened, u.String()) }
	p.env.urls = w.env.urls
	test.Tap(p.openBtn)
	if want := "https://" + net.JoinHostPort(r.FinalAddr[:strings.LastIndex(r.FinalAddr, ":")], consolePort) + "/"; len(opened) != 1 || opened[0] != want {
		t.Errorf("Open console opened %v, want %s", opened, want)
	}
	// Back and forward again keeps the done state of what was pushed.
	test.Tap(w.backBtn)
	w.Wait()
	test.Tap(w.rev.accept)
	test.Tap(w.nextBtn)
	if !p.done.Visible() || p.Result() == nil {
		t.Fatalf("the done state of the same settings is gone: on %s", w.heading.Text)
	}
	// The push ended with the sensor's validation, over the same session:
	// its own step, a line in the done state, every check on the Validate
	// page (Next), and Validate again asks once more.
	if len(p.labels) != len(pushSteps) || p.labels[len(p.labels)-1].Text != pushSteps[len(pushSteps)-1].Label ||
		pushSteps[len(pushSteps)-1].Step != provision.StepValidate {
		t.Fatalf("the Push page's steps end with %q", p.labels[len(p.labels)-1].Text)
	}
	if r.Validation == nil || len(r.Validation.Checks) == 0 || !strings.Contains(p.doneText.Text, "Validation: "+r.Validation.Summary()) {
		t.Fatalf("validation after the push: %+v %q; done text %q", r.Validation, r.ValidationError, p.doneText.Text)
	}
	if w.nextBtn.Hidden {
		t.Fatal("no Next from a push that ended done")
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Validate" || w.val.view.shown != r.Validation || len(w.val.view.checks.Objects) != len(r.Validation.Checks) ||
		!strings.Contains(w.val.view.verdict.Text, r.Validation.Verdict) || !w.nextBtn.Hidden {
		t.Fatalf("Validate page: on %s, %q, %d checks shown", w.heading.Text, w.val.view.verdict.Text, len(w.val.view.checks.Objects))
	}
	first := w.val.view.shown
	test.Tap(w.val.againBtn)
	w.Wait()
	w.menu.tasks.Wait()
	if v := w.val.view.shown; v == nil || v == first || !v.At.After(first.At.Add(-time.Second)) || len(w.val.notes.all()) != 0 {
		t.Fatalf("Validate again: %+v %+v", v, w.val.notes.all())
	}
	test.Tap(w.backBtn) // back to the done state
	if w.heading.Text != "Push" || !p.done.Visible() {
		t.Fatalf("Back from Validate: on %s", w.heading.Text)
	}

	// Push again: the sensor runs this bundle already, so the push only
	// re-verifies it, and the done state says so.
	test.Tap(p.pushBtn)
	w.Wait()
	if r := p.Result(); r == nil || r.Outcome != provision.OutcomeDone || !r.Reverified || !strings.Contains(p.done.Subtitle, "only re-verified") {
		t.Fatalf("pushed again: %+v, done %q", r, p.done.Subtitle)
	}
	// Next sensor: the site's settings stay, the sensor's own go.
	test.Tap(p.nextBtn)
	if w.heading.Text != "Connect" || w.conn.address.Text != "" || w.conn.connected != "" || w.conn.user.Text != sn.User ||
		w.net.mask.Text != "24" || w.net.gateway.Text != "192.0.2.1" || w.net.hostname.Text != "" || w.net.ip.Text != "" ||
		w.act.path.Text != "" || w.act.file != nil || w.act.terms.Checked || w.cert.cert.Text != "" || w.cert.report != nil {
		t.Fatalf("Next sensor: on %s, address %q user %q mask %q hostname %q path %q cert %q", w.heading.Text, w.conn.address.Text,
			w.conn.user.Text, w.net.mask.Text, w.net.hostname.Text, w.act.path.Text, w.cert.cert.Text)
	}
	if p.done.Visible() || p.outcome.Text != "" || p.Result() != nil || p.pushBtn.Text != pushLabel {
		t.Fatal("Next sensor keeps the last push on the Push page")
	}
	// The app remembered hosts and folders, never the password.
	prefs, ok := a.Preferences().(interface{ ReadValues(func(map[string]any)) })
	if !ok {
		t.Fatalf("preferences %T cannot be listed", a.Preferences())
	}
	prefs.ReadValues(func(m map[string]any) {
		for k, v := range m {
			if strings.Contains(fmt.Sprint(v), sn.Password) || strings.Contains(fmt.Sprint(v), "wrong") {
				t.Errorf("preference %s holds a password: %v", k, v)
			}
		}
	})
	_ = certs.SeverityError
}

// TestWizardWarningsAcceptedOnReview: a certificate that only draws warnings
// holds the wizard on Review until the engineer ticks that they accept them;
// the push then builds the bundle with that acceptance and ends verified.
func TestWizardWarningsAcceptedOnReview(t *testing.T) {
	f := startDemo(t, 1)
	sn := f.Sensors[0]
	a := test.NewTempApp(t)
	w, _ := wizardOn(t, demoEnv(t, a, f), 0)
	w.prefill(f.Sensors[0])
	w.Wait()
	p := certWithoutCO(t, sn.Hostname, sn.NewIP)
	w.cert.cert.SetText(p[0])
	w.cert.key.SetText(p[1])
	w.cert.chain.SetText(p[2])

	test.Tap(w.conn.connectBtn)
	w.Wait()
	test.Tap(w.conn.trustBtn)
	w.Wait()
	if w.conn.connected == "" {
		t.Fatalf("connect: %q %s", w.conn.state.Text, codes(w.shown()))
	}
	test.Tap(w.nextBtn)
	test.Tap(w.nextBtn)
	test.Tap(w.act.confirm)
	test.Tap(w.act.terms)
	test.Tap(w.nextBtn)
	test.Tap(w.cert.checkBtn)
	w.Wait()
	test.Tap(w.nextBtn)
	w.Wait()
	if w.heading.Text != "Review" || w.rev.accept.Hidden || !hasCode(w.rev.findings.shown, certs.CodeSubjectC) {
		t.Fatalf("review: %s, accept hidden %v, %s", w.heading.Text, w.rev.accept.Hidden, codes(w.rev.findings.shown))
	}
	// The page is laid out for the texts the check filled in (no overlap).
	if got, want := w.rev.summary.Size().Height, w.rev.summary.MinSize().Height; got < want {
		t.Errorf("Review summary is %v high, needs %v: the page was not laid out again", got, want)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Review" || !hasCode(w.shown(), codeField) {
		t.Fatal("Next past warnings nobody accepted")
	}
	test.Tap(w.rev.accept)
	test.Tap(w.nextBtn)
	if w.heading.Text != "Push" {
		t.Fatalf("accepted: %s %s", w.heading.Text, codes(w.shown()))
	}
	test.Tap(w.push.pushBtn)
	w.Wait()
	if r := w.push.Result(); r == nil || r.Outcome != provision.OutcomeDone {
		t.Fatalf("push with accepted warnings: %+v %q %s", r, w.push.outcome.Text, codes(w.push.findings.shown))
	}
}
