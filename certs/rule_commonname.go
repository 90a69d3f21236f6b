package certs

import "strings"

// ruleCommonName: the subject CN is the sensor's FQDN (docs/field-facts.md
// "Subject CN"; RFC 5280 §4.1.2.6). Compared without case and without a
// trailing dot, as DNS names are (RFC 4343).
func ruleCommonName(b *bundle) []Finding {
	h := normName(b.target.Hostname)
	if h == "" {
		return []Finding{newFinding(CodeNoHostname, "")}
	}
	cn := b.leaf.Subject.CommonName
	if normName(cn) == h {
		return nil
	}
	if cn == "" {
		return []Finding{newFinding(CodeCNMismatch, "the subject has no CN; want %q", b.target.Hostname)}
	}
	return []Finding{newFinding(CodeCNMismatch, "CN is %q, want %q", cn, b.target.Hostname)}
}

func normName(s string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")) }
