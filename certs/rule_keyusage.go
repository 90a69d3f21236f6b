package certs

import (
	"crypto/rsa"
	"crypto/x509"
	"strings"
)

// ruleKeyUsage: when the certificate has a Key Usage, it allows the TLS server
// operations (RFC 5280 §4.2.1.3; RFC 5246 §7.4.2 / RFC 8446 §4.4.2):
// digitalSignature, and for RSA also keyEncipherment.
func ruleKeyUsage(b *bundle) []Finding {
	ku := b.leaf.KeyUsage
	if ku == 0 {
		return nil
	}
	var missing []string
	if ku&x509.KeyUsageDigitalSignature == 0 {
		missing = append(missing, "digitalSignature")
	}
	if _, isRSA := b.leaf.PublicKey.(*rsa.PublicKey); isRSA && ku&x509.KeyUsageKeyEncipherment == 0 {
		missing = append(missing, "keyEncipherment")
	}
	if len(missing) == 0 {
		return nil
	}
	return []Finding{newFinding(CodeKeyUsage, "missing %s", strings.Join(missing, ", "))}
}
