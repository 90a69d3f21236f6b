package activation

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"
)

// testAuthority is a test root and signing key made at test time; it is
// never the production root.
type testAuthority struct {
	rootPub  ed25519.PublicKey
	rootPriv ed25519.PrivateKey
	key      ed25519.PrivateKey
	signer   SignedSignerCert
}

func newTestAuthority(t testing.TB, from, to time.Time) *testAuthority {
	t.Helper()
	rp, rk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := CertifySigner(rk, sk.Public().(ed25519.PublicKey), from, to)
	if err != nil {
		t.Fatal(err)
	}
	return &testAuthority{rootPub: rp, rootPriv: rk, key: sk, signer: sc}
}

func (a *testAuthority) issue(t testing.TB, req Request, now time.Time) []byte {
	t.Helper()
	b, err := Issue(req, a.key, a.signer, now)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
