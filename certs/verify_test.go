package certs_test

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

// signCRL signs a CRL with (issuer, key); extra extensions are added as given.
func signCRL(t testing.TB, issuer *x509.Certificate, key crypto.Signer, this, next time.Time, extra []pkix.Extension, serials ...*big.Int) *certs.CRL {
	t.Helper()
	var es []x509.RevocationListEntry
	for _, s := range serials {
		es = append(es, x509.RevocationListEntry{SerialNumber: s, RevocationTime: this})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
		RevokedCertificateEntries: es, ExtraExtensions: extra}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := certs.ParseCRL(der)
	if err != nil {
		t.Fatal(err)
	}
	return certs.IndexCRL(rl)
}

func TestVerifyRevocation(t *testing.T) {
	ca := mustCA(t)
	k := ecKey(t)
	tmpl := leafTemplate(host)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	leaf := ca.issue(t, tmpl, k.Public())
	h := time.Hour
	leafCRL := signCRL(t, ca.inter, ca.interKey, now.Add(-h), now.Add(h), nil)
	interCRL := signCRL(t, ca.root, ca.rootKey, now.Add(-h), now.Add(h), nil)
	revokesLeaf := signCRL(t, ca.inter, ca.interKey, now.Add(-h), now.Add(h), nil, big.NewInt(3), leaf.SerialNumber)
	revokesInter := signCRL(t, ca.root, ca.rootKey, now.Add(-h), now.Add(h), nil, ca.inter.SerialNumber)
	stale := signCRL(t, ca.inter, ca.interKey, now.Add(-3*h), now.Add(-h), nil)
	critical := signCRL(t, ca.inter, ca.interKey, now.Add(-h), now.Add(h), []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}})
	// same issuer name, signed by another key
	forgedCRL := signCRL(t, mustCert(t, &x509.Certificate{Subject: ca.inter.Subject, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign}, nil, ca.rootKey, ca.rootKey.Public()), ca.rootKey, now.Add(-h), now.Add(h), nil)
	// an intermediate with the same key and name but no cRLSign: its CRLs must not be used
	noCRLSign := mustCert(t, &x509.Certificate{Subject: ca.inter.Subject, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, MaxPathLenZero: true}, ca.root, ca.rootKey, ca.interKey.Public())

	cases := []struct {
		name    string
		inter   *x509.Certificate
		crls    []*certs.CRL
		require bool
		dns     string
		ip      string
		want    string // substring of the error; "" for valid
	}{
		{name: "no crls", want: ""},
		{name: "no crls, required", require: true, want: "no CRL of"},
		{name: "both crls, required", crls: []*certs.CRL{leafCRL, interCRL}, require: true},
		{name: "leaf crl only, required", crls: []*certs.CRL{leafCRL}, require: true, want: "Issuing CA,O=Plant,C=DE: revocation status undetermined: no CRL of"},
		{name: "leaf revoked", crls: []*certs.CRL{revokesLeaf, interCRL}, want: "revoked"},
		{name: "intermediate revoked", crls: []*certs.CRL{leafCRL, revokesInter}, want: "revoked"},
		{name: "stale, not required", crls: []*certs.CRL{stale}},
		{name: "stale, required", crls: []*certs.CRL{stale, interCRL}, require: true, want: "nextUpdate"},
		{name: "unknown critical extension", crls: []*certs.CRL{critical, interCRL}, require: true, want: "unrecognised critical"},
		{name: "forged signature", crls: []*certs.CRL{forgedCRL, interCRL}, require: true, want: "not signed by"},
		{name: "issuer lacks cRLSign", inter: noCRLSign, crls: []*certs.CRL{leafCRL, interCRL}, require: true, want: "cRLSign"},
		{name: "dns match", dns: host},
		{name: "dns mismatch", dns: "sensor-02.plant.example", want: "sensor-02"},
		{name: "ip match", ip: "192.0.2.10"},
		{name: "ip mismatch", ip: "192.0.2.11", want: "192.0.2.11"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inter := ca.inter
			if c.inter != nil {
				inter = c.inter
			}
			o := certs.VerifyOptions{Anchors: []*x509.Certificate{ca.root}, Intermediates: []*x509.Certificate{inter},
				CRLs: c.crls, Time: now, RequireCRL: c.require, DNSName: c.dns}
			if c.ip != "" {
				o.IP = netip.MustParseAddr(c.ip)
			}
			chain, err := certs.Verify(leaf, o)
			if c.want == "" {
				if err != nil || len(chain) != 3 {
					t.Fatalf("err %v, chain %d", err, len(chain))
				}
				return
			}
			var ve *certs.VerifyError
			if err == nil || !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestVerifyPathProblems(t *testing.T) {
	ca := mustCA(t)
	k := ecKey(t)
	mk := func(edit func(*x509.Certificate)) *x509.Certificate {
		tmpl := leafTemplate(host)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if edit != nil {
			edit(tmpl)
		}
		return ca.issue(t, tmpl, k.Public())
	}
	cases := []struct {
		name    string
		leaf    *x509.Certificate
		anchors []*x509.Certificate
		at      time.Time
		strict  bool
		want    string
	}{
		{name: "valid", leaf: mk(nil)},
		{name: "expired", leaf: mk(nil), at: time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC), want: "expired"},
		{name: "clientAuth only", leaf: mk(func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), want: "usage"},
		{name: "no eku", leaf: mk(func(c *x509.Certificate) { c.ExtKeyUsage = nil })},
		// RFC 5280 §4.1.2.2 asks relying parties to take zero and negative
		// serials gracefully; the certificate profile (Strict) refuses them.
		{name: "zero serial", leaf: mk(func(c *x509.Certificate) { c.SerialNumber = big.NewInt(0) })},
		{name: "zero serial, strict", leaf: mk(func(c *x509.Certificate) { c.SerialNumber = big.NewInt(0) }), strict: true, want: "serial"},
		{name: "other anchor", leaf: mk(nil), anchors: []*x509.Certificate{mustCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Other"},
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, ca.rootKey, ca.rootKey.Public())}, want: "trust anchor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			anchors := c.anchors
			if anchors == nil {
				anchors = []*x509.Certificate{ca.root}
			}
			at := now
			if !c.at.IsZero() {
				at = c.at
			}
			_, err := certs.Verify(c.leaf, certs.VerifyOptions{Anchors: anchors, Intermediates: []*x509.Certificate{ca.inter}, Time: at, Strict: c.strict})
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

// TestVerifyOpenSSLChain validates the OpenSSL-made chain with its OpenSSL
// CRL: the leaf passes, the revoked certificate does not.
func TestVerifyOpenSSLChain(t *testing.T) {
	root, _ := certs.ParseCertificates(fixture(t, "root.crt"))
	inter, _ := certs.ParseCertificates(fixture(t, "inter.crt"))
	leaf, _ := certs.ParseCertificate(fixture(t, "leaf.crt"))
	revoked, _ := certs.ParseCertificate(fixture(t, "revoked.crt"))
	rl, _ := certs.ParseCRL(fixture(t, "crl.pem"))
	o := certs.VerifyOptions{Anchors: root, Intermediates: inter, CRLs: []*certs.CRL{certs.IndexCRL(rl)}, Time: now, DNSName: host}
	if _, err := certs.Verify(leaf, o); err != nil {
		t.Errorf("leaf: %v", err)
	}
	if _, err := certs.Verify(revoked, o); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked: %v", err)
	}
	o.RequireCRL = true // no CRL from the root for the intermediate
	if _, err := certs.Verify(leaf, o); err == nil {
		t.Error("RequireCRL without the root's CRL passed")
	}
}

// TestPathRevocation: what the CRLs say about each certificate of a valid
// path, so a caller can tell "checked" from "a CRL was given but not usable".
func TestPathRevocation(t *testing.T) {
	ca := mustCA(t)
	tmpl := leafTemplate(host)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	leaf := ca.issue(t, tmpl, ecKey(t).Public())
	chain := []*x509.Certificate{leaf, ca.inter, ca.root}
	h := time.Hour
	leafCRL := signCRL(t, ca.inter, ca.interKey, now.Add(-h), now.Add(h), nil)
	interCRL := signCRL(t, ca.root, ca.rootKey, now.Add(-h), now.Add(h), nil)
	stale := signCRL(t, ca.inter, ca.interKey, now.Add(-3*h), now.Add(-h), nil)
	revokes := signCRL(t, ca.inter, ca.interKey, now.Add(-h), now.Add(h), nil, leaf.SerialNumber)
	cases := []struct {
		name    string
		crls    []*certs.CRL
		want    [2]string // leaf, intermediate
		problem string    // substring of the leaf's Problem
	}{
		{"none", nil, [2]string{certs.StatusUnknown, certs.StatusUnknown}, ""},
		{"both", []*certs.CRL{leafCRL, interCRL}, [2]string{certs.StatusGood, certs.StatusGood}, ""},
		{"stale leaf CRL", []*certs.CRL{stale, interCRL}, [2]string{certs.StatusUnknown, certs.StatusGood}, "nextUpdate"},
		{"stale then fresh", []*certs.CRL{stale, leafCRL}, [2]string{certs.StatusGood, certs.StatusUnknown}, ""},
		{"good then revoked", []*certs.CRL{leafCRL, revokes}, [2]string{certs.StatusRevoked, certs.StatusUnknown}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := certs.PathRevocation(chain, certs.VerifyOptions{CRLs: c.crls, Time: now})
			if len(st) != 2 {
				t.Fatalf("%d statuses, want 2 (the anchor has none)", len(st))
			}
			for i, s := range st {
				if s.Status != c.want[i] {
					t.Errorf("%s: %s, want %s", s.Cert.Subject.CommonName, s.Status, c.want[i])
				}
			}
			if c.problem != "" && (st[0].Problem == nil || !strings.Contains(st[0].Problem.Error(), c.problem)) {
				t.Errorf("leaf problem %v, want %q", st[0].Problem, c.problem)
			}
			if c.problem == "" && st[0].Status != certs.StatusUnknown && st[0].Problem != nil {
				t.Errorf("decided, yet a problem: %v", st[0].Problem)
			}
		})
	}
}
