package certs_test

import (
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleCRLDistributionPoint(t *testing.T) {
	on := func(tg *certs.Target) { tg.CRLValidation = true }
	dp := func(u string) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.CRLDistributionPoints = []string{u} }
	}
	runRuleCases(t, []ruleCase{
		{name: "off, none", notWant: []string{certs.CodeCRLDPMissing, certs.CodeCRLDPUnneeded}},
		{name: "off, present", cert: dp("http://crl.plant.example/a.crl"), want: certs.CodeCRLDPUnneeded},
		{name: "on, http", cert: dp("http://crl.plant.example/a.crl"), target: on, notWant: []string{certs.CodeCRLDPMissing}},
		{name: "on, https", cert: dp("https://crl.plant.example/a.crl"), target: on, want: certs.CodeCRLDPMissing},
		{name: "on, none", target: on, want: certs.CodeCRLDPMissing},
	})
}
