package certs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/certs"
)

// seed adds every testdata fixture to the corpus.
func seed(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
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
