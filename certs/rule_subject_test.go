package certs_test

import (
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleSubjectFields(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "all present", notWant: []string{certs.CodeSubjectC, certs.CodeSubjectO, certs.CodeSubjectOU}},
		{name: "no c", cert: func(c *x509.Certificate) { c.Subject.Country = nil }, want: certs.CodeSubjectC},
		{name: "no o", cert: func(c *x509.Certificate) { c.Subject.Organization = nil }, want: certs.CodeSubjectO},
		{name: "no ou", cert: func(c *x509.Certificate) { c.Subject.OrganizationalUnit = nil }, want: certs.CodeSubjectOU},
	})
}
