package certs_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/needs"
)

const fixturePass = "Sensor.Pass-1"

// TestReadOpenSSLKeys reads every key encoding testdata/generate.sh made with
// OpenSSL 3 and checks each is the same key (or the EC key), and that a wrong
// passphrase is detected, never turned into a key.
func TestReadOpenSSLKeys(t *testing.T) {
	leaf, err := certs.ParseCertificate(fixture(t, "leaf.crt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file      string
		encrypted bool
		ec        bool
	}{
		{"leaf.key", false, false},
		{"leaf-pkcs1.pem", false, false},
		{"leaf-pkcs1.der", false, false},
		{"leaf-pkcs8.der", false, false},
		{"leaf-enc-aes256.pem", true, false},
		{"leaf-enc-des3.pem", true, false},
		{"leaf-enc-sha1prf.pem", true, false},
		{"leaf-enc.der", true, false},
		{"leaf-legacy-aes.pem", true, false},
		{"leaf-legacy-des3.pem", true, false},
		{"ec-sec1.pem", false, true},
		{"ec-pkcs8.pem", false, true},
		{"ec-legacy.pem", true, true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data := fixture(t, c.file)
			pass := []byte(nil)
			if c.encrypted {
				pass = []byte(fixturePass)
				if _, err := certs.ParsePrivateKey(data, nil); !errors.Is(err, certs.ErrPassphraseRequired) {
					t.Errorf("no passphrase: err %v, want ErrPassphraseRequired", err)
				}
				for _, wrong := range []string{"wrong", "Sensor.Pass-2", "x"} {
					k, err := certs.ParsePrivateKey(data, []byte(wrong))
					if !errors.Is(err, certs.ErrIncorrectPassphrase) {
						t.Errorf("passphrase %q: key %v, err %v; want ErrIncorrectPassphrase", wrong, k != nil, err)
					}
				}
			}
			k, err := certs.ParsePrivateKey(data, pass)
			if err != nil {
				t.Fatal(err)
			}
			if c.ec {
				if _, ok := k.(*ecdsa.PrivateKey); !ok {
					t.Errorf("got %T, want ECDSA", k)
				}
				return
			}
			if _, ok := k.(*rsa.PrivateKey); !ok || !certs.KeyMatches(k, leaf) {
				t.Errorf("got %T not matching leaf.crt", k)
			}
			if certs.Detect(data) == certs.KindUnknown {
				t.Errorf("Detect: unknown")
			}
		})
	}
}

func TestReadOpenSSLCertificates(t *testing.T) {
	cases := []struct {
		file string
		n    int
	}{
		{"leaf.crt", 1}, {"leaf.der", 1}, {"chain.pem", 2}, {"chain.der", 2}, {"chain-bag.pem", 2},
		{"leaf-enc-aes256.pem", 0}, {"jpeg.crt", 0}, {"truncated.crt", 0}, {"empty.crt", 0}, {"crl.pem", 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cs, err := certs.ParseCertificates(fixture(t, c.file))
			if c.n == 0 {
				if err == nil {
					t.Fatalf("parsed %d certificates from %s", len(cs), c.file)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != c.n {
				t.Errorf("%d certificates, want %d", len(cs), c.n)
			}
		})
	}
	_, err := certs.ParseCertificates(fixture(t, "jpeg.crt"))
	if err == nil || !errors.Is(err, certs.ErrNoCertificate) || !strings.Contains(err.Error(), "JPEG") {
		t.Errorf("jpeg.crt: %v", err)
	}
	if _, err := certs.ParseCertificates(fixture(t, "truncated.crt")); !errors.Is(err, certs.ErrTruncated) {
		t.Errorf("truncated.crt: %v, want ErrTruncated", err)
	}
	if _, err := certs.ParseCertificates(fixture(t, "empty.crt")); !errors.Is(err, certs.ErrEmpty) {
		t.Errorf("empty.crt: %v, want ErrEmpty", err)
	}
	if _, err := certs.ReadCertificates("testdata/jpeg.crt"); err == nil || !strings.Contains(err.Error(), "testdata/jpeg.crt") {
		t.Errorf("ReadCertificates does not name the file: %v", err)
	}
}

// TestTruncatedDER: a DER file cut short says so, whatever it was meant to
// be, rather than "DER of another kind".
func TestTruncatedDER(t *testing.T) {
	for _, f := range []string{"modern.pfx", "leaf.der", "leaf-pkcs8.der", "leaf-enc.der", "crl.der"} {
		t.Run(f, func(t *testing.T) {
			data := fixture(t, f)
			data = data[:len(data)*2/3]
			var errs []error
			_, err := certs.ParsePKCS12(data, []byte(fixturePass))
			errs = append(errs, err)
			_, err = certs.ParseCertificates(data)
			errs = append(errs, err)
			_, err = certs.ParsePrivateKey(data, []byte(fixturePass))
			errs = append(errs, err)
			_, err = certs.ParseCRL(data)
			errs = append(errs, err)
			_, err = certs.ParseCRLIndex(data)
			errs = append(errs, err)
			for i, err := range errs {
				if err == nil || !strings.Contains(err.Error(), "ends early") {
					t.Errorf("parser %d: %v, want it to say the DER ends early", i, err)
				}
			}
		})
	}
}

func TestReadOpenSSLPKCS12(t *testing.T) {
	leaf, _ := certs.ParseCertificate(fixture(t, "leaf.crt"))
	for _, f := range []string{"modern.pfx", "legacy.pfx"} {
		t.Run(f, func(t *testing.T) {
			data := fixture(t, f)
			p, err := certs.ParsePKCS12(data, []byte(fixturePass))
			if err != nil {
				t.Fatal(err)
			}
			if !p.Leaf.Equal(leaf) || !certs.KeyMatches(p.Key, leaf) || len(p.Chain) != 2 {
				t.Errorf("leaf %v, key matches %v, chain %d", p.Leaf.Subject, certs.KeyMatches(p.Key, leaf), len(p.Chain))
			}
			if _, err := certs.ParsePKCS12(data, []byte("wrong")); !errors.Is(err, certs.ErrIncorrectPassphrase) {
				t.Errorf("wrong passphrase: %v", err)
			}
			if certs.Detect(data) != certs.KindPKCS12 {
				t.Errorf("Detect = %v", certs.Detect(data))
			}
		})
	}
	if _, err := certs.ParsePKCS12(fixture(t, "leaf.der"), nil); !errors.Is(err, certs.ErrNotPKCS12) {
		t.Errorf("leaf.der as PKCS#12: %v", err)
	}
}

func TestReadOpenSSLCRL(t *testing.T) {
	revoked, _ := certs.ParseCertificate(fixture(t, "revoked.crt"))
	leaf, _ := certs.ParseCertificate(fixture(t, "leaf.crt"))
	inter, _ := certs.ParseCertificate(fixture(t, "inter.crt"))
	for _, f := range []string{"crl.pem", "crl.der"} {
		rl, err := certs.ParseCRL(fixture(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c := certs.IndexCRL(rl)
		if !c.Covers(leaf) {
			t.Errorf("%s does not cover leaf.crt", f)
		}
		var re *certs.RevokedError
		if err := c.Check(revoked, inter, now); !errors.As(err, &re) {
			t.Errorf("%s: revoked.crt: %v", f, err)
		}
		if err := c.Check(leaf, inter, now); err != nil {
			t.Errorf("%s: leaf.crt: %v", f, err)
		}
		if certs.Detect(fixture(t, f)) != certs.KindCRL {
			t.Errorf("%s: Detect = %v", f, certs.Detect(fixture(t, f)))
		}
	}
	if _, err := certs.ParseCRL(fixture(t, "leaf.crt")); !errors.Is(err, certs.ErrNoCRL) {
		t.Errorf("leaf.crt as CRL: %v", err)
	}
}

// TestOpenSSLReadsOurKeys proves the other direction: OpenSSL opens the
// encrypted PKCS#8 Tapline writes for CA keys and exports.
func TestOpenSSLReadsOurKeys(t *testing.T) {
	needs.Tool(t, "openssl", "openssl")
	k := ecKey(t)
	p, err := certs.MarshalPrivateKeyPEMIterations(randReader{}, k, []byte(fixturePass), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/k.pem"
	writeFile(t, path, p)
	out, err := exec.Command("openssl", "pkey", "-in", path, "-passin", "pass:"+fixturePass, "-pubout").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkey: %v: %s", err, out)
	}
	back, err := certs.ParsePrivateKey(p, []byte(fixturePass))
	if err != nil || !k.PublicKey.Equal(back.Public()) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestPKCS12RefusesHugeWork: a file asking for billions of key-derivation
// iterations is refused before any work, not left to hang the check.
func TestPKCS12RefusesHugeWork(t *testing.T) {
	type macData struct {
		Digest     asn1.RawValue
		Salt       []byte
		Iterations int64
	}
	mac, _ := asn1.Marshal(macData{Digest: asn1.RawValue{FullBytes: []byte{0x30, 0x00}}, Salt: []byte("salt"), Iterations: 1 << 40})
	pfx, _ := asn1.Marshal(struct {
		Version  int
		AuthSafe asn1.RawValue
		MacData  asn1.RawValue
	}{3, asn1.RawValue{FullBytes: []byte{0x30, 0x00}}, asn1.RawValue{FullBytes: mac}})
	start := time.Now()
	_, err := certs.ParsePKCS12(pfx, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "iterations") || time.Since(start) > time.Second {
		t.Errorf("err %v after %v", err, time.Since(start))
	}
}

// TestOpenSSLTrustedCertificate reads the "TRUSTED CERTIFICATE" form
// 'openssl x509 -trustout' writes (the certificate followed by trust data).
func TestOpenSSLTrustedCertificate(t *testing.T) {
	needs.Tool(t, "openssl", "openssl")
	out, err := exec.Command("openssl", "x509", "-in", "testdata/root.crt", "-trustout", "-addtrust", "serverAuth").Output()
	if err != nil || !strings.Contains(string(out), "TRUSTED CERTIFICATE") {
		t.Fatalf("openssl x509 -trustout: %v", err)
	}
	cs, err := certs.ParseCertificates(out)
	root, _ := certs.ParseCertificate(fixture(t, "root.crt"))
	if err != nil || len(cs) != 1 || !cs[0].Equal(root) {
		t.Fatalf("got %d certificates, %v", len(cs), err)
	}
}

// TestWrongPassphraseNeverAKey tries many wrong passphrases, enough that some
// decrypt to valid CBC padding (about 1 in 256): each must still fail with
// ErrIncorrectPassphrase, never give a key.
func TestWrongPassphraseNeverAKey(t *testing.T) {
	cases := []struct {
		file  string
		tries int
	}{
		{"leaf-legacy-aes.pem", 2000}, {"leaf-legacy-des3.pem", 800}, {"ec-legacy.pem", 2000}, // MD5 key derivation: cheap
		{"leaf-enc-aes256.pem", 300}, {"leaf-enc-des3.pem", 150}, // PBKDF2, 2048 iterations each
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data := fixture(t, c.file)
			for i := range c.tries {
				pass := []byte(fmt.Sprintf("wrong-%d", i))
				k, err := certs.ParsePrivateKey(data, pass)
				if k != nil || !errors.Is(err, certs.ErrIncorrectPassphrase) {
					t.Fatalf("passphrase %q: key %v, err %v; want ErrIncorrectPassphrase", pass, k != nil, err)
				}
			}
		})
	}
}

// TestReadFileBounds: input files are read up to MaxFileSize, errors name the
// file once, and an endless device is refused instead of filling memory.
func TestReadFileBounds(t *testing.T) {
	_, err := certs.ReadFile("testdata/nope.crt")
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "testdata/nope.crt: ") || strings.Count(err.Error(), "nope.crt") != 1 {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		needs.Missing(t, "this test needs /dev/zero to stand for an endless file")
	}
	if _, err := certs.ReadFileLimit("/dev/zero", 1<<20); !errors.Is(err, certs.ErrTooLarge) || !strings.Contains(err.Error(), "/dev/zero") {
		t.Errorf("/dev/zero: %v, want ErrTooLarge naming the file", err)
	}
}
