package daemon

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// TestApplyRefusesUndeterminedRevocation: with certificate validation on, a
// CRL that does not decide the certificate's status (another CA's, the
// issuing CA's CRL of another partition), whether shipped in the bundle or
// fetched from the distribution point, leaves the status undetermined:
// apply refuses the bundle (TL-CERT-038) and nothing changes. A CRL under
// the issuing CA's name but another key is refused as not its (TL-CERT-023).
func TestApplyRefusesUndeterminedRevocation(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	cs := &crlServer{}
	cln := listen(t, cs)
	k := testkit.New(t, now, "http://"+cln.Addr().String()+"/ca.crl")
	other, err := ca.Init(ca.InitOptions{Name: "Other Plant Root CA", Country: "DE", Organization: "Other Plant", Intermediate: true, KeyType: ca.P256, Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	otherCRL, err := other.CRL(now, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A CA with the issuing CA's very name but its own key: a forgery.
	twin := testkit.New(t, now, "")
	twinCRL, err := twin.CA.CRL(now, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The issuing CA's own CRL, but for the partition part1.crl only (RFC
	// 5280 §5.2.5), which is not the certificates' distribution point.
	idp, _ := asn1.Marshal(struct {
		DP asn1.RawValue `asn1:"tag:0,explicit"`
	}{asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: mustDER(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte("http://crl.plant.example/part1.crl")})}})
	issuer, key := k.CA.Issuer()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(9), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: idp}}}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	partition := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	root := k.RootCRL(t)
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		shipped []byte // the CRL in the bundle; nil: fetched
		served  []byte
		code    string
	}{
		{"another CA's CRL in the bundle and at the distribution point", otherCRL, otherCRL, "TL-CERT-038"},
		{"another partition's CRL in the bundle", partition, nil, "TL-CERT-038"},
		{"another CA's CRL at the distribution point", nil, otherCRL, "TL-CERT-038"},
		{"another partition's CRL at the distribution point", nil, partition, "TL-CERT-038"},
		{"a look-alike CA's CRL at the distribution point", nil, twinCRL, "TL-CERT-023"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs.mu.Lock()
			cs.crl = c.served
			cs.mu.Unlock()
			// The root's CRL decides the issuing CA: the sensor certificate's
			// is the question.
			b := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", CertValidation: true, CRL: c.shipped, CRLs: [][]byte{root}})
			before, _ := testkit.TreeHash(e.Layout.Root)
			_, err := e.Apply(ctx, ApplyOptions{Path: b.Archive})
			var r *Refusal
			if !errors.As(err, &r) || r.Code != c.code {
				t.Fatalf("apply: %v, want the refusal %s", err, c.code)
			}
			if after, _ := testkit.TreeHash(e.Layout.Root); after != before {
				t.Fatal("a refused bundle changed the tree")
			}
		})
	}
}

func mustDER(t *testing.T, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
