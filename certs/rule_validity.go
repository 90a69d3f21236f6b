package certs

import "time"

// expiryWarning is how long before notAfter the check starts to warn.
const expiryWarning = 30 * 24 * time.Hour

// ruleValidity: the certificate has started and not ended (RFC 5280 §4.1.2.5:
// notBefore and notAfter are inclusive), with a warning within 30 days of the
// end.
func ruleValidity(b *bundle) []Finding {
	c := b.leaf
	switch {
	case b.now.Before(c.NotBefore):
		return []Finding{newFinding(CodeNotYetValid, "valid from %s", c.NotBefore.UTC().Format(time.RFC3339))}
	case b.now.After(c.NotAfter):
		return []Finding{newFinding(CodeExpired, "expired %s", c.NotAfter.UTC().Format(time.RFC3339))}
	case c.NotAfter.Sub(b.now) < expiryWarning:
		days := int(c.NotAfter.Sub(b.now).Hours() / 24)
		return []Finding{newFinding(CodeExpiresSoon, "expires %s, in %d days", c.NotAfter.UTC().Format(time.RFC3339), days)}
	}
	return nil
}
