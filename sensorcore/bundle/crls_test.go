package bundle

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCRL signs an empty CRL of a throw-away CA named cn (DER).
func testCRL(t *testing.T, cn string) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: created.Add(-time.Hour), NotAfter: created.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: created, NextUpdate: created.Add(time.Hour)}, ca, k)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

func pemCRL(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}) }

// TestCRLFile: one CRL travels as crl.crl byte for byte (DER or PEM), as
// every appliance reads it; two or more, in separate files or one PEM file,
// travel as crls.pem with every CRL; an unreadable file is refused naming it.
func TestCRLFile(t *testing.T) {
	inter, root := testCRL(t, "Issuing CA"), testCRL(t, "Root CA")
	if r, data, err := CRLFile([][]byte{inter}); err != nil || r != RoleCRL || !bytes.Equal(data, inter) {
		t.Fatalf("one DER CRL: %s %v", r, err)
	}
	if r, data, err := CRLFile([][]byte{pemCRL(inter)}); err != nil || r != RoleCRL || !bytes.Equal(data, pemCRL(inter)) {
		t.Fatalf("one PEM CRL: %s %v", r, err)
	}
	want := append(pemCRL(inter), pemCRL(root)...)
	for name, in := range map[string][][]byte{"two files": {inter, pemCRL(root)}, "one file of two": {want}} {
		r, data, err := CRLFile(in)
		if err != nil || r != RoleCRLs || !bytes.Equal(data, want) {
			t.Fatalf("%s: %s %v\n%s", name, r, err, data)
		}
	}
	if r, _, err := CRLFile(nil); err != nil || r != "" {
		t.Fatalf("no CRL: %q %v", r, err)
	}
	if _, _, err := CRLFile([][]byte{inter, []byte("-----BEGIN X509 CRL-----\ncut short")}); err == nil || !strings.Contains(err.Error(), "CRL file 2") {
		t.Fatalf("a cut-short second file: %v", err)
	}
}

// TestCRLsRole: a bundle with crls.pem opens and hands its CRLs to apply;
// one that lists crl.crl and crls.pem both is refused; and a manifest
// parser that does not know the crls role (an appliance that predates it)
// refuses the bundle as a whole instead of checking only some CRLs.
func TestCRLsRole(t *testing.T) {
	files := sampleFiles()
	both := append(pemCRL(testCRL(t, "Issuing CA")), pemCRL(testCRL(t, "Root CA"))...)
	files[RoleCRLs] = both
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := Write(dir, Meta{Sensor: Sensor{Name: "sensor-01", ID: "S-1"}, CreatedAt: created, Creator: "test"}, files); err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if data, name := b.CRLs(); !bytes.Equal(data, both) || name != "crls.pem" {
		t.Fatalf("CRLs: %s", name)
	}
	files[RoleCRL] = testCRL(t, "Issuing CA")
	if _, err := Write(filepath.Join(t.TempDir(), "b"), Meta{Sensor: Sensor{Name: "sensor-01"}, CreatedAt: created, Creator: "test"}, files); err == nil {
		t.Fatal("a bundle with crl.crl and crls.pem was written")
	}
	raw := b.raw
	if _, err := ParseManifest(bytes.Replace(raw, []byte(`"role": "crls"`), []byte(`"role": "crl"`), 1)); err == nil {
		t.Fatal("a manifest naming crls.pem under the crl role was accepted")
	}
	delete(fileNames, RoleCRLs)
	defer func() { fileNames[RoleCRLs] = "crls.pem" }()
	_, err = ParseManifest(raw)
	var be *Error
	if !errors.As(err, &be) || be.Code != CodeMalformed || !strings.Contains(err.Error(), `unknown role "crls"`) {
		t.Fatalf("a parser without the crls role: %v", err)
	}
}
