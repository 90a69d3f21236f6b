package certs_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/needs"
)

// now is the pinned time of every test: inside the fixtures' 2026..2036 validity.
var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// rsaKeys generates RSA-2048 keys once per test binary; tests that need RSA
// share them, the rest use P-256.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	var ks []*rsa.PrivateKey
	for range 3 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks = append(ks, k)
	}
	return ks
})

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testCA is a root (RSA) and an issuing intermediate built at test time.
type testCA struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
}

// mustCA builds root -> intermediate with RSA keys, valid 2026..2036.
func mustCA(t testing.TB) *testCA {
	t.Helper()
	ks := rsaKeys()
	c := &testCA{rootKey: ks[0], interKey: ks[1]}
	c.root = mustCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Test Root CA", Country: []string{"DE"}, Organization: []string{"Plant"}},
		IsCA:    true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, c.rootKey, c.rootKey.Public())
	c.inter = mustCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Test Issuing CA", Country: []string{"DE"}, Organization: []string{"Plant"}},
		IsCA:    true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLenZero: true,
	}, c.root, c.rootKey, c.interKey.Public())
	return c
}

// leafTemplate is a sensor certificate that passes every rule.
func leafTemplate(host string) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: host, Country: []string{"DE"}, Organization: []string{"Plant"},
			OrganizationalUnit: []string{"OT"}},
		DNSNames:    []string{host},
		IPAddresses: []net.IP{net.ParseIP("192.0.2.10")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

var serialCounter sync.Mutex
var nextSerial int64 = 100

// mustCert signs tmpl with parentKey (self-signed when parent is nil),
// filling serial and validity 2026..2036 unless set.
func mustCert(t testing.TB, tmpl, parent *x509.Certificate, parentKey crypto.Signer, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	serialCounter.Lock()
	nextSerial++
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(nextSerial)
	}
	serialCounter.Unlock()
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue signs a leaf from tmpl with the intermediate.
func (c *testCA) issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	return mustCert(t, tmpl, c.inter, c.interKey, pub)
}

func (c *testCA) chainPEM() []byte { return pemCerts(c.inter, c.root) }

func pemCerts(cs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func pemKey(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// rootCRL signs a CRL by the root revoking serials (the CA level above
// the intermediate).
func (c *testCA) rootCRL(t testing.TB, this, next time.Time, serials ...*big.Int) []byte {
	t.Helper()
	r := *c
	r.inter, r.interKey = c.root, c.rootKey
	return r.crl(t, this, next, serials...)
}

// crl signs a CRL by the intermediate revoking serials.
func (c *testCA) crl(t testing.TB, this, next time.Time, serials ...*big.Int) []byte {
	t.Helper()
	var es []x509.RevocationListEntry
	for _, s := range serials {
		es = append(es, x509.RevocationListEntry{SerialNumber: s, RevocationTime: this})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
		RevokedCertificateEntries: es}, c.inter, c.interKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func codes(r *certs.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

// needInput skips a test whose input (a Debian package's files, the shared
// conformance data) is missing, saying what it needs; under CI=true, where
// make test installs every input, the missing input fails the test instead.
func needInput(t testing.TB, what string, args ...any) {
	t.Helper()
	needs.Missing(t, "this test needs "+what, args...)
}
