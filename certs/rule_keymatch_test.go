package certs_test

import (
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRuleKeyMatch(t *testing.T) {
	// The sensor's certificate after the CA certificates in the .crt file:
	// the sensor takes the first, and the finding says where the key's is.
	ca := mustCA(t)
	leaf := ca.issue(t, leafTemplate(host), rsaKeys()[2].Public())
	r := certs.CheckSensor(certs.Source{Cert: append(ca.chainPEM(), pemCerts(leaf)...), Key: pemKey(t, rsaKeys()[2]),
		Names: map[string]string{"cert": "sensor.crt", "key": "sensor.key"}}, certs.Target{Hostname: host}, now)
	if f := findCode(r.Findings, certs.CodeKeyMismatch); f == nil || !strings.Contains(f.Message, "put the sensor's certificate first") ||
		!strings.Contains(f.Message, `"Test Issuing CA"`) {
		t.Errorf("leaf after its CAs: %+v", f)
	}
	runRuleCases(t, []ruleCase{
		{name: "matching", notWant: []string{certs.CodeKeyMismatch}},
		{name: "other rsa key", src: func(s *certs.Source) { s.Key = pemKey(t, rsaKeys()[0]) }, want: certs.CodeKeyMismatch},
		{name: "ec key for rsa cert", src: func(s *certs.Source) { s.Key = fixture(t, "ec-sec1.pem") }, want: certs.CodeKeyMismatch},
	})
}
