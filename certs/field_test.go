package certs_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/needs"
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
	needs.Tool(t, "openssl", "openssl")
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

// TestByteOrderMark: PEM files saved by Windows Notepad ("UTF-8 with BOM",
// or "Unicode", UTF-16 with its mark) read as OpenSSL reads the first.
func TestByteOrderMark(t *testing.T) {
	utf16LE := func(b []byte) []byte {
		out := []byte{0xff, 0xfe}
		for _, r := range string(b) {
			out = append(out, byte(r), byte(r>>8))
		}
		return out
	}
	for _, c := range []struct {
		name string
		data []byte
		mark string
	}{
		{"utf-8 bom", field(t, "leaf-bom.crt"), "UTF-8 byte-order mark"},
		{"utf-16", utf16LE(fixture(t, "leaf.crt")), "UTF-16 little endian"},
		{"plain", fixture(t, "leaf.crt"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := certs.TextMark(c.data); got != c.mark {
				t.Errorf("TextMark %q, want %q", got, c.mark)
			}
			if k := certs.Detect(c.data); k != certs.KindCertificate {
				t.Errorf("Detect %s", k)
			}
			if cs, err := certs.ParseCertificates(c.data); err != nil || cs[0].Subject.CommonName != host {
				t.Errorf("ParseCertificates: %v", err)
			}
		})
	}
	if _, err := certs.ParsePrivateKey(field(t, "leaf-bom.key"), nil); err != nil {
		t.Errorf("key: %v", err)
	}
	if c, err := certs.ParseCRLIndex(field(t, "crl-bom.pem")); err != nil || c.Len() != 1 {
		t.Errorf("CRL: %v", err)
	}
	if cs, err := certs.ParseCertificates(field(t, "chain-bom.pem")); err != nil || len(cs) != 2 {
		t.Errorf("chain: %v", err)
	}
	// A byte-order mark before DER is not text: left alone, and refused.
	if _, err := certs.ParseCertificates(append([]byte{0xef, 0xbb, 0xbf}, fixture(t, "leaf.der")...)); err == nil {
		t.Error("DER after a byte-order mark read")
	}
}

// TestAlgorithmNames: keys and signatures are named as OpenSSL names them,
// and a key Tapline does not work with says so and why, never a Go type.
func TestAlgorithmNames(t *testing.T) {
	for _, c := range []struct {
		cert, key, sig string
	}{
		{"ed448.crt", "Ed448 (not supported: Go's crypto has no Ed448", "ED448"},
		{"rsa-pss.crt", "RSA-PSS 2048 (not supported", "rsassaPss (sha256)"},
		{"dsa.crt", "DSA 2048 (not supported: DSA is obsolete", "dsa_with_SHA256"},
	} {
		cs := fieldCerts(t, c.cert)
		if got := certs.PublicKeyName(cs[0]); !strings.HasPrefix(got, c.key) {
			t.Errorf("%s: key %q, want %q...", c.cert, got, c.key)
		}
		if got := certs.SignatureName(cs[0].Raw); got != c.sig {
			t.Errorf("%s: signature %q, want %q", c.cert, got, c.sig)
		}
	}
	leaf, _ := certs.ParseCertificate(fixture(t, "leaf.crt"))
	if k, s := certs.PublicKeyName(leaf), certs.SignatureName(leaf.Raw); k != "RSA 2048" || s != "sha256WithRSAEncryption" {
		t.Errorf("leaf: %q %q", k, s)
	}
	for key, want := range map[string]string{"ed448.key": "Ed448", "rsa-pss.key": "RSA-PSS 2048", "dsa.key": "DSA 2048",
		"x25519.key": "X25519 (not supported: a key-agreement key", "secp256k1.key": "ECDSA secp256k1 (not supported"} {
		_, err := certs.ParsePrivateKey(field(t, key), nil)
		var uk *certs.UnsupportedKeyError
		if !errors.As(err, &uk) || !errors.Is(err, certs.ErrUnsupportedKey) || !strings.HasPrefix(uk.Name, want) {
			t.Errorf("%s: %v, want %q", key, err, want)
		}
	}
	if _, err := certs.ParseCertificates(field(t, "secp256k1.crt")); err == nil || !strings.Contains(err.Error(), "secp256k1 (not supported") {
		t.Errorf("secp256k1 certificate: %v", err)
	}
}

// TestCertificateRequestDER: a DER request is recognised and read.
func TestCertificateRequestDER(t *testing.T) {
	for _, f := range []string{"leaf-csr.der", "leaf-csr.pem"} {
		if k := certs.Detect(field(t, f)); k != certs.KindCSR {
			t.Errorf("%s: %s", f, k)
		}
		csr, err := certs.ParseCertificateRequest(field(t, f))
		if err != nil || csr.Subject.CommonName != host || csr.CheckSignature() != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := certs.ParseCertificateRequest(fixture(t, "leaf.crt")); !errors.Is(err, certs.ErrNoCSR) {
		t.Errorf("a certificate as a request: %v", err)
	}
}

// TestPKCS12TrustBundle: a certificate-only PKCS#12 file is a trust bundle:
// its certificates are read (MAC checked), as a chain or anchors in certs
// check; ParsePKCS12 says it has no key rather than failing obscurely.
func TestPKCS12TrustBundle(t *testing.T) {
	cases := []struct {
		file, pass string
		n          int
		err        error
		contains   string
	}{
		{"field/trust.p12", fixturePass, 2, nil, ""},
		{"field/trust-nopass.p12", "", 2, nil, ""},
		{"modern.pfx", fixturePass, 3, nil, ""},
		{"field/trust.p12", "wrong", 0, certs.ErrIncorrectPassphrase, ""},
		{"field/trust.p12", "", 0, certs.ErrPassphraseRequired, ""},
		{"field/trust-legacy.p12", fixturePass, 0, certs.ErrUnsupportedKey, "RC2"},
		{"leaf.crt", "", 0, certs.ErrNotPKCS12, ""},
	}
	for _, c := range cases {
		cs, err := certs.ParsePKCS12Certificates(fixture(t, c.file), []byte(c.pass))
		if len(cs) != c.n || c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) || !strings.Contains(fmt.Sprint(err), c.contains) {
			t.Errorf("%s %q: %d certificates, %v", c.file, c.pass, len(cs), err)
		}
	}
	if _, err := certs.ParsePKCS12(field(t, "trust.p12"), []byte(fixturePass)); !errors.Is(err, certs.ErrNoKey) || !strings.Contains(err.Error(), "trust bundle") {
		t.Errorf("ParsePKCS12 of a trust bundle: %v", err)
	}
	r := certs.CheckSensor(certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Chain: field(t, "trust.p12"), Passphrase: []byte(fixturePass)},
		certs.Target{Hostname: host}, now)
	if r.HasErrors() || len(r.Chain) != 3 {
		t.Errorf("trust bundle as the chain: %v, chain %d", r.Findings, len(r.Chain))
	}
}

// TestJunk: a certificate followed by junk is read, and the junk named.
func TestJunk(t *testing.T) {
	cs, junk, err := certs.ParseCertificatesTolerant(field(t, "leaf-junk.crt"))
	if err != nil || len(cs) != 1 || len(junk) != 2 || !strings.Contains(junk[0], "line 25") || !strings.Contains(junk[1], "CERTIFICATE block that does not end") {
		t.Fatalf("%d certificates, junk %q, %v", len(cs), junk, err)
	}
	if _, err := certs.ParseCertificates(field(t, "leaf-junk.crt")); err == nil {
		t.Error("the strict parser took a file with a block cut short")
	}
	for _, f := range []string{"chain-bag.pem", "chain.pem", "leaf.crt"} {
		if junk := certs.PEMJunk(fixture(t, f)); len(junk) != 0 {
			t.Errorf("%s: junk %q in a clean file", f, junk)
		}
	}
	der := append(fixture(t, "leaf.der"), 0x30, 0x05, 1, 2)
	if cs, junk, err := certs.ParseCertificatesTolerant(der); err != nil || len(cs) != 1 || len(junk) != 1 {
		t.Errorf("DER with trailing bytes: %d %q %v", len(cs), junk, err)
	}
	r := certs.CheckSensor(certs.Source{Cert: field(t, "leaf-junk.crt"), Key: fixture(t, "leaf.key"), Chain: fixture(t, "chain.pem")}, certs.Target{Hostname: host}, now)
	if r.HasErrors() || !slices.Contains(codes(r), certs.CodeJunk) {
		t.Errorf("findings %v", r.Findings)
	}
}

// TestSwappedFiles: a key given as the certificate, a certificate as the
// key, or both, say so.
func TestSwappedFiles(t *testing.T) {
	names := map[string]string{"cert": "x.crt", "key": "x.key"}
	cases := []struct {
		name       string
		cert, key  []byte
		code, want string
	}{
		{"both", field(t, "swapped.crt"), field(t, "swapped.key"), certs.CodeCertUnreadable, "look swapped"},
		{"key as certificate", fixture(t, "leaf.key"), fixture(t, "leaf.key"), certs.CodeCertUnreadable, "give it as the key file"},
		{"certificate as key", fixture(t, "leaf.crt"), fixture(t, "leaf.crt"), certs.CodeKeyUnreadable, "give it as the certificate"},
	}
	for _, c := range cases {
		r := certs.CheckSensor(certs.Source{Cert: c.cert, Key: c.key, Names: names}, certs.Target{Hostname: host}, now)
		n := 0
		for _, f := range r.Findings {
			if f.Code == certs.CodeCertUnreadable || f.Code == certs.CodeKeyUnreadable {
				n++
				if f.Code != c.code || !strings.Contains(f.Message, c.want) {
					t.Errorf("%s: %s %s", c.name, f.Code, f.Message)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d unreadable findings, want one: %v", c.name, n, r.Findings)
		}
	}
}

// TestPKCS12PassphraseHint: a wrong PKCS#12 passphrase has its own code
// and a fix that does not point at openssl pkey.
func TestPKCS12PassphraseHint(t *testing.T) {
	r := certs.CheckSensor(certs.Source{PFX: fixture(t, "modern.pfx"), Passphrase: []byte("wrong")}, certs.Target{Hostname: host}, now)
	if len(r.Findings) != 1 || r.Findings[0].Code != certs.CodePFXPassphrase || strings.Contains(r.Findings[0].Hint, "pkey") ||
		!strings.Contains(r.Findings[0].Hint, "openssl pkcs12") {
		t.Errorf("%+v", r.Findings)
	}
}
