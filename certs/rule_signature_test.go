package certs_test

import (
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleSignatureAlgorithm(t *testing.T) {
	t.Setenv("GODEBUG", "x509sha1=1")
	runRuleCases(t, []ruleCase{
		{name: "sha256", notWant: []string{certs.CodeWeakSignature}},
		{name: "sha384", cert: func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA384WithRSA }, notWant: []string{certs.CodeWeakSignature}},
		{name: "openssl sha1", src: func(s *certs.Source) {
			s.Cert, s.Key, s.Chain = fixture(t, "sha1.crt"), fixture(t, "leaf.key"), fixture(t, "chain.pem")
		}, want: certs.CodeWeakSignature, notWant: []string{certs.CodeChainOfTrust}},
	})
}
