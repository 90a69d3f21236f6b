package certs_test

import (
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleWildcard(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "exact", notWant: []string{certs.CodeWildcard}},
		{name: "wildcard san", cert: func(c *x509.Certificate) { c.DNSNames = append(c.DNSNames, "*.plant.example") }, want: certs.CodeWildcard},
		{name: "wildcard cn", cert: func(c *x509.Certificate) { c.Subject.CommonName = "*.plant.example" }, want: certs.CodeWildcard},
	})
}
