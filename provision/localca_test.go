package provision_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/sensorcore/bundle"
)

// localCA makes an offline CA folder with CRL URLs (and an intermediate
// when asked) and opens it for a session.
func localCA(t testing.TB, intermediate bool) (string, *ca.Local) {
	t.Helper()
	return localCAWith(t, ca.InitOptions{Intermediate: intermediate, CRLURL: "http://pki.plant.example/issuing.crl"})
}

// localCAWith makes the CA o describes (subject, key type, time filled in).
func localCAWith(t testing.TB, o ca.InitOptions) (string, *ca.Local) {
	t.Helper()
	o.Country, o.Organization, o.KeyType, o.Now, o.KDFIterations = "DE", "Example Plant", ca.P256, time.Now(), 2048
	if o.Intermediate && o.CRLURL != "" {
		o.RootCRLURL = "http://pki.plant.example/root.crl"
	}
	c, err := ca.Init(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ca")
	if err := c.Save(dir, []byte("ca-passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	l, err := ca.OpenLocal(dir, []byte("ca-passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, l
}

// localRow is a local-ca row for sensor with the kit's activation file.
func localRow(kit *fleettest.Kit, t *testing.T, sensor, ip string) provision.Row {
	return provision.Row{Line: 2, Sensor: sensor, Address: "198.18.0.1", SSHPort: 22, User: "admin", Auth: provision.AuthPassword,
		Interface: "eth0", NewIP: ip, NewMask: "24", NewHostname: sensor + ".plant.example",
		Activation: kit.Activation(t, sensor), CertSource: provision.CertLocalCA}
}

// localCASession is a test kit, a local CA with an intermediate (its
// folder) and a session issuing from it.
func localCASession(t *testing.T) (*fleettest.Kit, string, *provision.Session) {
	t.Helper()
	kit := fleettest.New(t, time.Now())
	dir, l := localCA(t, true)
	return kit, dir, &provision.Session{Secrets: provision.Secrets{SSHPassword: "x"},
		Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)}, IssueLocal: provision.IssueFromLocalCA(l)}
}

func bundleFiles(t *testing.T, pb provision.Bundle) *bundle.Bundle {
	t.Helper()
	b, err := bundle.ReadArchive(bytes.NewReader(pb.Archive))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each local-ca row gets a certificate of its own, for its FQDN and its
// final address, recorded in the CA's state; the bundle holds it with its
// key and the chain up to the root, and the result names the serial. A row
// never gets another row's certificate; without a local CA no bundle is
// built at all.
func TestLocalCAIssuesPerRow(t *testing.T) {
	t.Parallel()
	kit, dir, s := localCASession(t)
	ctx := context.Background()
	rows := []provision.Row{localRow(kit, t, "sensor-01", "192.0.2.111"), localRow(kit, t, "sensor-02", "192.0.2.112")}
	var leaves [][]byte
	for _, row := range rows {
		pr, err := s.Prepare(ctx, row)
		if err != nil {
			t.Fatalf("%s: %v", row.Sensor, err)
		}
		b := bundleFiles(t, pr.Bundle)
		cs, err := certs.ParseCertificates(b.File(bundle.RoleCert))
		if err != nil {
			t.Fatal(err)
		}
		leaf := cs[0]
		if leaf.Subject.CommonName != row.NewHostname || fmt.Sprint(leaf.DNSNames) != "["+row.NewHostname+"]" ||
			len(leaf.IPAddresses) != 1 || leaf.IPAddresses[0].String() != row.NewIP {
			t.Fatalf("%s: CN %q DNS %v IP %v", row.Sensor, leaf.Subject.CommonName, leaf.DNSNames, leaf.IPAddresses)
		}
		key, err := certs.ParsePrivateKey(b.File(bundle.RoleKey), nil)
		if err != nil || !certs.KeyMatches(key, leaf) {
			t.Fatalf("%s: the bundle's key does not belong to its certificate: %v", row.Sensor, err)
		}
		chain, _ := certs.ParseCertificates(b.File(bundle.RoleChain))
		if len(chain) != 2 || chain[1].Subject.String() != chain[1].Issuer.String() {
			t.Fatalf("%s: chain %d certificates, want the intermediate and the root", row.Sensor, len(chain))
		}
		serial := hex.EncodeToString(leaf.SerialNumber.Bytes())
		if !strings.Contains(pr.Bundle.CertIssued, serial) || !strings.Contains(pr.Bundle.CertIssued, "local CA") {
			t.Fatalf("%s: the bundle says %q, not the serial %s", row.Sensor, pr.Bundle.CertIssued, serial)
		}
		sum := sha256.Sum256(leaf.Raw)
		if pr.Bundle.CertFingerprint != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s: fingerprint %s is not the issued certificate's", row.Sensor, pr.Bundle.CertFingerprint)
		}
		for _, other := range leaves {
			if bytes.Contains(pr.Bundle.Archive, other) {
				t.Fatalf("%s's bundle holds another row's certificate", row.Sensor)
			}
		}
		leaves = append(leaves, leaf.Raw)
	}
	st := caState(t, dir)
	if len(st.Issued) != 2 || st.Issued[0].Hostname != "sensor-01.plant.example" || st.Issued[1].Hostname != "sensor-02.plant.example" {
		t.Fatalf("state.json issued %+v", st.Issued)
	}

	// No local CA: refused, no bundle.
	plain := &provision.Session{Secrets: s.Secrets, Check: s.Check}
	if _, err := plain.Prepare(ctx, rows[0]); err == nil || !strings.Contains(err.Error(), provision.ErrNoLocalCA) {
		t.Fatalf("no local CA: %v", err)
	}
}

// The issued certificate passes the same gate as any other: a local CA
// that hands row A another row's certificate (or an expired one) gets no
// bundle, and a row with certificate validation but a CA without a CRL
// URL is refused as the sensor would refuse it.
func TestLocalCANoBypass(t *testing.T) {
	t.Parallel()
	kit := fleettest.New(t, time.Now())
	_, l := localCA(t, false)
	issue := provision.IssueFromLocalCA(l)
	ctx := context.Background()
	a, b := localRow(kit, t, "sensor-01", "192.0.2.111"), localRow(kit, t, "sensor-02", "192.0.2.112")
	swapped := &provision.Session{Secrets: provision.Secrets{SSHPassword: "x"}, Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)},
		IssueLocal: func(_ provision.Row, now time.Time) (*provision.LocalIssued, error) { return issue(b, now) }}
	_, err := swapped.Prepare(ctx, a)
	var ge *bundle.GateError
	if !errors.As(err, &ge) || len(ge.Errors) == 0 || !strings.Contains(err.Error(), "TL-CERT-01") {
		t.Fatalf("row A with row B's certificate: %v", err)
	}
	expired := &provision.Session{Secrets: swapped.Secrets, Check: swapped.Check,
		IssueLocal: func(r provision.Row, _ time.Time) (*provision.LocalIssued, error) {
			return issue(r, time.Now().AddDate(-1, 0, -1)) // a year and a day ago: expired now
		}}
	if _, err := expired.Prepare(ctx, a); !errors.As(err, &ge) || !strings.Contains(err.Error(), "TL-CERT-007") {
		t.Fatalf("an expired certificate from the local CA: %v", err)
	}
	a.CRLValidation = true
	_, bare := localCAWith(t, ca.InitOptions{})
	noURL := provision.IssueFromLocalCA(bare)
	s := &provision.Session{Secrets: swapped.Secrets, Check: swapped.Check, IssueLocal: noURL}
	if _, err := s.Prepare(ctx, a); !errors.As(err, &ge) || !strings.Contains(err.Error(), "TL-CERT-021") {
		t.Fatalf("validation on, no CRL distribution point: %v", err)
	}
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func caState(t *testing.T, dir string) ca.State {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, ca.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st ca.State
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Twenty rows prepared at once: twenty distinct serials, all twenty on
// the CA's issued list, each certificate in its own row's bundle.
func TestLocalCAParallelRows(t *testing.T) {
	t.Parallel()
	kit, dir, s := localCASession(t)
	const n = 20
	rows := make([]provision.Row, n)
	for i := range rows {
		rows[i] = localRow(kit, t, fmt.Sprintf("sensor-%02d", i+1), fmt.Sprintf("192.0.2.%d", 100+i))
	}
	serials := make([]string, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range rows {
		wg.Go(func() {
			pr, err := s.Prepare(context.Background(), rows[i])
			if err != nil {
				errs[i] = err
				return
			}
			b, err := bundle.ReadArchive(bytes.NewReader(pr.Bundle.Archive))
			if err != nil {
				errs[i] = err
				return
			}
			cs, err := certs.ParseCertificates(b.File(bundle.RoleCert))
			if err != nil || cs[0].Subject.CommonName != rows[i].NewHostname {
				errs[i] = fmt.Errorf("%s got a certificate for %v (%v)", rows[i].Sensor, cs, err)
				return
			}
			serials[i] = hex.EncodeToString(cs[0].SerialNumber.Bytes())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	st := caState(t, dir)
	recorded := map[string]string{}
	for _, r := range st.Issued {
		recorded[r.Serial] = r.Hostname
	}
	seen := map[string]bool{}
	for i, sn := range serials {
		if seen[sn] {
			t.Fatalf("serial %s issued twice", sn)
		}
		seen[sn] = true
		if recorded[sn] != rows[i].NewHostname {
			t.Fatalf("serial %s of %s is recorded as %q", sn, rows[i].Sensor, recorded[sn])
		}
	}
	if len(st.Issued) != n {
		t.Fatalf("state.json records %d certificates, want %d", len(st.Issued), n)
	}
}

// With certificate validation the bundle carries the CRLs of every CA
// level: OpenSSL verifies the issued certificate against the root with
// -crl_check_all, and the CRLs are written to the CA folder for publishing.
func TestLocalCABundleVerifiesWithOpenSSL(t *testing.T) {
	t.Parallel()
	needs.Tool(t, "openssl", "openssl (it verifies the issued bundle)")
	kit, dir, s := localCASession(t)
	row := localRow(kit, t, "sensor-01", "192.0.2.111")
	row.CRLValidation = true
	pr, err := s.Prepare(context.Background(), row)
	if err != nil {
		t.Fatal(err)
	}
	b := bundleFiles(t, pr.Bundle)
	crls := b.File(bundle.RoleCRLs)
	if n := strings.Count(string(crls), "BEGIN X509 CRL"); n != 2 {
		t.Fatalf("the bundle carries %d CRLs, want the issuing CA's and the root's", n)
	}
	work := t.TempDir()
	chain, _ := certs.ParseCertificates(b.File(bundle.RoleChain))
	write := func(name string, data []byte) string {
		p := filepath.Join(work, name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	leaf := write("leaf.pem", b.File(bundle.RoleCert))
	inter := write("inter.pem", pemOf(chain[0].Raw))
	root := write("root.pem", pemOf(chain[1].Raw))
	crlFile := write("crls.pem", crls)
	for _, args := range [][]string{
		{"verify", "-CAfile", root, "-untrusted", inter, "-purpose", "sslserver", leaf},
		{"verify", "-CAfile", root, "-untrusted", inter, "-crl_check_all", "-CRLfile", crlFile, leaf},
	} {
		out, err := exec.Command("openssl", args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, f := range []string{ca.CRLFileName, ca.RootCRLFileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("the CRLs signed for the bundle are not in the CA folder: %v", err)
		}
	}
	// Revoked in the CA, the certificate fails OpenSSL's check with the
	// next session's CRLs.
	c, err := ca.Load(dir, []byte("ca-passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	leafCert, _ := certs.ParseCertificates(b.File(bundle.RoleCert))
	if err := c.Revoke(leafCert[0].SerialNumber, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	files, err := c.CRLs(time.Now(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	write("crls.pem", append(files[0].PEM, files[1].PEM...))
	out, err := exec.Command("openssl", "verify", "-CAfile", root, "-untrusted", inter, "-crl_check_all", "-CRLfile", crlFile, leaf).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "revoked") {
		t.Fatalf("a revoked certificate verified: %s", out)
	}
}

// The inventory refuses a local-ca row that also names certificate files
// (which one would the sensor get?) or has no FQDN to issue for.
func TestLocalCAInventoryRows(t *testing.T) {
	t.Parallel()
	head := "sensor,address,ssh_user,auth,new_hostname,activation,cert_source,cert\n"
	for _, c := range []struct{ row, want string }{
		{"sensor-01,192.0.2.11,admin,agent,sensor-01.plant.example,a.tapact,local-ca,x.crt", "leave cert, key, chain, pfx and crl empty"},
		{"sensor-01,192.0.2.11,admin,agent,,a.tapact,local-ca,", "new_hostname"},
	} {
		_, err := provision.ParseInventory(strings.NewReader(head+c.row+"\n"), t.TempDir(), "site.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.row, err)
		}
	}
	if _, err := provision.ParseInventory(strings.NewReader(head+"sensor-01,192.0.2.11,admin,agent,sensor-01.plant.example,a.tapact,local-ca,\n"), t.TempDir(), "site.csv"); err != nil {
		t.Fatalf("a good local-ca row: %v", err)
	}
}

// The offline check issues a trial certificate per local-ca row (nothing
// recorded) and checks it as the bundle's: a CA without a CRL URL for a
// row with certificate validation is an error before anything is sent,
// and two rows with one FQDN are the fleet's TL-CERT-027. Without a CA
// the row says it is checked when its bundle is built.
func TestLocalCAOfflineCheck(t *testing.T) {
	t.Parallel()
	kit := fleettest.New(t, time.Now())
	dir, bare := localCAWith(t, ca.InitOptions{})
	a, b := localRow(kit, t, "sensor-01", "192.0.2.111"), localRow(kit, t, "sensor-02", "192.0.2.112")
	a.CRLValidation = true
	b.NewHostname = a.NewHostname
	o := provision.CheckOptions{Now: time.Now(), ActivationRoots: mustRoots(t, kit.RootPub), IssueLocal: provision.IssueFromLocalCA(bare.Trial())}
	rep := provision.Check(&provision.Inventory{Rows: []provision.Row{a, b}}, o)
	has := func(rc provision.RowCheck, code string) bool {
		for _, f := range rc.Findings {
			if f.Code == code {
				return true
			}
		}
		return false
	}
	if !has(rep.Rows[0], "TL-CERT-021") || !has(rep.Rows[1], "TL-CERT-027") || has(rep.Rows[1], "TL-CERT-021") {
		t.Fatalf("findings %+v / %+v", rep.Rows[0].Findings, rep.Rows[1].Findings)
	}
	if st := caState(t, dir); len(st.Issued) != 0 {
		t.Fatalf("the offline check recorded %d certificates", len(st.Issued))
	}
	o.IssueLocal = nil
	rep = provision.Check(&provision.Inventory{Rows: []provision.Row{b}}, o)
	if !has(rep.Rows[0], provision.CodeLocalCAAtBuild) || rep.HasErrors() {
		t.Fatalf("without a CA: %+v", rep.Rows[0].Findings)
	}
}
