package certs_test

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"net/netip"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

// benchCRL builds an RSA-2048 root -> intermediate -> leaf and a CRL of n
// entries from the intermediate (none of them the leaf).
func benchCRL(b *testing.B, n int) (*testCA, *x509.Certificate, []byte) {
	ca := mustCA(b)
	leaf := ca.issue(b, leafTemplate(host), rsaKeys()[2].Public())
	es := make([]x509.RevocationListEntry, n)
	for i := range es {
		es[i] = x509.RevocationListEntry{SerialNumber: big.NewInt(int64(1_000_000 + i*7)), RevocationTime: now.Add(-time.Hour)}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour),
		NextUpdate: now.Add(time.Hour), RevokedCertificateEntries: es}, ca.inter, ca.interKey)
	if err != nil {
		b.Fatal(err)
	}
	return ca, leaf, der
}

func benchVerify(b *testing.B, n int, parse bool) {
	ca, leaf, der := benchCRL(b, n)
	rl, err := certs.ParseCRL(der)
	if err != nil {
		b.Fatal(err)
	}
	idx := certs.IndexCRL(rl)
	o := certs.VerifyOptions{Anchors: []*x509.Certificate{ca.root}, Intermediates: []*x509.Certificate{ca.inter}, Time: now, DNSName: host}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c := idx
		if parse {
			var err error
			if c, err = certs.ParseCRLIndex(der); err != nil {
				b.Fatal(err)
			}
		}
		o.CRLs = []*certs.CRL{c}
		if _, err := certs.Verify(leaf, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCRL10k: full path validation (RSA-2048 leaf, intermediate,
// root) with a CRL of 10,000 entries already parsed and indexed.
func BenchmarkVerifyCRL10k(b *testing.B)  { benchVerify(b, 10_000, false) }
func BenchmarkVerifyCRL100k(b *testing.B) { benchVerify(b, 100_000, false) }

// BenchmarkVerifyCRL10kParse includes parsing and indexing the CRL each time.
func BenchmarkVerifyCRL10kParse(b *testing.B)  { benchVerify(b, 10_000, true) }
func BenchmarkVerifyCRL100kParse(b *testing.B) { benchVerify(b, 100_000, true) }

// BenchmarkCRLLookup100k is one revocation lookup in a 100,000-entry index.
func BenchmarkCRLLookup100k(b *testing.B) {
	_, _, der := benchCRL(b, 100_000)
	idx, err := certs.ParseCRLIndex(der)
	if err != nil {
		b.Fatal(err)
	}
	s := big.NewInt(1_000_000 + 7*54_321)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, ok := idx.Lookup(s); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkCheckSensor is the whole sensor check of the OpenSSL bundle.
func BenchmarkCheckSensor(b *testing.B) {
	src := certs.Source{Cert: fixture(b, "leaf.crt"), Key: fixture(b, "leaf.key"), Chain: fixture(b, "chain.pem"), CRLs: [][]byte{fixture(b, "crl.der")}}
	b.ReportAllocs()
	for b.Loop() {
		if r := certs.CheckSensor(src, certs.Target{Hostname: host, CRLValidation: true}, now); r.HasErrors() {
			b.Fatal(r.Findings)
		}
	}
}

// BenchmarkCheckSensorCRL10k is the whole sensor check from the files' bytes
// (parse the RSA-2048 leaf, its key, the intermediate + root chain and a
// 10,000-entry CRL, then every rule, path building and revocation included).
func BenchmarkCheckSensorCRL10k(b *testing.B) {
	ca, leaf, der := benchCRL(b, 10_000)
	src := certs.Source{Cert: pemCerts(leaf), Key: pemKey(b, rsaKeys()[2]), Chain: ca.chainPEM(), CRLs: [][]byte{der}}
	t := certs.Target{Hostname: host, IP: netip.MustParseAddr("192.0.2.10")}
	if r := certs.CheckSensor(src, t, now); r.HasErrors() || len(r.Chain) != 3 {
		b.Fatalf("findings %v, chain %d", r.Findings, len(r.Chain))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := certs.CheckSensor(src, t, now); r.HasErrors() {
			b.Fatal(r.Findings)
		}
	}
}
