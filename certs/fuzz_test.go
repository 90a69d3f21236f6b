package certs_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/certs"
)

// seed adds every testdata fixture to the corpus, the field files too.
func seed(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	more, _ := filepath.Glob(filepath.Join("testdata", "field", "*"))
	files = append(files, more...)
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
}

// Parsers must never panic, whatever the bytes; what they accept must be
// usable.
func FuzzParseCertificates(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := certs.ParseCertificates(data)
		if err == nil && len(cs) == 0 {
			t.Fatal("no error and no certificate")
		}
		_ = certs.Detect(data)
		// The tolerant reader takes at least what the strict one takes.
		tc, _, terr := certs.ParseCertificatesTolerant(data)
		if err == nil && (terr != nil || len(tc) < len(cs)) {
			t.Fatalf("tolerant reader refused what the strict one read: %v", terr)
		}
		if _, err := certs.ParseCertificateRequest(data); err == nil {
			_ = certs.Detect(data)
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, pass := range [][]byte{nil, []byte("Sensor.Pass-1")} {
			k, err := certs.ParsePrivateKey(data, pass)
			if err == nil && k == nil {
				t.Fatal("no error and no key")
			}
		}
	})
}

func FuzzParsePKCS12(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := certs.ParsePKCS12(data, []byte("Sensor.Pass-1"))
		if err == nil && (p.Key == nil || p.Leaf == nil) {
			t.Fatal("no error and nothing parsed")
		}
		for _, pass := range [][]byte{nil, []byte("Sensor.Pass-1")} {
			cs, err := certs.ParsePKCS12Certificates(data, pass)
			if err == nil && len(cs) == 0 {
				t.Fatal("no error and no certificate")
			}
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fast index may refuse more than crypto/x509 (trailing bytes),
		// never less, and must agree on the entries of what it accepts.
		fast, ferr := certs.ParseCRLIndex(data)
		rl, err := certs.ParseCRL(data)
		if ferr == nil && err != nil {
			t.Fatalf("ParseCRLIndex accepts what crypto/x509 refuses: %v", err)
		}
		if err != nil {
			return
		}
		c := certs.IndexCRL(rl)
		for _, e := range rl.RevokedCertificateEntries {
			if _, ok := c.Lookup(e.SerialNumber); !ok && c.Len() > 0 {
				t.Fatalf("serial %v listed but not found", e.SerialNumber)
			}
		}
		if ferr != nil {
			return
		}
		if fast.Len() != len(rl.RevokedCertificateEntries) {
			t.Fatalf("fast index has %d entries, crypto/x509 %d", fast.Len(), len(rl.RevokedCertificateEntries))
		}
		for _, e := range rl.RevokedCertificateEntries {
			if _, ok := fast.Lookup(e.SerialNumber); !ok {
				t.Fatalf("serial %v listed but not found by the fast index", e.SerialNumber)
			}
		}
	})
}

// FuzzCheckSensor feeds the same bytes as every input of a bundle.
func FuzzCheckSensor(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := certs.CheckSensor(certs.Source{Cert: data, Key: data, Chain: data, CRLs: [][]byte{data}}, certs.Target{Hostname: host, CRLValidation: true}, now)
		if r == nil {
			t.Fatal("nil report")
		}
	})
}

// FuzzCRLScope feeds hostile cRLDistributionPoints and
// issuingDistributionPoint values to the revocation check: it must never
// panic, and a CRL whose scope does not parse must not make the status good.
func FuzzCRLScope(f *testing.F) {
	// An ECDSA CA, so each execution signs quickly.
	rootKey, interKey, k := ecKey(f), ecKey(f), ecKey(f)
	ca := &testCA{rootKey: rootKey, interKey: interKey}
	ca.root = mustCert(f, caTmpl("Fuzz Root CA", -1), nil, rootKey, rootKey.Public())
	ca.inter = mustCert(f, caTmpl("Fuzz Issuing CA", 0), ca.root, rootKey, interKey.Public())
	dp := crlDPExt(f, distributionPoint{name: dpName{relative: "part2"}, reasons: rKeyCompromise}, distributionPoint{crlIssuer: []pkix.Name{ca.inter.Subject}})
	idp := idpExt(f, issuingDP{name: dpName{uris: []string{"http://crl.plant.example/part2.crl"}}, reasons: rKeyCompromise | rHold, indirect: true})
	f.Add(dp.Value, idp.Value)
	f.Add([]byte{0x30, 0x00}, []byte{0x30, 0x03, 0x84, 0x01, 0xff})
	f.Fuzz(func(t *testing.T, dpValue, idpValue []byte) {
		tmpl := leafTemplate(host)
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 31}, Value: dpValue}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.inter, k.Public(), ca.interKey)
		if err != nil {
			return
		}
		leaf, err := certs.ParseCertificate(der)
		if err != nil {
			return
		}
		crl := makeCRL(t, ca.inter, ca.interKey, crlSpec{ext: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: idpValue}}})
		st := certs.PathRevocation([]*x509.Certificate{leaf, ca.inter, ca.root}, certs.VerifyOptions{CRLs: []*certs.CRL{crl}, Time: now})
		if len(st) != 2 {
			t.Fatalf("%d statuses", len(st))
		}
	})
}
