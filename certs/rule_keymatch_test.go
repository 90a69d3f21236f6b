package certs_test

import (
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleKeyMatch(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "matching", notWant: []string{certs.CodeKeyMismatch}},
		{name: "other rsa key", src: func(s *certs.Source) { s.Key = pemKey(t, rsaKeys()[0]) }, want: certs.CodeKeyMismatch},
		{name: "ec key for rsa cert", src: func(s *certs.Source) { s.Key = fixture(t, "ec-sec1.pem") }, want: certs.CodeKeyMismatch},
	})
}
