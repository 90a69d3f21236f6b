package certs_test

import (
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
)

// field reads a fixture of testdata/field (generate.sh field).
func field(t testing.TB, name string) []byte { return fixture(t, filepath.Join("field", name)) }

func fieldCerts(t testing.TB, name string) []*x509.Certificate {
	t.Helper()
	cs, err := certs.ParseCertificates(field(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cs
}

// TestEasyRSAAnchor: an OpenSSL-made PKI in EasyRSA's profile (root and
// sub-CA with a non-critical basicConstraints and an AKI holding issuer and
// serial) is accepted by certs check, by certs verify and by OpenSSL alike:
// the trust anchor supplies a name and a key (RFC 5280 §6.1.1 (d)), and
// path validation does not hold CAs to the certificate profile. Only Strict
// (the profile, anchors included) refuses it.
func TestEasyRSAAnchor(t *testing.T) {
	crls := [][]byte{field(t, "easyrsa-root.crl"), field(t, "easyrsa-sub.crl")}
	r := certs.CheckSensor(certs.Source{Cert: field(t, "easyrsa-leaf.crt"), Key: fixture(t, "leaf.key"), Chain: field(t, "easyrsa-chain.pem"), CRLs: crls},
		certs.Target{Hostname: host, CRLValidation: true}, now)
	for _, f := range r.Findings {
		t.Errorf("certs check: %s %s %s", f.Code, f.Severity, f.Message)
	}
	if len(r.Chain) != 3 {
		t.Errorf("certs check chain %d, want 3", len(r.Chain))
	}
	o := certs.VerifyOptions{Anchors: fieldCerts(t, "easyrsa-root.crt"), Intermediates: fieldCerts(t, "easyrsa-sub.crt"), Time: now, RequireCRL: true, DNSName: host}
	for _, c := range crls {
		idx, err := certs.ParseCRLIndex(c)
		if err != nil {
			t.Fatal(err)
		}
		o.CRLs = append(o.CRLs, idx)
	}
	leaf := fieldCerts(t, "easyrsa-leaf.crt")[0]
	if chain, err := certs.Verify(leaf, o); err != nil || len(chain) != 3 {
		t.Errorf("certs verify: %v (chain %d)", err, len(chain))
	}
	o.Strict = true
	if _, err := certs.Verify(leaf, o); err == nil || !strings.Contains(err.Error(), "basicConstraints extension is not critical") {
		t.Errorf("certs verify --strict: %v, want the profile refusal", err)
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		needInput(t, "openssl to compare with")
	}
	d := filepath.Join("testdata", "field")
	out, err := exec.Command("openssl", "verify", "-crl_check_all", "-attime", "1795996800", "-CAfile", filepath.Join(d, "easyrsa-root.crt"),
		"-untrusted", filepath.Join(d, "easyrsa-sub.crt"), "-CRLfile", filepath.Join(d, "easyrsa-root.crl"), "-CRLfile", filepath.Join(d, "easyrsa-sub.crl"),
		filepath.Join(d, "easyrsa-leaf.crt")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Errorf("openssl verify: %v %s", err, out)
	}
}

// TestCheckAndVerifyAgree: certs check and certs verify give the same
// chain verdict on the same files, valid or not.
func TestCheckAndVerifyAgree(t *testing.T) {
	cases := []struct {
		name              string
		leaf, chain, root string
		valid             bool
	}{
		{"openssl bundle", "leaf.crt", "inter.crt", "root.crt", true},
		{"easyrsa", "field/easyrsa-leaf.crt", "field/easyrsa-sub.crt", "field/easyrsa-root.crt", true},
		{"expired intermediate", "field/under-expired.crt", "field/expired-inter.crt", "root.crt", false},
		{"other root", "leaf.crt", "inter.crt", "field/easyrsa-root.crt", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leaf, _ := certs.ParseCertificate(fixture(t, c.leaf))
			inter, _ := certs.ParseCertificates(fixture(t, c.chain))
			root, _ := certs.ParseCertificates(fixture(t, c.root))
			_, verr := certs.Verify(leaf, certs.VerifyOptions{Anchors: root, Intermediates: inter, Time: now})
			r := certs.CheckSensor(certs.Source{Cert: fixture(t, c.leaf), Key: fixture(t, "leaf.key"), Chain: fixture(t, c.chain), Anchors: fixture(t, c.root)},
				certs.Target{Hostname: host}, now)
			chainBad := slices.ContainsFunc(r.Findings, func(f certs.Finding) bool {
				return f.Code == certs.CodeChainOfTrust || f.Code == certs.CodeCAExpired
			})
			if (verr == nil) != c.valid || chainBad == c.valid {
				t.Errorf("verify %v, check findings %v; want valid %v", verr, codes(r), c.valid)
			}
		})
	}
}

// TestExpiredIntermediateMessage: an expired CA certificate is named, with
// the fix (renew it), not "give a chain file".
func TestExpiredIntermediateMessage(t *testing.T) {
	r := certs.CheckSensor(certs.Source{Cert: field(t, "under-expired.crt"), Key: fixture(t, "leaf.key"), Chain: field(t, "expired-chain.pem")},
		certs.Target{Hostname: host}, now)
	var f *certs.Finding
	for i := range r.Findings {
		if r.Findings[i].Code == certs.CodeCAExpired {
			f = &r.Findings[i]
		}
		if r.Findings[i].Code == certs.CodeChainOfTrust {
			t.Errorf("also reported as a broken chain: %s", r.Findings[i].Message)
		}
	}
	if f == nil || !strings.Contains(f.Message, "Plant Example Old Issuing CA") || !strings.Contains(f.Message, "2026-06-01") ||
		!strings.Contains(f.Hint, "Renew") || strings.Contains(f.Hint, "chain file holding") {
		t.Fatalf("findings %+v", r.Findings)
	}
	leaf, _ := certs.ParseCertificate(field(t, "under-expired.crt"))
	_, err := certs.Verify(leaf, certs.VerifyOptions{Anchors: fieldCerts(t, "expired-chain.pem")[1:], Intermediates: fieldCerts(t, "expired-inter.crt"), Time: now})
	if err == nil || !strings.Contains(err.Error(), "Old Issuing CA") || !strings.Contains(err.Error(), "expired on 2026-06-01") {
		t.Errorf("verify: %v", err)
	}
}
