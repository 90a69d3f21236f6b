package certs

import "strings"

// ruleCRLDistributionPoint: with certificate validation on, the certificate
// names an http:// CRL distribution point (RFC 5280 §4.2.1.13; docs/field-facts.md:
// "an http:// URL, port 80 by default, not https"); with validation off the
// field should be absent, so its presence is a warning.
func ruleCRLDistributionPoint(b *bundle) []Finding {
	dps := b.leaf.CRLDistributionPoints
	if !b.target.CRLValidation {
		if len(dps) > 0 {
			return []Finding{newFinding(CodeCRLDPUnneeded, "%s", strings.Join(dps, ", "))}
		}
		return nil
	}
	for _, u := range dps {
		if strings.HasPrefix(strings.ToLower(u), "http://") {
			return nil
		}
	}
	if len(dps) == 0 {
		return []Finding{newFinding(CodeCRLDPMissing, "")}
	}
	return []Finding{newFinding(CodeCRLDPMissing, "has %s", strings.Join(dps, ", "))}
}
