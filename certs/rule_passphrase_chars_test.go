package certs_test

import (
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestRulePassphraseChars(t *testing.T) {
	pass := func(p string) func(*certs.Source) { return func(s *certs.Source) { s.Passphrase = []byte(p) } }
	runRuleCases(t, []ruleCase{
		{name: "allowed set", src: pass(`aZ09!#%()+,-./:=?@[\]^_{}~`), notWant: []string{certs.CodePassphraseChars}},
		{name: "space", src: pass("two words"), want: certs.CodePassphraseChars},
		{name: "dollar", src: pass("pa$$"), want: certs.CodePassphraseChars},
		{name: "umlaut", src: pass("Passwört"), want: certs.CodePassphraseChars},
	})
	// Positions count characters, not bytes: "ö" is two bytes in UTF-8.
	r := certs.CheckSensor(certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Passphrase: []byte("Pöss wort")}, certs.Target{Hostname: host}, now)
	if f := findCode(r.Findings, certs.CodePassphraseChars); f == nil || !strings.Contains(f.Message, "character at position 2, space at position 5)") {
		t.Errorf("positions: %+v", f)
	}
	r = certs.CheckSensor(certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Passphrase: []byte("secret$x")}, certs.Target{Hostname: host}, now)
	for _, f := range r.Findings {
		if strings.Contains(f.Message, "secret") {
			t.Errorf("finding leaks the passphrase: %s", f.Message)
		}
	}
}

func findCode(fs []certs.Finding, code string) *certs.Finding {
	for i := range fs {
		if fs[i].Code == code {
			return &fs[i]
		}
	}
	return nil
}
