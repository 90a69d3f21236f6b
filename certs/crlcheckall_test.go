package certs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/needs"
)

// openSSLCRLChain makes testdata/crlchain.sh's PKI (two CA levels, the CRLs
// of both, a revoked issuing CA, stale, forged and foreign root CRLs) with
// real OpenSSL in a temporary directory and returns it.
func openSSLCRLChain(t *testing.T) string {
	t.Helper()
	needs.Tool(t, "openssl", "openssl")
	dir := t.TempDir()
	script, _ := filepath.Abs(filepath.Join("testdata", "crlchain.sh"))
	if out, err := exec.Command("bash", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("crlchain.sh: %v\n%s", err, out)
	}
	return dir
}

// TestCheckSensorCRLCheckAll: with certificate validation on the sensor
// checks the revocation of every certificate of the path, as `openssl
// verify -crl_check_all` does, on a PKI made by OpenSSL: a revoked issuing
// CA is refused naming that CA and the CRL that revoked it; a root CRL that
// is stale, signed by a look-alike key or another CA's leaves the issuing
// CA's status undecided, refused too; the CRLs of both levels, in two files
// or one, pass. OpenSSL is asked the same question each time and must agree.
func TestCheckSensorCRLCheckAll(t *testing.T) {
	d := openSSLCRLChain(t)
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(d, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name       string
		leaf       string   // leaf.crt or leaf-rv.crt, with its key and chain
		crls       []string // files given; "a+b" is both in one file
		want       string   // the code of the refusal; "" accepted
		mention    []string // what the refusal names
		validation bool
	}{
		{"both levels", "leaf", []string{"inter.crl", "root.crl"}, "", nil, true},
		{"both levels in one file", "leaf", []string{"inter.crl+root.crl"}, "", nil, true},
		{"revoked issuing CA", "leaf-rv", []string{"inter-rv.crl", "root.crl"}, certs.CodeRevoked,
			[]string{"CA certificate CN=Plant Example Issuing CA 2", "keyCompromise", "CRL number 2 of CN=Plant Example Root CA", "(root.crl)"}, true},
		{"revoked issuing CA, CRLs in one file", "leaf-rv", []string{"inter-rv.crl+root.crl"}, certs.CodeRevoked,
			[]string{"CA certificate CN=Plant Example Issuing CA 2", "CRL 2 of 2"}, true},
		{"revoked issuing CA, validation off", "leaf-rv", []string{"inter-rv.crl", "root.crl"}, certs.CodeRevoked, []string{"Issuing CA 2"}, false},
		{"stale root CRL", "leaf", []string{"inter.crl", "root-old.crl"}, certs.CodeCRLNotCurrent, []string{"CA certificate CN=Plant Example Issuing CA"}, true},
		{"forged root CRL", "leaf", []string{"inter.crl", "root-forged.crl"}, certs.CodeCRLSignature, []string{"CA certificate CN=Plant Example Issuing CA"}, true},
		{"another CA's root CRL", "leaf", []string{"inter.crl", "other-root.crl"}, certs.CodeCRLUndetermined,
			[]string{"CA certificate CN=Plant Example Issuing CA", "no http:// CRL distribution point"}, true},
		{"the issuing CA's CRL alone", "leaf", []string{"inter.crl"}, certs.CodeCRLUndetermined, []string{"give the CRL of CN=Plant Example Root CA"}, true},
		{"the root's CRL alone, revoked issuing CA", "leaf-rv", []string{"root.crl"}, certs.CodeRevoked, []string{"Issuing CA 2"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chain := "chain.pem"
			inter := "inter.crt"
			if c.leaf == "leaf-rv" {
				chain, inter = "chain-rv.pem", "inter-revoked.crt"
			}
			src := certs.Source{Cert: read(c.leaf + ".crt"), Key: read(c.leaf + ".key"), Chain: read(chain), Names: map[string]string{}}
			args := []string{"verify", "-attime", strconv.FormatInt(now.Unix(), 10), "-CAfile", filepath.Join(d, "root.crt"), "-untrusted", filepath.Join(d, inter)}
			if c.validation {
				args = append(args, "-crl_check_all")
			}
			for i, f := range c.crls {
				var data []byte
				for _, p := range strings.Split(f, "+") {
					data = append(data, read(p)...)
				}
				src.CRLs = append(src.CRLs, data)
				src.Names["crl"+strconv.Itoa(i+1)] = f
				one := filepath.Join(t.TempDir(), "crls.pem")
				if err := os.WriteFile(one, data, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-CRLfile", one)
			}
			r := certs.CheckSensor(src, certs.Target{Hostname: host, CRLValidation: c.validation}, now)
			var got *certs.Finding
			for i, f := range r.Findings {
				if f.Severity == certs.SeverityError && got == nil {
					got = &r.Findings[i]
				}
			}
			switch {
			case c.want == "" && got != nil:
				t.Fatalf("refused: %+v", r.Findings)
			case c.want != "" && (got == nil || got.Code != c.want):
				t.Fatalf("want the refusal %s, got %+v", c.want, r.Findings)
			}
			for _, m := range c.mention {
				if !strings.Contains(got.Message, m) {
					t.Errorf("the refusal does not name %q: %s", m, got.Message)
				}
			}
			if !c.validation {
				return // OpenSSL without -crl_check_all checks no CRL
			}
			out, err := exec.Command("openssl", append(args, filepath.Join(d, c.leaf+".crt"))...).CombinedOutput()
			if (err == nil) != (c.want == "") {
				t.Errorf("openssl verify -crl_check_all disagrees (accepted: %v): %s", err == nil, out)
			}
		})
	}
}
