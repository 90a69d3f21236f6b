package gui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/site"
	"github.com/tapline/tapline/siteview"
)

// siteOn opens the Site screen on the site's site.json and waits until it
// has read the streams.
func siteOn(t *testing.T, siteFile string) (*siteScreen, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	env := testEnv(a, t.TempDir())
	env.Now = time.Now
	s := newSiteScreen(env)
	w := test.NewTempWindow(t, s.build())
	w.Resize(fyne.NewSize(1200, 800))
	t.Cleanup(s.disconnect)
	if !s.connectBtn.Disabled() {
		t.Fatal("Connect enabled with no site.json")
	}
	test.Type(s.path, siteFile)
	test.Tap(s.connectBtn)
	s.tasks.Wait()
	return s, w
}

// waitModel refreshes the screen until ok says the followed model is there.
func waitModel(t *testing.T, s *siteScreen, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.refresh()
		if ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never came; status %q", what, s.status.Text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSiteScreenShowsTheSite: the Site screen on a real JetStream server
// two sensors stream to: each sensor with its health, the PLC both see as
// one row naming both, the alerts filtered and one acknowledged (every
// other viewer sees it so), the operations of one device, the licence
// prompt once the site has outgrown it, and a message streamed while the
// screen is open.
func TestSiteScreenShowsTheSite(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01", "sensor-02")
	ex := st.PublishExample(time.Now())
	siteFile := filepath.Join(st.Dir, siteconf.SiteFile)
	s, _ := siteOn(t, siteFile)
	if s.reader == nil {
		t.Fatalf("not connected: %s", s.status.Text)
	}

	// Sensors: both, with health and licence counts.
	if len(s.sensors) != 2 || s.sensorCell(0, 0) != "sensor-01" || s.sensorCell(1, 2) != "100" || s.sensorCell(1, 3) != "1" ||
		s.sensorCell(0, 4) != "1 / 1" || s.sensorCell(0, 5) != "s7comm" {
		t.Fatalf("sensors: %+v", s.sensors)
	}
	// Devices: the PLC is one row seen by both sensors.
	if len(s.assets) != 1 || s.assetCell(0, 0) != ex.PLC || s.assetCell(0, 6) != "sensor-01, sensor-02" || s.assetCell(0, 4) != "modbus, s7comm" {
		t.Fatalf("devices: %+v", s.assets)
	}
	// Licence: 1 device, 2 licensed.
	if !strings.Contains(s.licence.Text, "1 discovered across the site of 2 licensed") || s.licence.Importance == widget.DangerImportance {
		t.Fatalf("licence: %q", s.licence.Text)
	}

	// Alerts: filter by severity and text, then acknowledge the PLC stop.
	if len(s.alerts) != 2 {
		t.Fatalf("alerts: %+v", s.alerts)
	}
	s.alSev.SetSelected("high")
	if len(s.alerts) != 1 || s.alerts[0].Key != ex.StopKey {
		t.Fatalf("high and above: %+v", s.alerts)
	}
	s.alSev.SetSelectedIndex(0)
	test.Type(s.alText, "modbus")
	if len(s.alerts) != 1 || s.alerts[0].Key != ex.ScanKey {
		t.Fatalf("text modbus: %+v", s.alerts)
	}
	s.alText.SetText("")
	if !s.ackBtn.Disabled() {
		t.Fatal("Acknowledge enabled with no alert selected")
	}
	row := -1
	for i, a := range s.alerts {
		if a.Key == ex.StopKey {
			row = i
		}
	}
	s.alertTable.Select(widget.TableCellID{Row: row, Col: 0})
	if s.ackBtn.Disabled() {
		t.Fatal("Acknowledge disabled on a selected open alert")
	}
	test.Type(s.ackNote, "planned stop")
	test.Tap(s.ackBtn)
	s.tasks.Wait()
	if got := s.alertCell(s.selAl, 4); !strings.HasPrefix(got, "acknowledged by ") {
		t.Fatalf("after Acknowledge the alert says %q (%s)", got, s.alInfo.Text)
	}
	if !s.ackBtn.Disabled() {
		t.Fatal("Acknowledge still enabled on an acknowledged alert")
	}
	s.alOpen.SetChecked(true)
	if len(s.alerts) != 1 || s.alerts[0].Key != ex.ScanKey {
		t.Fatalf("open only, after the acknowledgement: %+v", s.alerts)
	}
	// Another viewer reads the acknowledgement from the stream.
	other, err := siteview.Open(st.Viewer(), st.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Load(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if al := other.Model.Alerts(siteview.AlertFilter{Sensor: "sensor-01"}); len(al) != 1 || al[0].Ack == nil || al[0].Ack.Note != "planned stop" {
		t.Fatalf("another viewer sees %+v", al)
	}

	// Operations: all, then one device's.
	if len(s.ops) != 2 {
		t.Fatalf("operations: %+v", s.ops)
	}
	test.Type(s.device, "192.0.2.41")
	if len(s.ops) != 1 || s.opCell(0, 3) != "Read Holding Registers" || s.opCell(0, 5) != "sensor-02" {
		t.Fatalf("operations of 192.0.2.41: %+v", s.ops)
	}
	s.device.SetText(ex.PLC)
	if len(s.ops) != 1 || s.opCell(0, 5) != "sensor-01, sensor-02" {
		t.Fatalf("operations of the PLC: %+v", s.ops)
	}

	// Streamed while the screen is open: two new devices push the site
	// past its two licensed devices, and the screen says so.
	now := time.Now().UTC()
	subj := natstest.Subjects(st.Name, "sensor-02")
	msgs := map[string]any{}
	for _, ip := range []string{"192.0.2.51", "192.0.2.52"} {
		a := site.Asset{ID: "ip:" + ip, IPs: []string{ip}, FirstSeen: now, LastSeen: now}
		msgs[subj.Asset(a.ID)] = site.AssetMessage{Header: site.Header{Type: site.KindAsset, Site: st.Name, Sensor: "sensor-02", Time: now}, Asset: a}
	}
	st.Publish("sensor-02", msgs)
	waitModel(t, s, "two more devices", func() bool { return len(s.assets) == 3 })
	if !strings.Contains(s.licence.Text, "outgrown its licence: 3 devices discovered, 2 licensed") || s.licence.Importance != widget.DangerImportance {
		t.Fatalf("over the licence, the screen says %q", s.licence.Text)
	}
	s.disconnect()
	if !s.closeBtn.Disabled() || s.reader != nil {
		t.Fatal("still connected after Disconnect")
	}
}

// TestSiteScreenRefusesBadSiteFiles: a missing site.json, one that is
// not JSON, and one whose app credential is gone each get one line that
// names the file; nothing is connected.
func TestSiteScreenRefusesBadSiteFiles(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "site.json")
	os.WriteFile(notJSON, []byte("servers: nats://192.0.2.1\n"), 0o600)
	noCred := filepath.Join(t.TempDir(), "site.json")
	b, _ := json.Marshal(siteconf.SiteConfig{Site: "plant-a", Servers: []string{"tls://127.0.0.1:1"}, CA: "ca.pem", Cert: "c.crt", Key: "c.key", Credential: "app.nk"})
	os.WriteFile(noCred, b, 0o600)
	for _, c := range []struct{ path, says string }{
		{filepath.Join(dir, "missing.json"), "missing.json"},
		{notJSON, notJSON},
		{noCred, "ca.pem"},
	} {
		s, _ := siteOn(t, c.path)
		if s.reader != nil || !strings.HasPrefix(s.status.Text, "Cannot open the site: ") || !strings.Contains(s.status.Text, c.says) ||
			strings.Count(s.status.Text, "\n") > 0 {
			t.Errorf("%s: connected %v, says %q", c.path, s.reader != nil, s.status.Text)
		}
	}
}

// TestWizardSiteUplink: the Network page's uplink field takes a site's
// site.json and, optionally, the sensor's own client certificate, key and
// credential, checked as batch check checks them: a site.json that is not
// one, a client certificate from another CA and a server certificate are
// each said under their field; the row carries what was chosen.
func TestWizardSiteUplink(t *testing.T) {
	a := test.NewTempApp(t)
	env := testEnv(a, t.TempDir())
	env.Now = time.Now // the certificates below are made now
	w, _ := wizardOn(t, env, 1)
	n := w.net
	test.Type(w.conn.address, "192.0.2.10")
	test.Type(n.mask, "24")
	test.Type(n.hostname, "sensor-01.plant.example")
	bad := filepath.Join(t.TempDir(), "site.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	test.Type(n.uplink, bad)
	test.Tap(w.nextBtn)
	if got := n.notes.of(fieldUplink); w.heading.Text != "Network" || len(got) == 0 || !strings.Contains(got[0].Message, "site.json") {
		t.Fatalf("a broken site.json: on %s, %+v", w.heading.Text, n.notes.all())
	}
	plant := natstest.MustCA(t, "Plant CA")
	dir := t.TempDir()
	if _, err := siteconf.Init(siteconf.Options{Site: "plant-a", Nodes: []siteconf.Node{{Host: "192.0.2.21", ClientPort: 4222, ClusterPort: 6222}},
		Sensors: []string{"sensor-01"}, Dir: dir, CA: plant, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, siteconf.SiteFile)
	retype(n.uplink, good)
	if len(n.notes.all()) != 0 {
		t.Fatalf("site init's site.json: %+v", n.notes.all())
	}
	// The sensor's own files: a client certificate from another CA.
	other := natstest.MustCA(t, "Other CA")
	is, err := other.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", Usage: ca.UsageClient, KeyType: ca.P256, Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	od := t.TempDir()
	crt, key := writeFile(t, od, "c.crt", is.CertPEM), writeFile(t, od, "c.key", is.KeyPEM)
	cred := filepath.Join(dir, siteconf.CredsDir, "sensor-01.nk")
	test.Type(n.upCert, crt)
	test.Type(n.upKey, key)
	test.Type(n.upCred, cred)
	if got := n.notes.of(fieldUpFiles); !hasCode(got, site.CodeChain) {
		t.Fatalf("a client certificate from another CA: %+v", n.notes.all())
	}
	// A server certificate of the plant's CA: not for TLS clients.
	srv, err := plant.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", Usage: ca.UsageServer, KeyType: ca.P256, Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	retype(n.upCert, writeFile(t, od, "s.crt", srv.CertPEM))
	retype(n.upKey, writeFile(t, od, "s.key", srv.KeyPEM))
	if got := n.notes.of(fieldUpFiles); !hasCode(got, site.CodeClientEKU) {
		t.Fatalf("a server certificate: %+v", n.notes.all())
	}
	// Site init's own for the sensor: fine, and the row carries them.
	ccrt, ckey := filepath.Join(dir, siteconf.CredsDir, "sensor-01-client.crt"), filepath.Join(dir, siteconf.CredsDir, "sensor-01-client.key")
	retype(n.upCert, ccrt)
	retype(n.upKey, ckey)
	if len(n.notes.all()) != 0 {
		t.Fatalf("site init's client files: %+v", n.notes.all())
	}
	if r := w.row(); r.Uplink != good || r.UplinkCert != ccrt || r.UplinkKey != ckey || r.UplinkCredential != cred {
		t.Fatalf("row: %+v", r)
	}
	test.Tap(w.nextBtn)
	if w.heading.Text != "Activation" {
		t.Fatalf("on %s: %+v", w.heading.Text, n.notes.all())
	}
	n.uplink.SetText("")
	if r := w.row(); r.Uplink != "" || r.UplinkCert != "" || r.UplinkCredential != "" {
		t.Fatalf("no uplink, row %+v", r)
	}
}
