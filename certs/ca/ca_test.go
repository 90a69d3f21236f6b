package ca_test

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/filemode"
	"github.com/tapline/tapline/internal/needs"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// rsaKeys generates three RSA-2048 keys once per test binary.
var rsaKeys = sync.OnceValue(func() []crypto.Signer {
	var ks []crypto.Signer
	for range 3 {
		k, err := ca.NewKey(nil, ca.RSA2048)
		if err != nil {
			panic(err)
		}
		ks = append(ks, k)
	}
	return ks
})

func newCA(t *testing.T, intermediate bool, crlURL string) *ca.CA {
	t.Helper()
	ks := rsaKeys()
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Plant Example GmbH", Intermediate: intermediate,
		RootKey: ks[0], IntermediateKey: ks[1], CRLURL: crlURL, Now: now, KDFIterations: 2048})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIssuedPassesSensorCheck proves the CA's promise: what it issues passes
// certs.CheckSensor with no error and no warning, with and without an
// intermediate, with and without CRL validation (and then a fresh CRL).
func TestIssuedPassesSensorCheck(t *testing.T) {
	cases := []struct {
		name         string
		intermediate bool
		crlURL       string
		validation   bool
		ip           string
	}{
		{"root only", false, "", false, ""},
		{"intermediate with ip", true, "", false, "192.0.2.10"},
		{"crl validation", true, "http://crl.plant.example/issuing.crl", true, "192.0.2.11"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCA(t, tc.intermediate, tc.crlURL)
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			is, err := c.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", IP: ip, Key: rsaKeys()[2], Now: now})
			if err != nil {
				t.Fatal(err)
			}
			src := certs.Source{Cert: is.CertPEM, Key: is.KeyPEM, Chain: is.ChainPEM}
			if tc.validation {
				// The sensor checks every certificate of the path: the CRL
				// of every level.
				files, err := c.CRLs(now, 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					src.CRLs = append(src.CRLs, f.PEM)
				}
			}
			r := certs.CheckSensor(src, certs.Target{Hostname: "sensor-01.plant.example", IP: ip, CRLValidation: tc.validation}, now.Add(time.Hour))
			for _, f := range r.Findings {
				if f.Severity != certs.SeverityInfo {
					t.Errorf("finding %s %s: %s", f.Code, f.Severity, f.Message)
				}
			}
			if want := len(c.Chain()) + 1; len(r.Chain) != want {
				t.Errorf("chain has %d certificates, want %d", len(r.Chain), want)
			}
		})
	}
}

func TestRevokeShowsInCRL(t *testing.T) {
	c := newCA(t, true, "http://crl.plant.example/issuing.crl")
	is, err := c.Issue(ca.IssueRequest{Hostname: "sensor-02.plant.example", KeyType: ca.P256, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(is.Cert.SerialNumber, 1, now); err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(is.Cert.SerialNumber, 1, now); err == nil {
		t.Error("second revoke of the same serial succeeded")
	}
	crl, err := c.CRL(now, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := certs.CheckSensor(certs.Source{Cert: is.CertPEM, Key: is.KeyPEM, Chain: is.ChainPEM, CRLs: [][]byte{crl}},
		certs.Target{Hostname: "sensor-02.plant.example", CRLValidation: true}, now.Add(time.Hour))
	if !hasCode(r, certs.CodeRevoked) {
		t.Errorf("revoked certificate not reported: %+v", r.Findings)
	}
	rl, err := certs.ParseCRL(crl)
	if err != nil {
		t.Fatal(err)
	}
	if rl.Number.Int64() != 1 {
		t.Errorf("CRL number %v, want 1", rl.Number)
	}
}

func TestIssueRefuses(t *testing.T) {
	c := newCA(t, false, "")
	for _, h := range []string{"", "*.plant.example", "sensor", "bad_name.plant.example", "-x.plant.example"} {
		if _, err := c.Issue(ca.IssueRequest{Hostname: h, Key: rsaKeys()[2], Now: now}); err == nil {
			t.Errorf("Issue(%q) succeeded", h)
		}
	}
	if _, err := ca.Init(ca.InitOptions{CRLURL: "https://x.example/a.crl", RootKey: rsaKeys()[0], Now: now}); err == nil {
		t.Error("https CRL URL accepted")
	}
}

func TestSaveLoadExport(t *testing.T) {
	dir := t.TempDir()
	c := newCA(t, true, "")
	pass := []byte("Plant-CA.2026")
	if err := c.Save(dir, pass, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ca.RootKeyFile, ca.IntermediateKeyFile, ca.StateFile} {
		if ok, err := filemode.Is(filepath.Join(dir, f), 0o600); err != nil || !ok {
			t.Errorf("%s not private (mode 0600, on Windows an ACL for the user alone): %v", f, err)
		}
	}
	if _, err := ca.Load(dir, []byte("wrong")); err == nil {
		t.Fatal("Load with a wrong passphrase succeeded")
	} else if !errorsIs(err, certs.ErrIncorrectPassphrase) {
		t.Errorf("Load with a wrong passphrase: %v", err)
	}
	c2, err := ca.Load(dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Intermediate.Equal(c.Intermediate) {
		t.Error("intermediate changed across Save/Load")
	}
	is, err := c2.Issue(ca.IssueRequest{Hostname: "sensor-03.plant.example", KeyType: ca.P256, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, legacy := range []bool{false, true} {
		out := t.TempDir()
		files, err := ca.Export(out, "sensor-03", is, ca.ExportOptions{KeyPassphrase: pass, PFXPassphrase: pass, LegacyPFX: legacy, KDFIterations: 2048})
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 4 {
			t.Fatalf("exported %v", files)
		}
		pfx, _ := os.ReadFile(filepath.Join(out, "sensor-03.pfx"))
		key, _ := os.ReadFile(filepath.Join(out, "sensor-03.key"))
		chain, _ := os.ReadFile(filepath.Join(out, "sensor-03-chain.pem"))
		tgt := certs.Target{Hostname: "sensor-03.plant.example"}
		for name, src := range map[string]certs.Source{
			"pfx":     {PFX: pfx, Passphrase: pass},
			"crt+key": {Cert: is.CertPEM, Key: key, Chain: chain, Passphrase: pass},
		} {
			r := certs.CheckSensor(src, tgt, now.Add(time.Hour))
			for _, f := range r.Findings {
				t.Errorf("legacy=%v %s: %s %s", legacy, name, f.Code, f.Message)
			}
		}
	}
	if _, ok := is.Key.Public().(*rsa.PublicKey); ok {
		t.Error("P-256 request produced an RSA key")
	}
}

// TestIssueFromOpenSSLCSR issues from a request OpenSSL wrote: the
// certificate carries the request's key, and a PKCS#12 export is refused
// (the CA never saw the key).
func TestIssueFromOpenSSLCSR(t *testing.T) {
	needs.Tool(t, "openssl", "openssl")
	dir := t.TempDir()
	key, csr := filepath.Join(dir, "k.pem"), filepath.Join(dir, "r.csr")
	if out, err := exec.Command("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", key, "-subj", "/CN=sensor-09.plant.example", "-out", csr).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v %s", err, out)
	}
	csrPEM, _ := os.ReadFile(csr)
	c := newCA(t, false, "")
	is, err := c.Issue(ca.IssueRequest{CSR: csrPEM, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	k, err := certs.ReadPrivateKey(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if is.Key != nil || !certs.KeyMatches(k, is.Cert) || is.Cert.Subject.CommonName != "sensor-09.plant.example" {
		t.Errorf("issued %v for the wrong key or name", is.Cert.Subject)
	}
	if _, err := ca.Export(t.TempDir(), "s9", is, ca.ExportOptions{PFXPassphrase: []byte("x")}); err == nil {
		t.Error("PKCS#12 export without the key succeeded")
	}
	bad := append([]byte{}, csrPEM...)
	bad[len(bad)/2] ^= 0x01
	if _, err := c.Issue(ca.IssueRequest{CSR: bad, Now: now}); err == nil {
		t.Error("a damaged request was accepted")
	}
	// Keys the sensor check calls weak are refused: what the CA signs must pass it.
	for _, alg := range [][]string{{"-newkey", "rsa:1024"}, {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"}} {
		weak := filepath.Join(dir, "weak.csr")
		args := append([]string{"req", "-new"}, alg...)
		args = append(args, "-nodes", "-keyout", filepath.Join(dir, "weak.key"), "-subj", "/CN=sensor-10.plant.example", "-out", weak)
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl req: %v %s", err, out)
		}
		data, _ := os.ReadFile(weak)
		if _, err := c.Issue(ca.IssueRequest{CSR: data, Now: now}); err == nil || !strings.Contains(err.Error(), "the sensor needs") {
			t.Errorf("%v request: %v, want a refusal naming what the sensor needs", alg, err)
		}
	}
	// Not a request at all: say what the file is, not an ASN.1 dump.
	for _, data := range [][]byte{is.CertPEM, {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'}} {
		_, err := c.Issue(ca.IssueRequest{CSR: data, Now: now})
		if err == nil || !strings.Contains(err.Error(), "not a certificate request") || strings.Contains(err.Error(), "asn1") {
			t.Errorf("non-request: %v", err)
		}
	}
}

// TestRootCRLURL: with a root CRL URL the intermediate names it as its
// distribution point, so a sensor given only the issuing CA's CRL fetches
// the root's (an info finding here, no error); without one the same bundle
// is undetermined for the intermediate. A root CRL URL needs an
// intermediate and http://.
func TestRootCRLURL(t *testing.T) {
	ks := rsaKeys()
	for _, url := range []string{"http://crl.plant.example/root.crl", ""} {
		c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Plant Example GmbH", Intermediate: true, RootKey: ks[0], IntermediateKey: ks[1],
			CRLURL: "http://crl.plant.example/issuing.crl", RootCRLURL: url, Now: now, KDFIterations: 2048})
		if err != nil {
			t.Fatal(err)
		}
		is, err := c.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", Key: rsaKeys()[2], Now: now})
		if err != nil {
			t.Fatal(err)
		}
		crl, err := c.CRL(now, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := certs.CheckSensor(certs.Source{Cert: is.CertPEM, Key: is.KeyPEM, Chain: is.ChainPEM, CRLs: [][]byte{crl}},
			certs.Target{Hostname: "sensor-01.plant.example", CRLValidation: true}, now.Add(time.Hour))
		fetches := len(r.FetchCRLs) == 1 && r.FetchCRLs[0].Equal(c.Intermediate)
		switch {
		case url != "" && (r.HasErrors() || !fetches || !strings.Contains(fmt.Sprint(r.Findings), url)):
			t.Errorf("with a root CRL URL: fetches %v, %+v", fetches, r.Findings)
		case url == "" && !r.HasErrors():
			t.Errorf("without one, the intermediate's status passed: %+v", r.Findings)
		}
	}
	if _, err := ca.Init(ca.InitOptions{RootCRLURL: "http://crl.plant.example/root.crl", Now: now}); err == nil {
		t.Error("a root CRL URL without an intermediate was taken")
	}
	if _, err := ca.Init(ca.InitOptions{Intermediate: true, RootCRLURL: "https://crl.plant.example/root.crl", Now: now}); err == nil {
		t.Error("an https:// root CRL URL was taken")
	}
}
