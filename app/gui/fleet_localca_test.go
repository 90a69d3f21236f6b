package gui

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision"
)

// localCAInventory rewrites inv so every row gets its certificate from the
// local CA: cert_source local-ca, no certificate files.
func localCAInventory(t *testing.T, inv string) string {
	t.Helper()
	raw, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(recs[0], "cert_source") {
		for i := range recs {
			v := "local-ca"
			if i == 0 {
				v = "cert_source"
			}
			recs[i] = append(recs[i], v)
		}
	}
	for c, name := range recs[0] {
		for i := 1; i < len(recs); i++ {
			switch name {
			case "cert", "key", "chain", "pfx", "crl":
				recs[i][c] = ""
			case "cert_source":
				recs[i][c] = "local-ca"
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(recs)
	return writeFile(t, filepath.Dir(inv), "inventory-local-ca.csv", b.Bytes())
}

// Fleet pushes local-ca rows only once the local CA is unlocked: before,
// Run says what is missing and contacts no sensor; a wrong passphrase is
// refused in the CA's own words; unlocked once, every row gets its own
// certificate, recorded in the CA, and the console serves it.
func TestFleetLocalCA(t *testing.T) {
	f := startDemo(t, 2)
	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Example Plant", Intermediate: true, KeyType: ca.P256, Now: time.Now(), KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	caDir := filepath.Join(env.filesDir(), "ca")
	if err := c.Save(caDir, []byte("the right passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	s := newFleetScreen(env)
	test.NewTempWindow(t, s.build())
	s.open(localCAInventory(t, f.Inventory))
	if s.model.len() != 2 {
		t.Fatalf("open: %d rows (%s)", s.model.len(), codes(s.findings.shown))
	}
	test.Type(s.password, f.SSHPassword)
	test.Tap(s.acceptNew)

	test.Tap(s.runBtn)
	s.tasks.Wait()
	if len(s.findings.shown) != 1 || !strings.Contains(s.findings.shown[0].Hint, "Unlock local CA") || s.report != nil {
		t.Fatalf("run without the local CA: %+v", s.findings.shown)
	}
	if _, err := os.Stat(env.KnownHosts); err == nil {
		t.Fatal("a sensor was contacted (its host key was trusted) although the local CA is locked")
	}

	test.Type(s.caPass, "a wrong passphrase")
	test.Tap(s.caBtn)
	s.tasks.Wait()
	if s.localCA != nil || len(s.findings.shown) != 1 || !strings.Contains(s.findings.shown[0].Message, "passphrase is wrong") {
		t.Fatalf("wrong passphrase: %+v", s.findings.shown)
	}
	s.caPass.SetText("")
	test.Type(s.caPass, "the right passphrase")
	test.Tap(s.caBtn)
	s.tasks.Wait()
	if s.localCA == nil || s.caPass.Text != "" || !strings.Contains(s.caStatus.Text, caDir) {
		t.Fatalf("unlock: %q %+v", s.caStatus.Text, s.findings.shown)
	}

	// Check issues a trial certificate per row and records nothing.
	test.Tap(s.checkBtn)
	s.tasks.Wait()
	for i := range 2 {
		if r, _ := s.model.get(i); r.status != "check: ready" {
			t.Fatalf("row %d after check: %q %s", i, r.status, codes(r.findings))
		}
	}
	if st, _ := ca.Load(caDir, []byte("the right passphrase")); len(st.State.Issued) != 0 {
		t.Fatalf("Check recorded %d certificates", len(st.State.Issued))
	}

	test.Tap(s.runBtn)
	s.tasks.Wait()
	st, err := ca.Load(caDir, []byte("the right passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.State.Issued) != 2 {
		t.Fatalf("the CA recorded %d certificates, want 2", len(st.State.Issued))
	}
	for i := range 2 {
		r, _ := s.model.get(i)
		if r.outcome != provision.OutcomeDone {
			t.Fatalf("row %d: %+v\n%s", i, r, strings.Join(s.model.logOf(i), "\n"))
		}
	}
	serials := map[string]bool{}
	for _, x := range s.report.Results {
		res := x.Result
		found := false
		for _, rec := range st.State.Issued {
			if strings.Contains(res.CertIssued, rec.Serial) && rec.Hostname == x.Row.NewHostname {
				found, serials[rec.Serial] = true, true
			}
		}
		if !found || res.ServedFingerprint == "" || res.ServedFingerprint != res.BundleFingerprint {
			t.Fatalf("%s: issued %q, served %s, bundle %s", x.Row.Sensor, res.CertIssued, res.ServedFingerprint, res.BundleFingerprint)
		}
	}
	if len(serials) != 2 {
		t.Fatalf("serials %v", serials)
	}
}
