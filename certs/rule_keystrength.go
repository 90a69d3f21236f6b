package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
)

// ruleKeyStrength: RSA of at least 2048 bits, or ECDSA on P-256 or P-384
// (docs/field-facts.md "Key"; NIST SP 800-57 Part 1 Rev. 5 Table 2: 112-bit
// security). Large RSA keys are fine but slower: an info finding.
func ruleKeyStrength(b *bundle) []Finding {
	switch k := b.leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		n := k.N.BitLen()
		if n < 2048 {
			return []Finding{newFinding(CodeWeakKey, "RSA %d bits", n)}
		}
		if n > 2048 {
			return []Finding{newFinding(CodeLargeKey, "RSA %d bits", n)}
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return []Finding{newFinding(CodeWeakKey, "ECDSA on %s", k.Curve.Params().Name)}
		}
	default:
		return []Finding{newFinding(CodeWeakKey, "%s keys are not accepted by the sensor", b.leaf.PublicKeyAlgorithm)}
	}
	return nil
}
