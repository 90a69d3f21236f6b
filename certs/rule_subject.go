package certs

// ruleSubjectFields: the subject carries C, O and OU (docs/field-facts.md: "Subject
// C, O and OU are expected"; RFC 5280 §4.1.2.4 attribute types).
func ruleSubjectFields(b *bundle) []Finding {
	var out []Finding
	s := b.leaf.Subject
	if len(s.Country) == 0 {
		out = append(out, newFinding(CodeSubjectC, ""))
	}
	if len(s.Organization) == 0 {
		out = append(out, newFinding(CodeSubjectO, ""))
	}
	if len(s.OrganizationalUnit) == 0 {
		out = append(out, newFinding(CodeSubjectOU, ""))
	}
	return out
}
