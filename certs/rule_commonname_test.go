package certs_test

import (
	"crypto/x509"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleCommonName(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "match", notWant: []string{certs.CodeCNMismatch}},
		{name: "case and trailing dot", target: func(tg *certs.Target) { tg.Hostname = "SENSOR-01.plant.example." }, notWant: []string{certs.CodeCNMismatch}},
		{name: "other host", cert: func(c *x509.Certificate) { c.Subject.CommonName = "sensor-02.plant.example" }, want: certs.CodeCNMismatch},
		{name: "short name", cert: func(c *x509.Certificate) { c.Subject.CommonName = "sensor-01" }, want: certs.CodeCNMismatch},
		{name: "no cn", cert: func(c *x509.Certificate) { c.Subject.CommonName = "" }, want: certs.CodeCNMismatch},
		{name: "no hostname", target: func(tg *certs.Target) { tg.Hostname = "" }, want: certs.CodeNoHostname},
	})
}
