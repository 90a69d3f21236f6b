package certs_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

// Outcomes of a revocation check through Verify with RequireCRL.
const (
	outValid        = "valid"
	outRevoked      = "revoked"
	outUndetermined = "undetermined"
)

// TestRevocationNeverFailsOpen makes the attacks on CRL processing: a CRL
// that is the issuer's but about another partition, another set of reasons,
// a delta dropped on the floor, a CRL signed by a look-alike of the issuer.
// Each must leave the certificate revoked or its status undetermined, never
// "not revoked" (RFC 5280 §6.3.3).
func TestRevocationNeverFailsOpen(t *testing.T) {
	ca := mustCA(t)
	k := ecKey(t)
	part := func(n string) dpName { return dpName{uris: []string{"http://crl.plant.example/" + n + ".crl"}} }
	leafWith := func(dps ...distributionPoint) *x509.Certificate {
		tmpl := leafTemplate(host)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if len(dps) > 0 {
			tmpl.ExtraExtensions = []pkix.Extension{crlDPExt(t, dps...)}
		}
		return ca.issue(t, tmpl, k.Public())
	}
	inPart2 := leafWith(distributionPoint{name: part("part2")})
	relative2 := leafWith(distributionPoint{name: dpName{relative: "part2"}})
	plain := leafWith()
	rootCRL := makeCRL(t, ca.root, ca.rootKey, crlSpec{})
	byInter := func(spec crlSpec) *certs.CRL { return makeCRL(t, ca.inter, ca.interKey, spec) }
	listing := func(leaf *x509.Certificate, reason int) []revoke {
		return []revoke{{serial: leaf.SerialNumber, reason: reason}}
	}
	idp := func(p issuingDP) []pkix.Extension { return []pkix.Extension{idpExt(t, p)} }

	// Another CA under the same root, and a look-alike of the issuing CA
	// (same name, own key) under a root that is not trusted.
	other := mustCert(t, caTmpl("Other Issuing CA", 0), ca.root, ca.rootKey, rsaKeys()[2].Public())
	strangerKey := ecKey(t)
	strangerRoot := mustCert(t, caTmpl("Stranger Root", -1), nil, strangerKey, strangerKey.Public())
	lookalikeKey := ecKey(t)
	lookalike := mustCert(t, &x509.Certificate{Subject: ca.inter.Subject, KeyUsage: x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 1, 1}}, strangerRoot, strangerKey, lookalikeKey.Public())
	// ... and one that also copies the issuing CA's key identifier, so its
	// CRLs claim to come from the issuing CA's key.
	twin := mustCert(t, &x509.Certificate{Subject: ca.inter.Subject, KeyUsage: x509.KeyUsageCRLSign, SubjectKeyId: ca.inter.SubjectKeyId}, strangerRoot, strangerKey, lookalikeKey.Public())
	// A separate CRL-signing certificate of the issuing CA under the same root (RFC 5280 §6.3.3 (f)).
	signerKey := ecKey(t)
	signer := mustCert(t, &x509.Certificate{Subject: ca.inter.Subject, KeyUsage: x509.KeyUsageCRLSign, SubjectKeyId: []byte{2, 2, 2}}, ca.root, ca.rootKey, signerKey.Public())

	cases := []struct {
		name   string
		leaf   *x509.Certificate
		crls   []*certs.CRL
		inters []*x509.Certificate
		want   string
	}{
		{name: "partition of another distribution point", leaf: inPart2,
			crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{name: part("part1")})})}, want: outUndetermined},
		{name: "own partition lists it", leaf: inPart2,
			crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{name: part("part2")}), entries: listing(inPart2, 1)})}, want: outRevoked},
		{name: "own partition", leaf: inPart2, crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{name: part("part2")})})}, want: outValid},
		{name: "partition for a certificate without distribution point", leaf: plain,
			crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{name: part("part1")})})}, want: outUndetermined},
		{name: "relative name of another partition", leaf: relative2,
			crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{name: dpName{relative: "part1"}})})}, want: outUndetermined},
		{name: "relative name of its partition lists it", leaf: relative2,
			crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{name: dpName{relative: "part2"}}), entries: listing(relative2, 1)})}, want: outRevoked},
		{name: "relative name of its partition", leaf: relative2,
			crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{name: dpName{relative: "part2"}})})}, want: outValid},
		{name: "full CRL covers every partition", leaf: inPart2, crls: []*certs.CRL{byInter(crlSpec{entries: listing(inPart2, 0)})}, want: outRevoked},
		{name: "only some reasons", leaf: plain,
			crls: []*certs.CRL{byInter(crlSpec{ext: idp(issuingDP{reasons: rKeyCompromise | rCACompromise})})}, want: outUndetermined},
		{name: "reasons split over two CRLs", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{ext: idp(issuingDP{reasons: rKeyCompromise | rCACompromise})}),
			byInter(crlSpec{ext: idp(issuingDP{reasons: 0xff &^ (rKeyCompromise | rCACompromise)})})}, want: outValid},
		{name: "reasons split, the other one lists it", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{ext: idp(issuingDP{reasons: rKeyCompromise | rCACompromise})}),
			byInter(crlSpec{ext: idp(issuingDP{reasons: 0xff &^ (rKeyCompromise | rCACompromise)}), entries: listing(plain, 4)})}, want: outRevoked},
		{name: "delta lists it", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{number: 1}),
			byInter(crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}, entries: listing(plain, 1)})}, want: outRevoked},
		{name: "delta lists it, given first", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}, entries: listing(plain, 1)}),
			byInter(crlSpec{number: 1})}, want: outRevoked},
		{name: "delta without its base", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}})}, want: outUndetermined},
		{name: "delta for a newer base", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{number: 1}),
			byInter(crlSpec{number: 3, ext: []pkix.Extension{deltaExt(t, 2)}})}, want: outUndetermined},
		{name: "delta older than the complete CRL", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{number: 3}),
			byInter(crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}, entries: listing(plain, 6)})}, want: outValid},
		{name: "delta of another scope", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{number: 1}),
			byInter(crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1), idpExt(t, issuingDP{onlyCA: true})}})}, want: outValid},
		{name: "delta of the issuer's other key lists it", leaf: plain, inters: []*x509.Certificate{signer}, crls: []*certs.CRL{
			byInter(crlSpec{number: 1}),
			makeCRL(t, signer, signerKey, crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}, entries: listing(plain, 1)})}, want: outRevoked},
		{name: "hold on the complete CRL", leaf: plain, crls: []*certs.CRL{byInter(crlSpec{entries: listing(plain, 6)})}, want: outRevoked},
		{name: "hold released by the delta", leaf: plain, crls: []*certs.CRL{
			byInter(crlSpec{number: 1, entries: listing(plain, 6)}),
			byInter(crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}, entries: listing(plain, 8)})}, want: outValid},
		{name: "delta signed by a look-alike claiming the issuer's key", leaf: plain, inters: []*x509.Certificate{twin}, crls: []*certs.CRL{
			byInter(crlSpec{number: 1}),
			makeCRL(t, twin, lookalikeKey, crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}})}, want: outUndetermined},
		// A delta naming another key of the issuer belongs to that key's CRLs
		// (RFC 5280 §6.3.3 (c)(3)): it is not combined with this one.
		{name: "delta of another key", leaf: plain, inters: []*x509.Certificate{lookalike}, crls: []*certs.CRL{
			byInter(crlSpec{number: 1}),
			makeCRL(t, lookalike, lookalikeKey, crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}, entries: listing(plain, 1)})}, want: outValid},
		{name: "CRL of another issuer", leaf: plain, inters: []*x509.Certificate{other},
			crls: []*certs.CRL{makeCRL(t, other, rsaKeys()[2], crlSpec{})}, want: outUndetermined},
		{name: "indirect CRL the certificate does not name", leaf: plain, inters: []*x509.Certificate{other},
			crls: []*certs.CRL{makeCRL(t, other, rsaKeys()[2], crlSpec{ext: idp(issuingDP{indirect: true})})}, want: outUndetermined},
		{name: "CRL signed by a look-alike under another root", leaf: plain, inters: []*x509.Certificate{lookalike, strangerRoot},
			crls: []*certs.CRL{makeCRL(t, lookalike, lookalikeKey, crlSpec{})}, want: outUndetermined},
		{name: "separate CRL-signing key lists it", leaf: plain, inters: []*x509.Certificate{signer},
			crls: []*certs.CRL{makeCRL(t, signer, signerKey, crlSpec{entries: listing(plain, 1)})}, want: outRevoked},
		{name: "separate CRL-signing key", leaf: plain, inters: []*x509.Certificate{signer},
			crls: []*certs.CRL{makeCRL(t, signer, signerKey, crlSpec{})}, want: outValid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := certs.VerifyOptions{Anchors: []*x509.Certificate{ca.root}, Intermediates: append([]*x509.Certificate{ca.inter}, c.inters...),
				CRLs: append(slices.Clone(c.crls), rootCRL), Time: now, RequireCRL: true}
			_, err := certs.Verify(c.leaf, o)
			var re *certs.RevokedError
			got := outValid
			switch {
			case errors.As(err, &re):
				got = outRevoked
			case err != nil:
				got = outUndetermined
			}
			if got != c.want {
				t.Fatalf("%s (%v), want %s", got, err, c.want)
			}
		})
	}
}

// TestCheckSensorRevocationUndetermined: with the sensor's certificate
// validation on, a CRL that does not cover the certificate (another issuer,
// another partition, only a delta) leaves its status undetermined, which the
// sensor refuses: an error, so apply blocks. A delta that lists it revokes it.
func TestCheckSensorRevocationUndetermined(t *testing.T) {
	other := mustCA(t)
	otherInter := mustCert(t, caTmpl("Other Issuing CA", 0), other.root, other.rootKey, rsaKeys()[2].Public())
	withCRLs := func(mk func(leaf *x509.Certificate) [][]byte) func(*certs.Source) {
		return func(s *certs.Source) {
			leaf, _ := certs.ParseCertificate(s.Cert)
			s.CRLs = mk(leaf)
		}
	}
	validation := func(tg *certs.Target) { tg.CRLValidation = true }
	dp2 := func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{crlDPExt(t, distributionPoint{name: dpName{uris: []string{"http://crl.plant.example/part2.crl"}}})}
	}
	runRuleCases(t, []ruleCase{
		{name: "CRL of another issuer", target: validation, src: withCRLs(func(*x509.Certificate) [][]byte {
			return [][]byte{makeCRLDER(t, otherInter, rsaKeys()[2], crlSpec{})}
		}), want: certs.CodeCRLUndetermined},
		{name: "CRL of another issuer, validation off", src: withCRLs(func(*x509.Certificate) [][]byte {
			return [][]byte{makeCRLDER(t, otherInter, rsaKeys()[2], crlSpec{})}
		}), want: certs.CodeCRLNoneForIssuer, notWant: []string{certs.CodeCRLUndetermined}},
		{name: "partition of another distribution point", cert: dp2, target: validation, src: withCRLs(func(*x509.Certificate) [][]byte {
			return [][]byte{makeCRLDER(t, mustCAFor(t).inter, mustCAFor(t).interKey, crlSpec{ext: []pkix.Extension{
				idpExt(t, issuingDP{name: dpName{uris: []string{"http://crl.plant.example/part1.crl"}}})}})}
		}), want: certs.CodeCRLUndetermined},
		{name: "only a delta", target: validation, src: withCRLs(func(*x509.Certificate) [][]byte {
			return [][]byte{makeCRLDER(t, mustCAFor(t).inter, mustCAFor(t).interKey, crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}})}
		}), want: certs.CodeCRLUndetermined},
		{name: "delta lists it", target: validation, src: withCRLs(func(leaf *x509.Certificate) [][]byte {
			ca := mustCAFor(t)
			return [][]byte{makeCRLDER(t, ca.inter, ca.interKey, crlSpec{number: 1}),
				makeCRLDER(t, ca.inter, ca.interKey, crlSpec{number: 2, ext: []pkix.Extension{deltaExt(t, 1)}, entries: []revoke{{serial: leaf.SerialNumber, reason: 1}}})}
		}), want: certs.CodeRevoked},
		{name: "its own CRL and the root's", target: validation, src: withCRLs(func(*x509.Certificate) [][]byte {
			ca := mustCAFor(t)
			return [][]byte{ca.crl(t, now.Add(-24*time.Hour), now.Add(24*time.Hour), big.NewInt(5)), ca.rootCRL(t, now.Add(-24*time.Hour), now.Add(24*time.Hour))}
		}), notWant: []string{certs.CodeCRLUndetermined, certs.CodeRevoked, certs.CodeCRLNoneForIssuer}},
		// crl_check_all: the intermediate's status needs the root's CRL; it
		// names no distribution point, so the sensor cannot fetch one.
		{name: "its own CRL, not the root's", target: validation, src: withCRLs(func(*x509.Certificate) [][]byte {
			return [][]byte{mustCAFor(t).crl(t, now.Add(-24*time.Hour), now.Add(24*time.Hour), big.NewInt(5))}
		}), want: certs.CodeCRLUndetermined, notWant: []string{certs.CodeRevoked}},
	})
}
