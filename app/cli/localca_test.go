package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapline/tapline/certs/ca"
)

// countingListener accepts and drops connections on 127.0.0.1, counting
// them: a sensor that must not be contacted.
func countingListener(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), &n
}

// localCAInventory is a one-row inventory whose certificate comes from the
// local CA, for the example sensor-01 at addr.
func localCAInventory(t *testing.T, dir, addr string) string {
	t.Helper()
	ex, _ := filepath.Abs("../../examples/site-a")
	inv := filepath.Join(dir, "site.csv")
	row := fmt.Sprintf("sensor-01,%s,admin,password,eth0,192.0.2.111,24,192.0.2.1,sensor-01.plant.example,%s/activation/sensor-01.tapact,local-ca", addr, ex)
	if err := os.WriteFile(inv, []byte("sensor,address,ssh_user,auth,interface,new_ip,new_mask,new_gateway,new_hostname,activation,cert_source\n"+row+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return inv
}

// caGetenv is an environment with the SSH password and the local CA's
// passphrase set.
func caGetenv(caPass string) func(string) string {
	return func(k string) string {
		switch k {
		case "TAPLINE_SSH_PASSWORD":
			return "pw"
		case "TAPLINE_CA_PASSPHRASE":
			return caPass
		}
		return ""
	}
}

func initTestCA(t *testing.T, dir, pass string) string {
	t.Helper()
	caDir := filepath.Join(dir, "ca")
	pf := filepath.Join(dir, "ca.pass")
	os.WriteFile(pf, []byte(pass+"\n"), 0o600)
	env, out, errb := testEnv(exampleNow(t))
	if code := Main([]string{"ca", "init", "--dir", caDir, "--passphrase-file", pf, "--country", "DE", "--org", "Example Plant", "--intermediate",
		"--kdf-iterations", "2048"}, env); code != ExitOK {
		t.Fatalf("ca init: exit %d\n%s\n%s", code, out, errb)
	}
	return caDir
}

// A local-ca row is refused before any sensor is contacted when no CA is
// given, when the CA folder is not one, and when the passphrase is wrong:
// one line on stderr naming the flag, zero connections, nothing issued.
func TestLocalCARefusedBeforeContact(t *testing.T) {
	dir := t.TempDir()
	addr, conns := countingListener(t)
	inv := localCAInventory(t, dir, addr)
	caDir := initTestCA(t, dir, "right-passphrase")
	wrong := filepath.Join(dir, "wrong.pass")
	os.WriteFile(wrong, []byte("wrong-passphrase\n"), 0o600)
	base := []string{"batch", "run", inv, "--trust-root", exampleRoot, "--at", exampleAt(t), "--known-hosts", filepath.Join(dir, "kh"),
		"--retries", "0", "--connect-timeout", "2s", "--accept-new"}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no --ca", nil, []string{"line 2 (sensor-01) has cert_source local-ca", "--ca DIR", "nothing was sent"}},
		{"not a CA folder", []string{"--ca", dir, "--ca-passphrase-file", wrong}, []string{"--ca " + dir, "root.crt", "nothing was sent"}},
		{"not a CA folder, no passphrase given", []string{"--ca", filepath.Join(dir, "none")}, []string{"no local CA there (no root.crt)", "tapline ca init", "nothing was sent"}},
		{"wrong passphrase", []string{"--ca", caDir, "--ca-passphrase-file", wrong}, []string{"--ca " + caDir, "passphrase", "--ca-passphrase-file", "nothing was sent"}},
		{"no passphrase, no terminal", []string{"--ca", caDir}, []string{"--ca " + caDir, "TAPLINE_CA_PASSPHRASE", "nothing was sent"}},
	}
	for _, c := range cases {
		env, out, errb := testEnv(exampleNow(t))
		env.Getenv = func(k string) string {
			if k == "TAPLINE_SSH_PASSWORD" {
				return "pw"
			}
			return ""
		}
		code := Main(append(append([]string{}, base...), c.args...), env)
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if code != ExitUsage || len(lines) != 1 {
			t.Fatalf("%s: exit %d, stderr %d line(s):\n%s\n%s", c.name, code, len(lines), errb, out)
		}
		for _, w := range c.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, errb)
			}
		}
		if strings.Contains(errb.String(), "wrong-passphrase") || strings.Contains(errb.String(), "right-passphrase") {
			t.Fatalf("%s: the passphrase is printed: %s", c.name, errb)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connection(s) to the sensor although every run was refused", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "site.journal.jsonl")); err == nil {
		t.Fatal("a journal was written although nothing may be sent")
	}
	c, err := ca.Load(caDir, []byte("right-passphrase"))
	if err != nil || len(c.State.Issued) != 0 {
		t.Fatalf("something was issued: %v %+v", err, c.State.Issued)
	}

	// With the CA and its passphrase (here from TAPLINE_CA_PASSPHRASE) the
	// row is issued its certificate, recorded in the CA, and only then is
	// the sensor contacted; the report names the serial.
	env, out, errb := testEnv(exampleNow(t))
	env.Getenv = caGetenv("right-passphrase")
	if code := Main(append(append([]string{}, base...), "--ca", caDir), env); code != ExitVerdict {
		t.Fatalf("with the CA: exit %d\n%s\n%s", code, out, errb)
	}
	if conns.Load() == 0 {
		t.Fatalf("the sensor was never contacted:\n%s\n%s", out, errb)
	}
	c, err = ca.Load(caDir, []byte("right-passphrase"))
	if err != nil || len(c.State.Issued) != 1 || c.State.Issued[0].Hostname != "sensor-01.plant.example" {
		t.Fatalf("issued list: %v %+v", err, c.State.Issued)
	}
	rep, _ := os.ReadFile(filepath.Join(dir, "site.report.json"))
	if !strings.Contains(string(rep), `"certificate_issued"`) || !strings.Contains(string(rep), c.State.Issued[0].Serial) {
		t.Fatalf("the report does not name the issued serial %s:\n%s", c.State.Issued[0].Serial, rep)
	}
	if strings.Contains(errb.String()+out.String(), "right-passphrase") {
		t.Fatal("the CA passphrase is printed")
	}
}

// With --ca the offline check issues a trial certificate per local-ca row
// and checks it: a CA that cannot give a row what the sensor needs (no
// CRL URL while the row validates certificates) fails batch check, and
// stops batch run before any sensor is contacted; nothing is recorded.
func TestLocalCAOfflineCheckBeforeContact(t *testing.T) {
	dir := t.TempDir()
	addr, conns := countingListener(t)
	ex, _ := filepath.Abs("../../examples/site-a")
	inv := filepath.Join(dir, "site.csv")
	row := fmt.Sprintf("sensor-01,%s,admin,password,eth0,192.0.2.111,24,192.0.2.1,sensor-01.plant.example,%s/activation/sensor-01.tapact,local-ca,true", addr, ex)
	os.WriteFile(inv, []byte("sensor,address,ssh_user,auth,interface,new_ip,new_mask,new_gateway,new_hostname,activation,cert_source,crl_validation\n"+row+"\n"), 0o600)
	caDir := initTestCA(t, dir, "right-passphrase")
	getenv := caGetenv("right-passphrase")
	env, out, errb := testEnv(exampleNow(t))
	env.Getenv = getenv
	if code := Main([]string{"batch", "check", inv, "--trust-root", exampleRoot, "--at", exampleAt(t)}, env); code != ExitOK ||
		!strings.Contains(out.String(), "TL-INV-011") {
		t.Fatalf("batch check without --ca: exit %d\n%s\n%s", code, out, errb)
	}
	env, out, errb = testEnv(exampleNow(t))
	env.Getenv = getenv
	if code := Main([]string{"batch", "check", inv, "--trust-root", exampleRoot, "--at", exampleAt(t), "--ca", caDir}, env); code != ExitVerdict ||
		!strings.Contains(out.String(), "TL-CERT-021") {
		t.Fatalf("batch check --ca: exit %d\n%s\n%s", code, out, errb)
	}
	env, out, errb = testEnv(exampleNow(t))
	env.Getenv = getenv
	if code := Main([]string{"batch", "run", inv, "--trust-root", exampleRoot, "--at", exampleAt(t), "--known-hosts", filepath.Join(dir, "kh"),
		"--accept-new", "--ca", caDir}, env); code != ExitVerdict || !strings.Contains(errb.String(), "TL-CERT-021") || !strings.Contains(errb.String(), "nothing was sent") {
		t.Fatalf("batch run --ca: exit %d\n%s\n%s", code, out, errb)
	}
	time.Sleep(50 * time.Millisecond)
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connection(s) although the offline check refused", n)
	}
	if c, err := ca.Load(caDir, []byte("right-passphrase")); err != nil || len(c.State.Issued) != 0 {
		t.Fatalf("the offline check recorded certificates: %v %+v", err, c.State.Issued)
	}
}
