package certs

import (
	"crypto/x509"
	"errors"
)

// ruleChainOfTrust: the certificate chains to a root found in the chain file
// or the anchors (RFC 5280 §6.1; docs/field-facts.md: the sensor says "Cannot
// validate chain of trust. The provided Certificate and Root CA don't
// match."). Weak signatures are reported by ruleSignatureAlgorithm alone.
func ruleChainOfTrust(b *bundle) []Finding {
	if b.path != nil {
		return nil
	}
	if !b.hasChain && !isSelfSigned(b.leaf) {
		return []Finding{newFinding(CodeNoChain, "")}
	}
	var ia x509.InsecureAlgorithmError
	if errors.As(b.pathErr, &ia) || !strongSignature(b.leaf) {
		return nil // the sensor refuses the signature itself: ruleSignatureAlgorithm says so
	}
	var ve *VerifyError
	if errors.As(b.pathErr, &ve) && ve.Cert != nil && ve.Cert != b.leaf && b.now.After(ve.Cert.NotAfter) {
		return []Finding{newFinding(CodeCAExpired, "%s expired on %s", ve.Cert.Subject.String(), ve.Cert.NotAfter.UTC().Format("2006-01-02"))}
	}
	return []Finding{newFinding(CodeChainOfTrust, "%s", chainReason(b))}
}

// chainReason says in a few words why no path was found.
func chainReason(b *bundle) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(b.pathErr, &ua):
		if b.issuerOf(b.leaf) == nil {
			return "no certificate in the chain issued " + b.leaf.Issuer.String()
		}
		return "the chain does not end at a root CA certificate"
	case errors.As(b.pathErr, &ci):
		return ci.Error()
	case b.pathErr != nil:
		return errText(b.pathErr)
	}
	return "no path"
}
