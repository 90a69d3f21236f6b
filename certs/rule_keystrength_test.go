package certs_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"sync"
	"testing"

	"github.com/tapline/tapline/certs"
)

// rsa1024 and rsa3072 are made once per binary (only this test needs them).
var rsa1024 = sync.OnceValue(func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 1024); return k })
var rsa3072 = sync.OnceValue(func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 3072); return k })

func TestRuleKeyStrength(t *testing.T) {
	t.Setenv("GODEBUG", "rsa1024min=0")
	ecdsaOnly := func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }
	runRuleCases(t, []ruleCase{
		{name: "rsa 2048", notWant: []string{certs.CodeWeakKey, certs.CodeLargeKey}},
		{name: "rsa 1024", key: func(testing.TB) crypto.Signer { return rsa1024() }, want: certs.CodeWeakKey},
		{name: "rsa 3072", key: func(testing.TB) crypto.Signer { return rsa3072() }, want: certs.CodeLargeKey, notWant: []string{certs.CodeWeakKey}},
		{name: "p256", cert: ecdsaOnly, key: func(t testing.TB) crypto.Signer { return ecKey(t) }, notWant: []string{certs.CodeWeakKey}},
		{name: "p521", cert: ecdsaOnly, key: func(testing.TB) crypto.Signer {
			k, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
			return k
		}, want: certs.CodeWeakKey},
		{name: "ed25519", cert: ecdsaOnly, key: func(testing.TB) crypto.Signer {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			return k
		}, want: certs.CodeWeakKey},
	})
}
