package certs_test

import (
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleChainOfTrust(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "full chain", notWant: []string{certs.CodeChainOfTrust, certs.CodeNoChain}},
		{name: "no chain", src: func(s *certs.Source) { s.Chain = nil }, want: certs.CodeNoChain},
		{name: "intermediate only", src: func(s *certs.Source) { s.Chain = pemCerts(mustCA(t).inter) }, want: certs.CodeChainOfTrust},
		{name: "openssl chain for our leaf", src: func(s *certs.Source) { s.Chain = fixture(t, "chain.pem") }, want: certs.CodeChainOfTrust},
		{name: "chain in cert file", src: func(s *certs.Source) { s.Cert = append(s.Cert, s.Chain...); s.Chain = nil }, notWant: []string{certs.CodeChainOfTrust, certs.CodeNoChain}},
	})
	r := certs.CheckSensor(certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Chain: fixture(t, "inter.crt")},
		certs.Target{Hostname: host}, now)
	for _, f := range r.Findings {
		if f.Code == certs.CodeChainOfTrust && f.Message[:len("Cannot validate chain of trust.")] == "Cannot validate chain of trust." {
			return
		}
	}
	t.Errorf("intermediate without root: %+v", r.Findings)
}
