package certs

// ruleKeyMatch: the private key is the certificate's (RFC 5280 §4.1.2.7
// subjectPublicKeyInfo holds the public half).
func ruleKeyMatch(b *bundle) []Finding {
	if b.key == nil || b.leaf == nil || KeyMatches(b.key, b.leaf) {
		return nil
	}
	return []Finding{newFinding(CodeKeyMismatch, "%s is not the key of %s", b.name("key"), b.name("cert"))}
}
