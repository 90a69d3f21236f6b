package certs_test

import (
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

func TestRuleCRL(t *testing.T) {
	other := mustCA(t)
	day := 24 * time.Hour
	serial := big.NewInt(777001)
	withCRL := func(make func() []byte) func(*certs.Source) {
		return func(s *certs.Source) { s.CRLs = [][]byte{make()} }
	}
	runRuleCases(t, []ruleCase{
		{name: "no crl", notWant: []string{certs.CodeRevoked, certs.CodeCRLNoneForIssuer, certs.CodeCRLNotGiven}},
		{name: "no crl, validation on", target: func(tg *certs.Target) { tg.CRLValidation = true }, want: certs.CodeCRLNotGiven},
		{name: "current, not listed", src: withCRL(func() []byte { return mustCAFor(t).crl(t, now.Add(-day), now.Add(day), big.NewInt(5)) }),
			notWant: []string{certs.CodeRevoked, certs.CodeCRLNotCurrent, certs.CodeCRLSignature}},
		{name: "revoked", cert: setSerial(serial), src: withCRL(func() []byte { return mustCAFor(t).crl(t, now.Add(-day), now.Add(day), serial) }),
			want: certs.CodeRevoked},
		{name: "stale", src: withCRL(func() []byte { return mustCAFor(t).crl(t, now.Add(-3*day), now.Add(-day)) }), want: certs.CodeCRLNotCurrent},
		{name: "future", src: withCRL(func() []byte { return mustCAFor(t).crl(t, now.Add(day), now.Add(3*day)) }), want: certs.CodeCRLNotCurrent},
		{name: "openssl crl of another CA", src: withCRL(func() []byte { return fixture(t, "crl.pem") }), want: certs.CodeCRLNoneForIssuer},
		{name: "same name, other key", src: withCRL(func() []byte { return forged(t, other) }), want: certs.CodeCRLSignature},
		// Without the chain the signature cannot be checked: a warning, not a
		// claim that the CRL is forged; a listing is still an error.
		{name: "no chain", src: func(s *certs.Source) {
			s.Chain = nil
			s.CRLs = [][]byte{mustCAFor(t).crl(t, now.Add(-day), now.Add(day), big.NewInt(5))}
		}, want: certs.CodeCRLUnverifiable, notWant: []string{certs.CodeCRLSignature, certs.CodeRevoked}},
		{name: "no chain, listed", cert: setSerial(serial), src: func(s *certs.Source) {
			s.Chain = nil
			s.CRLs = [][]byte{mustCAFor(t).crl(t, now.Add(-day), now.Add(day), serial)}
		}, want: certs.CodeRevoked, notWant: []string{certs.CodeCRLSignature}},
	})
}

// mustCAFor returns a CA whose intermediate is the one runRuleCases signs
// with: same keys and same subject, so CRLs verify.
func mustCAFor(t testing.TB) *testCA { return mustCA(t) }

// forged signs a CRL with the root's key under the intermediate's name.
func forged(t testing.TB, c *testCA) []byte {
	f := *c
	f.interKey = c.rootKey
	return f.crl(t, now.Add(-time.Hour), now.Add(time.Hour))
}

func setSerial(s *big.Int) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.SerialNumber = new(big.Int).Set(s) }
}
