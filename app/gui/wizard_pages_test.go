package gui

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision"
)

// TestWizardNetworkPage: what netconf refuses shows under the field it is
// about, worded with the page's label (never netconf's network.gateway),
// with the field's border in the error colour; the proxy needs a host and
// a port.
func TestWizardNetworkPage(t *testing.T) {
	cases := []struct {
		name            string
		ip, mask, gw    string
		host            string
		proxy           bool
		proxyHost, port string
		field           string // where the first problem shows; "" none
		code            string
	}{
		{"complete", "192.0.2.11", "24", "192.0.2.1", "sensor-01.plant.example", false, "", "", "", ""},
		{"dotted mask", "192.0.2.11", "255.255.255.0", "192.0.2.1", "sensor-01.plant.example", false, "", "", "", ""},
		{"no hostname", "192.0.2.11", "24", "192.0.2.1", "", false, "", "", fieldHostname, codeField},
		{"bad mask", "192.0.2.11", "255.0.255.0", "192.0.2.1", "sensor-01.plant.example", false, "", "", fieldMask, provision.CodeNetwork},
		{"gateway elsewhere", "192.0.2.11", "24", "198.51.100.1", "sensor-01.plant.example", false, "", "", fieldGateway, provision.CodeNetwork},
		{"bad address", "192.0.2.300", "24", "192.0.2.1", "sensor-01.plant.example", false, "", "", fieldIP, provision.CodeNetwork},
		{"bad host name", "192.0.2.11", "24", "192.0.2.1", "sensor_01.plant.example", false, "", "", fieldHostname, provision.CodeNetwork},
		{"proxy without host", "192.0.2.11", "24", "192.0.2.1", "sensor-01.plant.example", true, "", "3128", fieldProxyHost, codeField},
		{"proxy bad port", "192.0.2.11", "24", "192.0.2.1", "sensor-01.plant.example", true, "proxy.plant.example", "70000", fieldProxyPort, codeField},
		{"proxy", "192.0.2.11", "24", "192.0.2.1", "sensor-01.plant.example", true, "proxy.plant.example", "3128", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			w, _ := wizardOn(t, testEnv(a, t.TempDir()), 1)
			n := w.net
			test.Type(w.conn.address, "192.0.2.10")
			test.Type(n.ip, c.ip)
			test.Type(n.mask, c.mask)
			test.Type(n.gateway, c.gw)
			test.Type(n.hostname, c.host)
			if c.proxy {
				test.Tap(n.proxy)
				test.Type(n.proxyHost, c.proxyHost)
				retype(n.proxyPort, c.port)
			}
			test.Tap(w.nextBtn)
			if ok := w.heading.Text != "Network"; ok != (c.field == "") {
				t.Fatalf("advanced %v, want %v: %s", ok, c.field == "", codes(n.notes.all()))
			}
			if c.field == "" {
				if c.proxy {
					if r := w.row(); r.Proxy != "http://proxy.plant.example:3128" {
						t.Errorf("proxy %q", r.Proxy)
					}
				}
				return
			}
			got := n.notes.of(c.field)
			if len(got) == 0 || got[0].Code != c.code || !strings.HasPrefix(got[0].Message, c.field) || got[0].Hint == "" ||
				strings.Contains(got[0].Message, "network.") || strings.Contains(got[0].Message, "proxy.") {
				t.Fatalf("under %s: %+v (all: %+v)", c.field, got, n.notes.all())
			}
			if e := n.entries[c.field]; !highlighted(e) {
				t.Errorf("%s is not highlighted", c.field)
			}
			for f, e := range n.entries {
				if f != c.field && len(n.notes.of(f)) == 0 && highlighted(e) {
					t.Errorf("%s is highlighted without a problem", f)
				}
			}
		})
	}
}

// TestWizardNetworkNotesClearWhenFixed: a problem goes as soon as the field
// is corrected, without pressing Next again; the mask takes either form.
func TestWizardNetworkNotesClearWhenFixed(t *testing.T) {
	a := test.NewTempApp(t)
	w, _ := wizardOn(t, testEnv(a, t.TempDir()), 1)
	n := w.net
	test.Type(w.conn.address, "192.0.2.10")
	test.Type(n.ip, "192.0.2.11")
	test.Type(n.mask, "255.255.0.255")
	test.Type(n.gateway, "198.51.100.1")
	test.Type(n.hostname, "sensor-01.plant.example")
	test.Tap(w.nextBtn)
	if len(n.notes.of(fieldMask)) == 0 {
		t.Fatalf("bad mask: %+v", n.notes.all())
	}
	retype(n.mask, "255.255.255.0")
	if len(n.notes.of(fieldMask)) != 0 || highlighted(n.mask) {
		t.Fatalf("the mask is fixed, its note stays: %+v", n.notes.of(fieldMask))
	}
	// Now that the mask is right, the gateway outside the subnet shows.
	if g := n.notes.of(fieldGateway); len(g) == 0 || !strings.Contains(g[0].Message, "outside the subnet 192.0.2.0/24") {
		t.Fatalf("gateway: %+v", g)
	}
	retype(n.gateway, "192.0.2.1")
	if all := n.notes.all(); len(all) != 0 || highlighted(n.gateway) {
		t.Fatalf("every field fixed, notes stay: %+v", all)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" {
		t.Fatalf("on %s", w.heading.Text)
	}
	if r := w.row(); r.NewMask != "255.255.255.0" {
		t.Errorf("mask %q", r.NewMask)
	}
}

// TestWizardIssuesFromLocalCA: the Certificate page issues the sensor's
// certificate from the local CA for the Network page's name and address,
// and checks it.
func TestWizardIssuesFromLocalCA(t *testing.T) {
	a := test.NewTempApp(t)
	env := testEnv(a, t.TempDir())
	k := rsaKeys(t)
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Plant", RootKey: k[2], Now: testNow.Add(-24 * time.Hour), KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(filepath.Join(env.FilesDir, "ca"), []byte("Plant.CA-pass1"), nil); err != nil {
		t.Fatal(err)
	}
	w, _ := wizardOn(t, env, 0)
	test.Type(w.net.ip, "192.0.2.11")
	test.Type(w.net.hostname, "sensor-01.plant.example")
	w.cert.mode.SetSelected(certModeLocal)
	test.Type(w.cert.caPass, "wrong")
	test.Tap(w.cert.issueBtn)
	w.Wait()
	// The CA's own passphrase has its own message, under its field: not the
	// sensor key's TL-CERT-003 with its openssl advice.
	if got := w.cert.notes.of(fieldCAPass); len(got) != 1 || got[0].Code != codeCA || !strings.Contains(got[0].Message, "local CA's passphrase") ||
		strings.Contains(got[0].Hint, "openssl") || hasCode(w.cert.notes.all(), certs.CodePassphrase) || w.cert.cert.Text != "" || !highlighted(w.cert.caPass) {
		t.Fatalf("wrong CA passphrase: %+v", w.cert.notes.all())
	}
	test.Type(w.cert.caPass, "x")
	if len(w.cert.notes.of(fieldCAPass)) != 0 {
		t.Fatal("the CA passphrase note stays while the passphrase is edited")
	}
	retype(w.cert.caPass, "Plant.CA-pass1")
	test.Tap(w.cert.issueBtn)
	w.Wait()
	if w.cert.report == nil || w.cert.report.HasErrors() || !strings.HasSuffix(w.cert.cert.Text, "sensor-01.plant.example.crt") {
		t.Fatalf("issued: %q %s", w.cert.verdict.Text, codes(w.cert.notes.all()))
	}
	// The sensor's key is never in clear on the laptop: encrypted with the
	// CA's passphrase, which the page holds in memory for the check and
	// the push.
	if keyPEM, err := os.ReadFile(w.cert.key.Text); err != nil || !strings.Contains(string(keyPEM), "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
		w.cert.passphrase.Text != "Plant.CA-pass1" {
		t.Fatalf("the issued key %s: %v, first line %.40q, passphrase field set: %v", w.cert.key.Text, err, keyPEM, w.cert.passphrase.Text != "")
	}
	if ok, why := w.cert.ready(); !ok {
		t.Fatalf("not ready: %+v", why)
	}
	if r := w.row(); r.CertSource != provision.CertFiles || r.Key == "" || r.Chain == "" {
		t.Errorf("row %+v", r)
	}
	// Keeping the self-signed certificate needs no files (provision carries it).
	w.cert.mode.SetSelected(certModeSelfSig)
	if ok, why := w.cert.ready(); !ok || w.row().CertSource != provision.CertSelfSigned {
		t.Errorf("self-signed: %v %+v", ok, why)
	}
}

// TestWizardIssuesWithEveryCRL: with certificate validation on, issuing
// from a local CA with an intermediate signs the CRL of both levels and
// puts both in the CRL field, so the check (and the sensor, which checks
// every certificate of the path) finds a current CRL for each; the row
// carries both.
func TestWizardIssuesWithEveryCRL(t *testing.T) {
	a := test.NewTempApp(t)
	env := testEnv(a, t.TempDir())
	k := rsaKeys(t)
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Plant", Intermediate: true, CRLURL: "http://crl.plant.example/ca.crl",
		RootKey: k[2], IntermediateKey: k[1], Now: testNow.Add(-24 * time.Hour), KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	caDir := filepath.Join(env.FilesDir, "ca")
	if err := c.Save(caDir, []byte("Plant.CA-pass1"), nil); err != nil {
		t.Fatal(err)
	}
	w, _ := wizardOn(t, env, 0)
	test.Type(w.net.ip, "192.0.2.11")
	test.Type(w.net.hostname, "sensor-01.plant.example")
	w.cert.mode.SetSelected(certModeLocal)
	w.cert.validation.SetChecked(true)
	test.Type(w.cert.caPass, "Plant.CA-pass1")
	test.Tap(w.cert.issueBtn)
	w.Wait()
	want := filepath.Join(caDir, "crl.pem") + ";" + filepath.Join(caDir, "root-crl.pem")
	if w.cert.crl.Text != want {
		t.Fatalf("CRL field %q, want %q", w.cert.crl.Text, want)
	}
	if w.cert.report == nil || w.cert.report.HasErrors() || hasCode(w.cert.notes.all(), certs.CodeCRLNotGiven) {
		t.Fatalf("issued with both CRLs: %q %s", w.cert.verdict.Text, codes(w.cert.notes.all()))
	}
	if r := w.row(); r.CRL != want || !r.CRLValidation || len(r.CRLFiles()) != 2 {
		t.Errorf("row crl %q", r.CRL)
	}
}

// TestWizardConnectCancel: a sensor that accepts TCP but never speaks SSH
// holds Connect until the timeout; Cancel ends it at once and says so.
func TestWizardConnectCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the listener closes
		}
	}()
	a := test.NewTempApp(t)
	w, _ := wizardOn(t, testEnv(a, t.TempDir()), 0)
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	test.Type(w.conn.address, host)
	retype(w.conn.sshPort, port)
	test.Type(w.conn.password, "x")
	test.Tap(w.conn.connectBtn)
	if w.conn.cancelBtn.Hidden || !w.conn.connectBtn.Disabled() {
		t.Fatal("while connecting: Cancel shown, Connect off")
	}
	start := time.Now()
	test.Tap(w.conn.cancelBtn)
	w.Wait()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Cancel took %v", d)
	}
	if !hasCode(w.shown(), codeCancelled) || !w.conn.cancelBtn.Hidden || w.conn.connectBtn.Disabled() {
		t.Fatalf("after Cancel: %s, cancel hidden %v", codes(w.shown()), w.conn.cancelBtn.Hidden)
	}
}

// TestWizardCarriesCertSettings: the certificate's name, validation, CRL and
// the proxy password travel with the push (Row and PrepareOptions), and
// keeping the self-signed certificate is a choice the push accepts.
func TestWizardCarriesCertSettings(t *testing.T) {
	a := test.NewTempApp(t)
	w, _ := wizardOn(t, testEnv(a, t.TempDir()), 0)
	test.Type(w.cert.name, "plant-ca-2026")
	w.cert.validation.SetChecked(true)
	test.Type(w.cert.crl, "/plant/ca.crl")
	if r := w.row(); r.CertName != "plant-ca-2026" || !r.CRLValidation || r.CRL != "/plant/ca.crl" || r.CertSource != provision.CertFiles {
		t.Fatalf("row %+v", r)
	}
	w.cert.mode.SetSelected(certModeSelfSig)
	if r := w.row(); r.CertSource != provision.CertSelfSigned || r.CRL != "" || r.Cert != "" {
		t.Fatalf("self-signed row %+v", r)
	}
	if ok, _ := w.cert.ready(); !ok {
		t.Fatalf("self-signed refused: %s", codes(w.cert.notes.all()))
	}
	if !w.net.proxyPass.Disabled() {
		t.Error("proxy password enabled without a proxy")
	}
	w.net.proxy.SetChecked(true)
	if w.net.proxyPass.Disabled() {
		t.Error("proxy password disabled with a proxy")
	}
}

// TestWizardKeepsSelfSigned pushes a demo sensor keeping its self-signed
// certificate: done, with the served certificate pinned.
func TestWizardKeepsSelfSigned(t *testing.T) {
	f := startDemo(t, 1)
	a := test.NewTempApp(t)
	w, _ := wizardOn(t, demoEnv(t, a, f), 0)
	connectedTo(t, w, f.Sensors[0])
	test.Tap(w.nextBtn)
	test.Tap(w.nextBtn)
	test.Tap(w.act.confirm)
	test.Tap(w.act.terms)
	test.Tap(w.nextBtn)
	w.Wait() // the check of the prefilled files
	w.cert.mode.SetSelected(certModeSelfSig)
	test.Tap(w.nextBtn)
	w.Wait()
	if w.heading.Text != "Review" {
		t.Fatalf("certificate page: on %s, %s", w.heading.Text, codes(w.shown()))
	}
	if w.rev.accept.Visible() {
		test.Tap(w.rev.accept)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Push" {
		t.Fatalf("review: %s %s", codes(w.shown()), codes(w.rev.findings.shown))
	}
	test.Tap(w.push.pushBtn)
	w.Wait()
	if r := w.push.Result(); r == nil || r.Outcome != provision.OutcomeDone || r.ServedFingerprint == "" {
		t.Fatalf("push: %+v %q %s", r, w.push.outcome.Text, codes(w.push.findings.shown))
	}
	if !strings.Contains(w.push.outcome.Text, "kept its own certificate") {
		t.Errorf("outcome: %q", w.push.outcome.Text)
	}
}

// TestPushLiveDiffFromPreflightEvent: preflight's event carries the live
// network diff; the Push page shows it while the push still runs, and a new
// push hides the previous one until its own preflight.
func TestPushLiveDiffFromPreflightEvent(t *testing.T) {
	a := test.NewTempApp(t)
	w, _ := wizardOn(t, testEnv(a, t.TempDir()), 0)
	p := w.push
	if !p.liveCard.Hidden {
		t.Fatal("live diff shown before any push")
	}
	p.onEvent(provision.Event{Step: provision.StepConnect, Message: "connecting to 192.0.2.10:22"})
	if !p.liveCard.Hidden {
		t.Fatal("live diff shown before preflight")
	}
	lines := []string{"- address 192.0.2.10/24 on eth0", "+ address 192.0.2.20/24 on eth0", "  gateway 192.0.2.1 (unchanged)"}
	p.onEvent(provision.Event{Step: provision.StepPreflight, Percent: 100, NetworkDiff: lines,
		Message: "network, the sensor's live settings before and the bundle's after:\n" + strings.Join(lines, "\n")})
	if p.liveCard.Hidden || p.liveDiff.Text() != strings.Join(lines, "\n") || strings.Contains(p.message.Text, "\n") {
		t.Fatalf("after preflight: hidden %v %q, message %q", p.liveCard.Hidden, p.liveDiff.Text(), p.message.Text)
	}
	// The failed push's last event carries the Go error: not shown, the
	// result's code, message and fix are.
	p.onEvent(provision.Event{Step: provision.StepUpload, Failed: true, Code: provision.CodeUploadFailed, Message: "error: sftp: connection lost"})
	if strings.Contains(p.message.Text, "sftp") {
		t.Fatalf("the failure event's Go error is shown: %q", p.message.Text)
	}
	p.showResult(provision.Result{Outcome: provision.OutcomeFailed, Step: provision.StepUpload, Code: provision.CodeUploadFailed,
		NetworkDiff: lines[:2]}, "")
	if p.liveDiff.Text() != strings.Join(lines[:2], "\n") || p.findings.shown[0].Code != provision.CodeUploadFailed {
		t.Fatalf("result: %q %s", p.liveDiff.Text(), codes(p.findings.shown))
	}
}

// TestWizardProxyClientCertificate: the Network page takes the client
// certificate and key a TLS-inspecting proxy asks for (docs/field-facts.md "First setup" step 2),
// with the proxy only; both or neither; the key must be the certificate's.
func TestWizardProxyClientCertificate(t *testing.T) {
	a := test.NewTempApp(t)
	w, _ := wizardOn(t, testEnv(a, t.TempDir()), 1)
	n := w.net
	if !n.proxyCert.Disabled() || !n.proxyKey.Disabled() || !n.proxyBrowse[0].Disabled() {
		t.Fatal("client certificate fields on without a proxy")
	}
	test.Type(w.conn.address, "192.0.2.10")
	test.Type(n.mask, "24")
	test.Type(n.hostname, "sensor-01.plant.example")
	test.Tap(n.proxy)
	test.Type(n.proxyHost, "proxy.plant.example")
	_, _, dir := mustCA(t, "sensor-01.plant.example")
	crt, key := filepath.Join(dir, "sensor-01.plant.example.crt"), filepath.Join(dir, "sensor-01.plant.example.key")
	test.Type(n.proxyCert, crt)
	test.Tap(w.nextBtn)
	if got := n.notes.of(fieldProxyCert); w.heading.Text != "Network" || len(got) == 0 || !strings.HasPrefix(got[0].Message, fieldProxyCert) {
		t.Fatalf("certificate without its key: on %s, %+v", w.heading.Text, n.notes.all())
	}
	// Not its key: the chain's CA certificate with the sensor's key.
	retype(n.proxyCert, filepath.Join(dir, "sensor-01.plant.example-chain.pem"))
	test.Type(n.proxyKey, key)
	if got := n.notes.of(fieldProxyCert); !hasCode(got, provision.CodeProxyClient) {
		t.Fatalf("another certificate's key: %+v", n.notes.all())
	}
	retype(n.proxyCert, crt)
	if len(n.notes.all()) != 0 {
		t.Fatalf("a good pair: %+v", n.notes.all())
	}
	if r := w.row(); r.ProxyCert != crt || r.ProxyKey != key {
		t.Fatalf("row: %q %q", r.ProxyCert, r.ProxyKey)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" {
		t.Fatalf("on %s: %+v", w.heading.Text, n.notes.all())
	}
	n.proxy.SetChecked(false)
	if r := w.row(); r.ProxyCert != "" || r.ProxyKey != "" || r.Proxy != "" {
		t.Fatalf("proxy off, row %+v", r)
	}
}

// TestWizardNetworkErrorMarkup pins how a problem shows under its field:
// the field's border and icon in the error colour, the code and message in
// the page's words, the fix below.
func TestWizardNetworkErrorMarkup(t *testing.T) {
	a := test.NewTempApp(t)
	w, win := wizardOn(t, testEnv(a, t.TempDir()), 1)
	win.Resize(fyne.NewSize(1000, 720))
	test.Type(w.conn.address, "192.0.2.10")
	test.Type(w.net.ip, "192.0.2.11")
	test.Type(w.net.mask, "24")
	test.Type(w.net.gateway, "198.51.100.1")
	test.Type(w.net.hostname, "sensor-01.plant.example")
	test.Tap(w.nextBtn)
	w.net.gateway.FocusLost()
	test.AssertRendersToMarkup(t, "wizard_network_error.xml", win.Canvas())
}
