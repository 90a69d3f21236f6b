package gui

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
)

func TestCAPanelLifecycle(t *testing.T) {
	a := test.NewTempApp(t)
	dir := t.TempDir()
	p := newCAPanel(testEnv(a, dir))
	test.NewTempWindow(t, p.build())

	if p.createBtn.Disabled() || !p.unlockBtn.Disabled() || !p.issueBtn.Disabled() {
		t.Fatal("a fresh panel must offer Create only")
	}
	test.Type(p.passphrase, "short")
	test.Tap(p.createBtn)
	if !hasCode(p.findings.shown, codeField) {
		t.Fatalf("short passphrase: %s", codes(p.findings.shown))
	}

	p.passphrase.SetText("")
	test.Type(p.passphrase, "Plant.CA-pass1")
	// Country and organization are required, as by `tapline ca init`:
	// without them every certificate draws TL-CERT-015/016.
	for _, c := range []struct{ name, country, org, field string }{
		{"no country", "", "Plant", "Country (C)"},
		{"three letters", "DEU", "Plant", "Country (C)"},
		{"digits", "D1", "Plant", "Country (C)"},
		{"no organization", "de", "  ", "Organization (O)"},
	} {
		p.country.SetText(c.country)
		p.org.SetText(c.org)
		test.Tap(p.createBtn)
		p.tasks.Wait()
		if p.ca != nil || !hasCode(p.findings.shown, codeField) || !strings.Contains(p.findings.shown[0].Message, c.field) {
			t.Fatalf("%s: created=%v %+v", c.name, p.ca != nil, p.findings.shown)
		}
	}
	p.country.SetText("")
	p.org.SetText("")
	test.Type(p.country, "de")
	test.Type(p.org, "Plant")
	test.Tap(p.createBtn)
	p.tasks.Wait()
	if p.ca == nil || !strings.Contains(p.status.Text, "unlocked") {
		t.Fatalf("create: %q %s", p.status.Text, codes(p.findings.shown))
	}
	if !p.createBtn.Disabled() || p.issueBtn.Disabled() {
		t.Fatal("after create, Issue must be enabled and Create not")
	}
	if got := p.ca.Root.Subject; len(got.Country) != 1 || got.Country[0] != "DE" || len(got.Organization) != 1 || got.Organization[0] != "Plant" {
		t.Fatalf("root subject %v: want C=DE, O=Plant", got)
	}

	p.keyType.SetSelected(string(ca.P256))
	test.Tap(p.issueBtn)
	if !hasCode(p.findings.shown, codeField) {
		t.Fatalf("issue without hostname: %s", codes(p.findings.shown))
	}
	test.Type(p.issueHost, "sensor-01.plant.example")
	test.Type(p.issueIP, "192.0.2.10")
	test.Tap(p.issueBtn)
	p.tasks.Wait()
	if p.issuedLen() != 1 || p.last == nil || p.exportBtn.Disabled() {
		t.Fatalf("issue: %d issued, %q %s", p.issuedLen(), p.result.Text, codes(p.findings.shown))
	}

	test.Type(p.pfxPass, "Export.Pass-1")
	test.Tap(p.exportBtn)
	p.tasks.Wait()
	out := filepath.Join(dir, "issued", "sensor-01.plant.example")
	for _, name := range []string{"sensor-01.plant.example.crt", "sensor-01.plant.example.key", "sensor-01.plant.example-chain.pem", "sensor-01.plant.example.pfx"} {
		st, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("export: %v (%q %+v)", err, p.result.Text, p.findings.shown)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", name, st.Mode().Perm())
		}
	}
	// The exported set passes the sensor's check.
	crt, _ := os.ReadFile(filepath.Join(out, "sensor-01.plant.example.crt"))
	key, _ := os.ReadFile(filepath.Join(out, "sensor-01.plant.example.key"))
	chain, _ := os.ReadFile(filepath.Join(out, "sensor-01.plant.example-chain.pem"))
	rep := certs.CheckSensor(certs.Source{Cert: crt, Key: key, Chain: chain}, certs.Target{Hostname: "sensor-01.plant.example"}, testNow)
	if rep.HasErrors() || hasCode(rep.Findings, certs.CodeSubjectC) || hasCode(rep.Findings, certs.CodeSubjectO) {
		t.Errorf("exported set: %s", codes(rep.Findings))
	}

	if !p.revokeBtn.Disabled() {
		t.Fatal("Revoke enabled with nothing selected")
	}
	p.issued.Select(0)
	test.Tap(p.revokeBtn)
	p.tasks.Wait()
	if len(p.ca.State.Revoked) != 1 {
		t.Fatalf("revoke: %q %s", p.result.Text, codes(p.findings.shown))
	}
	test.Tap(p.crlBtn)
	p.tasks.Wait()
	rl, err := certs.ReadCRL(filepath.Join(dir, "ca", "crl.pem"))
	if err != nil || len(rl.RevokedCertificateEntries) != 1 {
		t.Fatalf("crl: %v %q", err, p.result.Text)
	}

	// A second panel on the same folder unlocks it, and refuses a wrong
	// passphrase in the CA's own words (not the sensor key's TL-CERT-003).
	q := newCAPanel(testEnv(a, dir))
	test.NewTempWindow(t, q.build()).Resize(fyne.NewSize(900, 420))
	if q.unlockBtn.Disabled() || !q.createBtn.Disabled() {
		t.Fatal("an existing CA must offer Unlock only")
	}
	test.Type(q.passphrase, "wrong-pass")
	test.Tap(q.unlockBtn)
	q.tasks.Wait()
	if q.ca != nil || !hasCode(q.findings.shown, codeCA) || strings.Contains(q.findings.shown[0].Hint, "openssl") {
		t.Fatalf("wrong passphrase: %s", codes(q.findings.shown))
	}
	// Under Unlock, in view, whole: not below the fold, not a clipped icon.
	if len(q.slots[slotCreate].Objects) != 1 || !inView(q.left, q.outcome) || q.outcome.Size().Width < 300 {
		t.Fatalf("the unlock error is not next to Unlock and in view (%v, %v wide)", inView(q.left, q.outcome), q.outcome.Size().Width)
	}
	q.passphrase.SetText("Plant.CA-pass1")
	test.Tap(q.unlockBtn)
	q.tasks.Wait()
	if q.ca == nil || q.issuedLen() != 1 {
		t.Fatalf("unlock: %s", codes(q.findings.shown))
	}
}

// TestCAPanelPublishesEveryLevelsCRL: with an intermediate, Publish CRL
// writes the CRL of every CA level as `tapline ca crl` does (crl.pem, the
// intermediate's; root-crl.pem, the root's), so a check that wants a
// current CRL for every certificate of the path passes on the two, fails
// on the issuing CA's alone, and sees an intermediate the root revoked.
func TestCAPanelPublishesEveryLevelsCRL(t *testing.T) {
	a := test.NewTempApp(t)
	dir := t.TempDir()
	p := newCAPanel(testEnv(a, dir))
	w := test.NewTempWindow(t, p.build())
	w.Resize(fyne.NewSize(900, 600))
	test.Type(p.passphrase, "Plant.CA-pass1")
	test.Type(p.country, "DE")
	test.Type(p.org, "Plant")
	if strings.Contains(texts(w.Canvas()), "Root CRL URL") {
		t.Error("the root CRL URL is offered without an intermediate")
	}
	p.interm.SetChecked(true)
	if !strings.Contains(texts(w.Canvas()), "Root CRL URL") {
		t.Error("the root CRL URL is not offered with an intermediate")
	}
	test.Type(p.rootCRLURL, "https://crl.plant.example/root.crl")
	test.Tap(p.createBtn)
	p.tasks.Wait()
	if p.ca != nil || !hasCode(p.findings.shown, codeField) {
		t.Fatalf("an https root CRL URL: created %v, %s", p.ca != nil, codes(p.findings.shown))
	}
	retype(p.rootCRLURL, "http://crl.plant.example/root.crl")
	test.Tap(p.createBtn)
	p.tasks.Wait()
	if p.ca == nil || p.ca.Intermediate == nil {
		t.Fatalf("create with an intermediate: %s", codes(p.findings.shown))
	}
	// The intermediate names where the root's CRL is published, so a
	// sensor missing it can fetch it (as `ca init --root-crl-url`).
	if dp := p.ca.Intermediate.CRLDistributionPoints; len(dp) != 1 || dp[0] != "http://crl.plant.example/root.crl" {
		t.Errorf("the intermediate's CRL distribution points: %q", dp)
	}
	test.Type(p.issueHost, "sensor-01.plant.example")
	test.Tap(p.issueBtn)
	p.tasks.Wait()
	if p.last == nil {
		t.Fatalf("issue: %s", codes(p.findings.shown))
	}
	leaf := p.last.Cert

	publish := func() []*certs.CRL {
		t.Helper()
		test.Tap(p.crlBtn)
		p.tasks.Wait()
		var out []*certs.CRL
		for _, name := range []string{"crl.pem", "root-crl.pem"} {
			path := filepath.Join(dir, "ca", name)
			rl, err := certs.ReadCRLIndex(path)
			if err != nil {
				t.Fatalf("%s: %v (%q %s)", name, err, p.result.Text, codes(p.findings.shown))
			}
			if !strings.Contains(p.result.Text, path) {
				t.Errorf("the outcome does not name %s: %q", path, p.result.Text)
			}
			out = append(out, rl)
		}
		return out
	}
	verify := func(crls ...*certs.CRL) error {
		_, err := certs.Verify(leaf, certs.VerifyOptions{Anchors: []*x509.Certificate{p.ca.Root}, Intermediates: []*x509.Certificate{p.ca.Intermediate},
			CRLs: crls, Time: testNow, RequireCRL: true})
		return err
	}
	crls := publish()
	if got := crls[0].List.Issuer.CommonName; got != p.ca.Intermediate.Subject.CommonName {
		t.Errorf("crl.pem is signed by %q, want the intermediate", got)
	}
	if got := crls[1].List.Issuer.CommonName; got != p.ca.Root.Subject.CommonName {
		t.Errorf("root-crl.pem is signed by %q, want the root", got)
	}
	if err := verify(crls...); err != nil {
		t.Errorf("the whole chain with both CRLs: %v", err)
	}
	if err := verify(crls[0]); err == nil {
		t.Error("the issuing CA's CRL alone decided the intermediate's status")
	}

	// The root revokes the intermediate: the next publication says so.
	if err := p.ca.Revoke(p.ca.Intermediate.SerialNumber, 0, testNow); err != nil {
		t.Fatal(err)
	}
	crls = publish()
	if err := verify(crls...); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked intermediate passed: %v", err)
	}
}
