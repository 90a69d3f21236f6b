package certs

// ruleKeyMatch: the private key is the certificate's (RFC 5280 §4.1.2.7
// subjectPublicKeyInfo holds the public half). The sensor takes the first
// certificate of the certificate file as its own; when the key belongs to
// another certificate given, the finding says which one.
func ruleKeyMatch(b *bundle) []Finding {
	if b.key == nil || b.leaf == nil || KeyMatches(b.key, b.leaf) {
		return nil
	}
	for _, c := range b.extra {
		if KeyMatches(b.key, c) && c.IsCA {
			return []Finding{newFinding(CodeKeyMismatch, "%s is the key of the CA certificate %q, not of %s", b.name("key"), c.Subject.CommonName, b.name("cert"))}
		}
		if KeyMatches(b.key, c) {
			return []Finding{newFinding(CodeKeyMismatch, "%s is the key of %q, not of the first certificate in %s (%q): put the sensor's certificate first",
				b.name("key"), c.Subject.CommonName, b.name("cert"), b.leaf.Subject.CommonName)}
		}
	}
	return []Finding{newFinding(CodeKeyMismatch, "%s is not the key of %s", b.name("key"), b.name("cert"))}
}
