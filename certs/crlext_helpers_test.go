package certs_test

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"math/bits"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tapline/tapline/certs"
)

// Reason flags (RFC 5280 §4.2.1.13 ReasonFlags), as bit numbers.
const (
	rKeyCompromise = 1 << iota
	rCACompromise
	rAffiliationChanged
	rSuperseded
	rCessation
	rHold
	rPrivilegeWithdrawn
	rAACompromise
)

// dpName is a DistributionPointName: full URIs, or a name relative to the
// CRL issuer (one CN attribute).
type dpName struct {
	uris     []string
	dirNames []pkix.Name
	relative string // CN of nameRelativeToCRLIssuer
}

func (n dpName) empty() bool { return len(n.uris) == 0 && len(n.dirNames) == 0 && n.relative == "" }

func (n dpName) add(t testing.TB, b *cryptobyte.Builder) {
	if n.empty() {
		return
	}
	b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		if n.relative != "" {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddBytes(mustMarshal(t, pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: n.relative}))
			})
			return
		}
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { addGeneralNames(t, b, n.uris, n.dirNames) })
	})
}

func addGeneralNames(t testing.TB, b *cryptobyte.Builder, uris []string, dirNames []pkix.Name) {
	for _, d := range dirNames {
		b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddBytes(mustMarshal(t, d.ToRDNSequence()))
		})
	}
	for _, u := range uris {
		b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// addReasons writes ReasonFlags with the IMPLICIT tag n.
func addReasons(b *cryptobyte.Builder, n int, mask int) {
	if mask == 0 {
		return
	}
	b.AddASN1(cbasn1.Tag(n).ContextSpecific(), func(b *cryptobyte.Builder) {
		// mask bit i-1 is ReasonFlags bit i (bit 0, unused, is never set);
		// ReasonFlags bit i is 0x8000 >> i of the first two content octets.
		var v uint16
		for i := 1; i <= 8; i++ {
			if mask&(1<<(i-1)) != 0 {
				v |= 0x8000 >> i
			}
		}
		if v&0xff == 0 { // DER: no trailing zero bits (X.690 §11.2.2)
			b.AddBytes([]byte{byte(bits.TrailingZeros8(byte(v >> 8))), byte(v >> 8)})
		} else {
			b.AddBytes([]byte{byte(bits.TrailingZeros8(byte(v))), byte(v >> 8), byte(v)})
		}
	})
}

// distributionPoint is one DistributionPoint of a certificate's
// cRLDistributionPoints (RFC 5280 §4.2.1.13).
type distributionPoint struct {
	name      dpName
	reasons   int
	crlIssuer []pkix.Name
}

// crlDPExt builds a cRLDistributionPoints extension.
func crlDPExt(t testing.TB, dps ...distributionPoint) pkix.Extension {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, dp := range dps {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				dp.name.add(t, b)
				addReasons(b, 1, dp.reasons)
				if len(dp.crlIssuer) > 0 {
					b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { addGeneralNames(t, b, nil, dp.crlIssuer) })
				}
			})
		}
	})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 31}, Value: must(t, b)}
}

// issuingDP describes an issuingDistributionPoint (RFC 5280 §5.2.5).
type issuingDP struct {
	name             dpName
	onlyUser, onlyCA bool
	reasons          int
	indirect         bool
}

func idpExt(t testing.TB, p issuingDP) pkix.Extension {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		p.name.add(t, b)
		for i, on := range []bool{false, p.onlyUser, p.onlyCA} {
			if on {
				b.AddASN1(cbasn1.Tag(i).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
			}
		}
		addReasons(b, 3, p.reasons)
		if p.indirect {
			b.AddASN1(cbasn1.Tag(4).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
		}
	})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: must(t, b)}
}

// deltaExt is the deltaCRLIndicator naming base (RFC 5280 §5.2.4).
func deltaExt(t testing.TB, base int64) pkix.Extension {
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: mustMarshal(t, big.NewInt(base))}
}

func must(t testing.TB, b cryptobyte.Builder) []byte {
	t.Helper()
	v, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// revoke is one CRL entry: serial, reason code (0: none) and, for an
// indirect CRL, the certificate issuer it is about.
type revoke struct {
	serial *big.Int
	reason int
	issuer *pkix.Name
}

// crlSpec is a CRL to sign.
type crlSpec struct {
	number     int64
	this, next time.Time
	ext        []pkix.Extension
	entries    []revoke
}

// makeCRL signs spec with (issuer, key) and indexes it.
func makeCRL(t testing.TB, issuer *x509.Certificate, key crypto.Signer, spec crlSpec) *certs.CRL {
	t.Helper()
	c, err := certs.ParseCRLIndex(makeCRLDER(t, issuer, key, spec))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func makeCRLDER(t testing.TB, issuer *x509.Certificate, key crypto.Signer, spec crlSpec) []byte {
	t.Helper()
	if spec.number == 0 {
		spec.number = 1
	}
	if spec.this.IsZero() {
		spec.this, spec.next = now.Add(-time.Hour), now.Add(24*time.Hour)
	}
	var es []x509.RevocationListEntry
	for _, e := range spec.entries {
		re := x509.RevocationListEntry{SerialNumber: e.serial, RevocationTime: spec.this, ReasonCode: e.reason}
		if e.issuer != nil {
			var b cryptobyte.Builder
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addGeneralNames(t, b, nil, []pkix.Name{*e.issuer}) })
			re.ExtraExtensions = append(re.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 29}, Critical: true, Value: must(t, b)})
		}
		es = append(es, re)
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(spec.number), ThisUpdate: spec.this,
		NextUpdate: spec.next, RevokedCertificateEntries: es, ExtraExtensions: spec.ext}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
