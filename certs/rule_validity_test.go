package certs_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

func TestRuleValidity(t *testing.T) {
	end := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	short := func(c *x509.Certificate) { c.NotAfter = end }
	cases := []ruleCase{
		{name: "valid", notWant: []string{certs.CodeExpired, certs.CodeNotYetValid, certs.CodeExpiresSoon}},
		{name: "not yet valid", at: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), want: certs.CodeNotYetValid},
		{name: "expired", at: end.Add(time.Second), want: certs.CodeExpired, notWant: []string{certs.CodeChainOfTrust}},
		{name: "last second", at: end, want: certs.CodeExpiresSoon, notWant: []string{certs.CodeExpired}},
		{name: "29 days left", at: end.Add(-29 * 24 * time.Hour), want: certs.CodeExpiresSoon},
		{name: "31 days left", at: end.Add(-31 * 24 * time.Hour), notWant: []string{certs.CodeExpiresSoon}},
	}
	for i := range cases {
		cases[i].cert = short
	}
	runRuleCases(t, cases)
}
