package certs_test

import (
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleExtKeyUsage(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "serverAuth", notWant: []string{certs.CodeEKU}},
		{name: "no eku", cert: func(c *x509.Certificate) { c.ExtKeyUsage = nil }, notWant: []string{certs.CodeEKU}},
		{name: "clientAuth only", cert: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }, want: certs.CodeEKU},
		{name: "any", cert: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny} }, notWant: []string{certs.CodeEKU}},
	})
}
