package certs_test

import (
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleBasicConstraints(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "end entity", notWant: []string{certs.CodeIsCA}},
		{name: "ca true", cert: func(c *x509.Certificate) {
			c.IsCA, c.BasicConstraintsValid = true, true
			c.KeyUsage |= x509.KeyUsageCertSign
		}, want: certs.CodeIsCA},
	})
}
