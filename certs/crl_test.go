package certs_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

// TestParseCRLIndexOpenSSL: the fast index reads OpenSSL's CRL like
// crypto/x509 does, reason code included, and its signature still verifies.
func TestParseCRLIndexOpenSSL(t *testing.T) {
	inter, _ := certs.ParseCertificate(fixture(t, "inter.crt"))
	revoked, _ := certs.ParseCertificate(fixture(t, "revoked.crt"))
	leaf, _ := certs.ParseCertificate(fixture(t, "leaf.crt"))
	for _, f := range []string{"crl.pem", "crl.der"} {
		c, err := certs.ParseCRLIndex(fixture(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Len() != 1 || c.List.Number.Int64() != 1 {
			t.Errorf("%s: %d entries, number %v", f, c.Len(), c.List.Number)
		}
		e, ok := c.Lookup(revoked.SerialNumber)
		if !ok || e.Reason != 1 || e.Time.IsZero() {
			t.Errorf("%s: lookup %v %+v", f, ok, e)
		}
		if err := c.Check(leaf, inter, now); err != nil {
			t.Errorf("%s: leaf: %v", f, err)
		}
		var re *certs.RevokedError
		if err := c.Check(revoked, inter, now); !errors.As(err, &re) {
			t.Errorf("%s: revoked: %v", f, err)
		}
	}
}

// TestParseCRLIndexLarge: every listed serial is found, others are not, the
// header matches crypto/x509's parse, and a changed entry breaks the signature.
func TestParseCRLIndexLarge(t *testing.T) {
	ca := mustCA(t)
	var es []x509.RevocationListEntry
	for i := range 3000 {
		s := new(big.Int).Lsh(big.NewInt(int64(i*13+1)), uint(i%120)) // serials of 1..16 octets
		es = append(es, x509.RevocationListEntry{SerialNumber: s, RevocationTime: now.Add(-time.Duration(i) * time.Minute), ReasonCode: i % 6})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(9), ThisUpdate: now.Add(-time.Hour),
		NextUpdate: now.Add(time.Hour), RevokedCertificateEntries: es}, ca.inter, ca.interKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCRLIndex(der)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := certs.ParseCRL(der)
	if c.Len() != len(es) || !c.List.ThisUpdate.Equal(ref.ThisUpdate) || !c.List.NextUpdate.Equal(ref.NextUpdate) ||
		!bytes.Equal(c.List.RawIssuer, ref.RawIssuer) || c.List.Number.Cmp(ref.Number) != 0 {
		t.Fatalf("header differs from crypto/x509's")
	}
	if err := c.List.CheckSignatureFrom(ca.inter); err != nil {
		t.Fatalf("signature: %v", err)
	}
	for _, e := range es {
		got, ok := c.Lookup(e.SerialNumber)
		if !ok || !got.Time.Equal(e.RevocationTime.Truncate(time.Second)) || got.Reason != e.ReasonCode {
			t.Fatalf("serial %v: %v %+v", e.SerialNumber, ok, got)
		}
	}
	for _, s := range []int64{0, 2, 1 << 40, -1} {
		if _, ok := c.Lookup(big.NewInt(s)); ok {
			t.Errorf("serial %d found", s)
		}
	}
	if idx := certs.IndexCRL(ref); idx.Len() != len(es) {
		t.Errorf("IndexCRL: %d entries", idx.Len())
	}
	bad := bytes.Clone(der)
	i := bytes.Index(bad, es[100].SerialNumber.Bytes())
	bad[i] ^= 1
	if c2, err := certs.ParseCRLIndex(bad); err == nil && c2.List.CheckSignatureFrom(ca.inter) == nil {
		t.Error("a changed entry still verifies")
	}
}
