package certs

import "strings"

// ruleWildcard: no wildcard names in CN or SAN (docs/field-facts.md: "wildcard
// certificates are not supported"; RFC 6125 §6.4.3 describes them).
func ruleWildcard(b *bundle) []Finding {
	names := append([]string{b.leaf.Subject.CommonName}, b.leaf.DNSNames...)
	for _, n := range names {
		if strings.Contains(n, "*") {
			return []Finding{newFinding(CodeWildcard, "%q", n)}
		}
	}
	return nil
}
