package certs_test

import (
	"crypto"
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleKeyUsage(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "ds+ke", notWant: []string{certs.CodeKeyUsage}},
		{name: "absent", cert: func(c *x509.Certificate) { c.KeyUsage = 0 }, notWant: []string{certs.CodeKeyUsage}},
		{name: "rsa without ke", cert: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, want: certs.CodeKeyUsage},
		{name: "without ds", cert: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, want: certs.CodeKeyUsage},
		{name: "ecdsa with ds only", cert: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature },
			key: func(t testing.TB) crypto.Signer { return ecKey(t) }, notWant: []string{certs.CodeKeyUsage}},
	})
}
