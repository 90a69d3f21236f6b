package certs

import "crypto/x509"

// ruleExtKeyUsage: when the certificate has an Extended Key Usage, it names
// serverAuth (or anyExtendedKeyUsage) (RFC 5280 §4.2.1.12: "the certificate
// MUST only be used for one of the purposes indicated").
func ruleExtKeyUsage(b *bundle) []Finding {
	c := b.leaf
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	return []Finding{newFinding(CodeEKU, "")}
}
