package certs

// ruleBasicConstraints: a server certificate is an end entity (RFC 5280
// §4.2.1.9: cA is FALSE or basicConstraints absent).
func ruleBasicConstraints(b *bundle) []Finding {
	if b.leaf.BasicConstraintsValid && b.leaf.IsCA {
		return []Finding{newFinding(CodeIsCA, "basicConstraints CA:TRUE")}
	}
	return nil
}
