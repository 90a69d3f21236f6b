package certs_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestKeyName(t *testing.T) {
	r, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, c := range []struct {
		pub  any
		want string
	}{
		{&r.PublicKey, "RSA 1024"}, {&e.PublicKey, "ECDSA P-384"}, {ed, "Ed25519"}, {"x", "unknown key type"},
	} {
		if got := certs.KeyName(c.pub); got != c.want {
			t.Errorf("KeyName(%T) = %q, want %q", c.pub, got, c.want)
		}
	}
}
