package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the certificate extensions strictChecks reads.
var (
	oidExtBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtNameConstraints  = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidExtSAN              = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtEKU              = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidExtAKI              = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtCRLDP            = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidExtIssuerAltName    = asn1.ObjectIdentifier{2, 5, 29, 18}
)

// strictChecks applies the RFC 5280 §4 profile rules for conforming CAs, and
// the few CA/Browser Forum Baseline Requirements rules a server certificate
// path should meet, that path validation (RFC 5280 §6) does not ask for:
// VerifyOptions.Strict. chain is leaf first, anchor last; the anchor is
// held to them too.
func strictChecks(chain []*x509.Certificate) error {
	for i, c := range chain {
		leaf, anchor := i == 0, i == len(chain)-1
		if err := checkCert(c, leaf, anchor); err != "" {
			return &VerifyError{Cert: c, Reason: err}
		}
	}
	return nil
}

// depthCheck applies VerifyOptions.MaxDepth: the number of intermediates,
// not counting self-issued ones (RFC 5280 §4.2.1.9).
func depthCheck(chain []*x509.Certificate, o VerifyOptions) error {
	if o.MaxDepth <= 0 && !o.maxDepthSet || len(chain) < 3 {
		return nil
	}
	n := 0
	for _, c := range chain[1 : len(chain)-1] {
		if !selfIssued(c) {
			n++
		}
	}
	if n > o.MaxDepth {
		return &VerifyError{Cert: chain[0], Reason: fmt.Sprintf("the path has %d intermediates, more than the limit of %d", n, o.MaxDepth)}
	}
	return nil
}

// selfIssued reports whether c's subject and issuer are the same name (RFC
// 5280 §6.1, compared per §7.1).
func selfIssued(c *x509.Certificate) bool { return nameEqual(c.RawSubject, c.RawIssuer) }

func findExt(c *x509.Certificate, oid asn1.ObjectIdentifier) (critical, present bool, value []byte) {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return e.Critical, true, e.Value
		}
	}
	return false, false, nil
}

// checkCert returns why c breaks the profile in its position, or "".
func checkCert(c *x509.Certificate, leaf, anchor bool) string {
	// RFC 5280 §4.1.2.2: a positive serial of at most 20 octets.
	if c.SerialNumber.Sign() <= 0 {
		return "the serial number is zero or negative (RFC 5280 §4.1.2.2)"
	}
	if n := len(c.SerialNumber.Bytes()); n > 20 || n == 20 && c.SerialNumber.Bytes()[0]&0x80 != 0 {
		return "the serial number is longer than 20 octets (RFC 5280 §4.1.2.2)"
	}
	// RFC 5280 §4.1.2.4: the issuer is a non-empty name.
	if len(c.Issuer.Names) == 0 && isEmptyName(c.RawIssuer) {
		return "the issuer name is empty (RFC 5280 §4.1.2.4)"
	}
	subjectEmpty := isEmptyName(c.RawSubject)
	isCA := c.BasicConstraintsValid && c.IsCA
	switch k := c.PublicKeyAlgorithm; k {
	case x509.RSA, x509.ECDSA, x509.Ed25519:
	default:
		return fmt.Sprintf("the %v public key algorithm is not allowed (CA/B BR §7.1.3.1)", k)
	}
	// RFC 5280 §4.2.1.6: an empty subject needs a critical SAN; CA/B BR
	// §7.1.2.7.12: otherwise the SAN is not critical.
	if crit, ok, _ := findExt(c, oidExtSAN); ok {
		if subjectEmpty && !crit {
			return "the subject is empty and the subjectAltName is not critical (RFC 5280 §4.2.1.6)"
		}
		if !subjectEmpty && crit && leaf {
			return "the subjectAltName is critical although the subject is not empty (CA/B BR §7.1.2.7.12)"
		}
	}
	if ncCrit, ok, _ := findExt(c, oidExtNameConstraints); ok {
		if !isCA {
			return "name constraints in a certificate that is not a CA (RFC 5280 §4.2.1.10)"
		}
		if !ncCrit {
			return "the name constraints extension is not critical (RFC 5280 §4.2.1.10)"
		}
	}
	if leaf {
		if !isCA && c.KeyUsage&x509.KeyUsageCertSign != 0 {
			return "keyCertSign in a certificate that is not a CA (RFC 5280 §4.2.1.9)"
		}
		if ekuCrit, ok, _ := findExt(c, oidExtEKU); ok && ekuCrit {
			return "the extended key usage is critical (CA/B BR §7.1.2.7.6)"
		}
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageAny {
				return "anyExtendedKeyUsage in a server certificate (CA/B BR §7.1.2.7.10)"
			}
		}
		for _, n := range c.DNSNames {
			if rest, ok := strings.CutPrefix(n, "*."); ok && !strings.Contains(strings.TrimSuffix(rest, "."), ".") {
				return fmt.Sprintf("the wildcard %q covers a whole top-level domain (CA/B BR §3.2.2.6)", n)
			}
		}
	} else {
		// RFC 5280 §4.2.1.9: CA certificates carry a critical basicConstraints
		// with cA TRUE; §4.1.2.6 a non-empty subject; §4.2.1.2 an SKI;
		// §4.2.1.3 keyCertSign when they have a key usage.
		if !isCA {
			return "an issuer that is not a CA (basicConstraints cA is not TRUE; RFC 5280 §4.2.1.9)"
		}
		if crit, _, _ := findExt(c, oidExtBasicConstraints); !crit {
			return "the CA's basicConstraints extension is not critical (RFC 5280 §4.2.1.9)"
		}
		if subjectEmpty {
			return "the CA's subject is empty (RFC 5280 §4.1.2.6)"
		}
		if len(c.SubjectKeyId) == 0 {
			return "the CA certificate has no subject key identifier (RFC 5280 §4.2.1.2)"
		}
	}
	// RFC 5280 §4.2.1.3 and §4.2.1.9: a CA certificate with a key usage
	// asserts keyCertSign (cA TRUE without it is inconsistent; CA/B BR
	// §7.1.2.7.8 forbids such end-entity certificates).
	if _, ok, _ := findExt(c, oidExtKeyUsage); ok && isCA && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return "basicConstraints cA is TRUE but the key usage lacks keyCertSign (RFC 5280 §4.2.1.3, §4.2.1.9)"
	}
	// RFC 5280 §4.2.1.1: every certificate but a self-signed one names its
	// issuer's key in the authority key identifier.
	_, akiPresent, akiValue := findExt(c, oidExtAKI)
	if !selfIssued(c) && len(c.AuthorityKeyId) == 0 {
		return "no authority key identifier (RFC 5280 §4.2.1.1)"
	}
	if anchor && selfIssued(c) {
		// CA/B BR §7.1.2.1.2, §7.1.2.1.3: a root has no extKeyUsage, and an
		// AKI, when present, holds only keyIdentifier, equal to the SKI.
		if _, ok, _ := findExt(c, oidExtEKU); ok {
			return "the root CA has an extended key usage (CA/B BR §7.1.2.1.2)"
		}
		if akiPresent {
			kid, other, ok := parseAKI(akiValue)
			switch {
			case !ok:
				return "the authority key identifier is malformed"
			case other:
				return "the root's authority key identifier has authorityCertIssuer or serial (CA/B BR §7.1.2.1.3)"
			case kid == nil:
				return "the root's authority key identifier has no keyIdentifier (CA/B BR §7.1.2.1.3)"
			case !bytes.Equal(kid, c.SubjectKeyId):
				return "the root's authority key identifier differs from its subject key identifier (CA/B BR §7.1.2.1.3)"
			}
		}
	}
	return ""
}

// isEmptyName reports whether raw is an empty RDNSequence (30 00).
func isEmptyName(raw []byte) bool {
	s := cryptobyte.String(raw)
	var seq cryptobyte.String
	return s.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.Empty()
}

// parseAKI reads AuthorityKeyIdentifier (RFC 5280 §4.2.1.1): the
// keyIdentifier, and whether authorityCertIssuer or the serial is present.
func parseAKI(v []byte) (kid []byte, other, ok bool) {
	s := cryptobyte.String(v)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, false, false
	}
	for !seq.Empty() {
		var body cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&body, &tag) {
			return nil, false, false
		}
		if tag == cbasn1.Tag(0).ContextSpecific() {
			kid = body
		} else {
			other = true
		}
	}
	return kid, other, true
}
