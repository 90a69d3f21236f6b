package certs_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
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

// TestCRLScope reads issuingDistributionPoint (RFC 5280 §5.2.5) and the delta
// indicator (§5.2.4): scoped CRLs cover only their kind of certificate, a
// CRL of a named distribution point only the certificates that name it,
// reason partitions and indirect CRLs are usable lists, and a delta CRL
// never covers a certificate on its own (Verify combines it with its base).
func TestCRLScope(t *testing.T) {
	ca := mustCA(t)
	idp := func(v []byte) []pkix.Extension {
		return []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: v}}
	}
	h := time.Hour
	cases := []struct {
		name             string
		ext              []pkix.Extension
		coversCA         bool
		coversEndEntity  bool
		unusableContains string
	}{
		{"plain", nil, true, true, ""},
		{"only user certs", idp([]byte{0x30, 0x03, 0x81, 0x01, 0xff}), false, true, ""},
		{"only CA certs", idp([]byte{0x30, 0x03, 0x82, 0x01, 0xff}), true, false, ""},
		{"of a distribution point neither names", idp([]byte{0x30, 0x06, 0xa0, 0x04, 0xa0, 0x02, 0x86, 0x00}), false, false, ""},
		{"indirect", idp([]byte{0x30, 0x03, 0x84, 0x01, 0xff}), true, true, ""},
		{"some reasons", idp([]byte{0x30, 0x04, 0x83, 0x02, 0x06, 0x40}), true, true, ""},
		{"attribute certificates only", idp([]byte{0x30, 0x03, 0x85, 0x01, 0xff}), false, false, "attribute"},
		{"two kinds at once", idp([]byte{0x30, 0x06, 0x81, 0x01, 0xff, 0x82, 0x01, 0xff}), true, true, "two of"},
		{"delta", []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: []byte{0x02, 0x01, 0x01}}}, false, false, ""},
	}
	// A CA certificate and an end-entity certificate, both issued by the root.
	ee := mustCert(t, leafTemplate(host), ca.root, ca.rootKey, rsaKeys()[2].Public())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			crl := signCRL(t, ca.root, ca.rootKey, now.Add(-h), now.Add(h), c.ext)
			if c.unusableContains == "" {
				if got := crl.Covers(ca.inter); got != c.coversCA {
					t.Errorf("covers the CA certificate: %v", got)
				}
				if got := crl.Covers(ee); got != c.coversEndEntity {
					t.Errorf("covers the end entity: %v", got)
				}
			}
			err := crl.Check(ee, ca.root, now)
			var ce *certs.CRLError
			switch {
			case c.unusableContains == "" && err != nil:
				t.Errorf("Check: %v", err)
			case c.unusableContains != "" && (!errors.As(err, &ce) || ce.Problem != certs.CRLUnusable || !strings.Contains(err.Error(), c.unusableContains)):
				t.Errorf("Check: %v, want unusable (%s)", err, c.unusableContains)
			}
		})
	}
}
