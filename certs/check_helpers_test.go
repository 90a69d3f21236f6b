package certs_test

import (
	"crypto"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

const host = "sensor-01.plant.example"

// ruleCase is one row of a rule's table: how to change a passing bundle, and
// which code must (or must not) appear.
type ruleCase struct {
	name    string
	cert    func(c *x509.Certificate)        // edits the leaf template
	src     func(s *certs.Source)            // edits the source after signing
	target  func(tg *certs.Target)           // edits the target
	at      time.Time                        // check time; zero is now
	key     func(t testing.TB) crypto.Signer // leaf key; nil is the shared RSA key
	want    string                           // code that must appear; "" for none of codes
	notWant []string                         // codes that must not appear
}

// runRuleCases builds a passing sensor bundle per case, applies the edits
// and checks the codes.
func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	ca := mustCA(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl := leafTemplate(host)
			if c.cert != nil {
				c.cert(tmpl)
			}
			var key crypto.Signer = rsaKeys()[2]
			if c.key != nil {
				key = c.key(t)
			}
			leaf := ca.issue(t, tmpl, key.Public())
			src := certs.Source{Cert: pemCerts(leaf), Key: pemKey(t, key), Chain: ca.chainPEM()}
			tg := certs.Target{Hostname: host}
			if c.src != nil {
				c.src(&src)
			}
			if c.target != nil {
				c.target(&tg)
			}
			at := now
			if !c.at.IsZero() {
				at = c.at
			}
			r := certs.CheckSensor(src, tg, at)
			got := codes(r)
			if c.want != "" && !slices.Contains(got, c.want) {
				t.Errorf("want %s, got %v (%+v)", c.want, got, r.Findings)
			}
			for _, nw := range c.notWant {
				if slices.Contains(got, nw) {
					t.Errorf("unexpected %s in %+v", nw, r.Findings)
				}
			}
		})
	}
}
