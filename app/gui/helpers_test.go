package gui

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
)

// testNow is the pinned clock of every GUI test.
var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// RSA key generation is slow under -race; the tests share three keys.
var (
	keysOnce sync.Once
	testKeys [3]crypto.Signer
)

func rsaKeys(t testing.TB) [3]crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		for i := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys
}

// mustCA makes a local CA with a root and issues a certificate for host,
// then exports the sensor's files (HOST.crt, HOST.key, HOST-chain.pem) into
// a temporary folder and returns it.
func mustCA(t testing.TB, host string) (*ca.CA, *ca.Issued, string) {
	t.Helper()
	k := rsaKeys(t)
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Plant", RootKey: k[0], Now: testNow.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	is, err := c.Issue(ca.IssueRequest{Hostname: host, IP: netip.MustParseAddr("192.0.2.10"), Key: k[1], Now: testNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := ca.Export(dir, host, is, ca.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return c, is, dir
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testEnv(a fyne.App, dir string) Env {
	return Env{App: a, Now: func() time.Time { return testNow }, Rand: rand.Reader, FilesDir: dir, KnownHosts: filepath.Join(dir, "known_hosts"), ui: newUIQueue(), caKDF: 1000}
}

func codes(fs []certs.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return strings.Join(out, ",")
}

func hasCode(fs []certs.Finding, code string) bool {
	for _, f := range fs {
		if f.Code == code {
			return true
		}
	}
	return false
}
