package certs

import "crypto/x509"

// ruleSignatureAlgorithm: the certificate is signed with SHA-256 or stronger
// (docs/field-facts.md "Signature"; SHA-1 and MD5 are broken for signatures, RFC
// 6151 and NIST SP 800-131A Rev. 2 §9).
func ruleSignatureAlgorithm(b *bundle) []Finding {
	if strongSignature(b.leaf) {
		return nil
	}
	return []Finding{newFinding(CodeWeakSignature, "%s", b.leaf.SignatureAlgorithm)}
}

// strongSignature reports whether c is signed with SHA-256 or stronger.
func strongSignature(c *x509.Certificate) bool {
	switch c.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512, x509.PureEd25519:
		return true
	}
	return false
}
