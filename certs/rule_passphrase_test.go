package certs_test

import (
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRulePassphrase(t *testing.T) {
	enc := func(pass string) func(s *certs.Source) {
		return func(s *certs.Source) {
			s.Cert, s.Key, s.Chain = fixture(t, "leaf.crt"), fixture(t, "leaf-enc-aes256.pem"), fixture(t, "chain.pem")
			s.Passphrase = []byte(pass)
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "plain key", notWant: []string{certs.CodePassphrase}},
		{name: "right passphrase", src: enc(fixturePass), notWant: []string{certs.CodePassphrase, certs.CodeKeyUnreadable}},
		{name: "wrong passphrase", src: enc("Sensor.Pass-2"), want: certs.CodePassphrase, notWant: []string{certs.CodeKeyUnreadable}},
		{name: "no passphrase", src: enc(""), want: certs.CodePassphrase},
	})
	r := certs.CheckSensor(certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf-enc-aes256.pem"), Passphrase: []byte("x")},
		certs.Target{Hostname: host}, now)
	if r.Findings[0].Message[:len("Passphrase does not match to the key")] != "Passphrase does not match to the key" {
		t.Errorf("message %q lacks the sensor's words", r.Findings[0].Message)
	}
}
