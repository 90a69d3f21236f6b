package certs_test

import (
	"crypto/x509"
	"net/netip"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleSubjectAltName(t *testing.T) {
	ip := func(s string) func(*certs.Target) {
		return func(tg *certs.Target) { tg.IP = netip.MustParseAddr(s) }
	}
	runRuleCases(t, []ruleCase{
		{name: "fqdn and ip", target: ip("192.0.2.10"), notWant: []string{certs.CodeSANMissingName, certs.CodeSANMissingIP}},
		{name: "ipv4-mapped ipv6 target", target: ip("::ffff:192.0.2.10"), notWant: []string{certs.CodeSANMissingIP}},
		{name: "other ip", target: ip("192.0.2.99"), want: certs.CodeSANMissingIP},
		{name: "no san", cert: func(c *x509.Certificate) { c.DNSNames, c.IPAddresses = nil, nil }, want: certs.CodeSANMissingName},
		{name: "san other host", cert: func(c *x509.Certificate) { c.DNSNames = []string{"sensor-02.plant.example"} }, want: certs.CodeSANMissingName},
	})
}
