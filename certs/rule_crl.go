package certs

import (
	"crypto/x509"
	"errors"
	"slices"
)

// ruleCRL: the supplied CRLs decide the certificate's revocation status per
// RFC 5280 §6.3.3 (docs/field-facts.md: the sensor says "This certificate has
// been revoked by the CRL and can't be trusted for a secure connection"):
// the CRLs in its scope (its issuer's, of its distribution point, for its
// kind of certificate, with their delta CRLs) are signed by a key of the
// issuer that chains to the same root, current, and do not list it. A CRL
// given for a CA certificate of the chain that lists it is an error too.
//
// With certificate validation on, a status the CRLs do not decide is
// undetermined, and the sensor refuses the certificate: an error. With it
// off, a warning says the CRLs were not about it. With validation on and no
// CRL at all, an info finding says revocation was not checked here (the
// sensor fetches the CRL itself). Without the issuing CA the signature
// cannot be checked: a warning, and a listing is still an error.
func ruleCRL(b *bundle) []Finding {
	if len(b.crls) == 0 {
		if b.target.CRLValidation && len(b.src.CRLs) == 0 {
			return []Finding{newFinding(CodeCRLNotGiven, "")}
		}
		return nil
	}
	issuer := b.issuerOf(b.leaf)
	if issuer == nil {
		return unverifiedCRLs(b)
	}
	chain := b.path
	if len(chain) < 2 {
		chain = []*x509.Certificate{b.leaf, issuer}
	}
	o := VerifyOptions{Intermediates: append(slices.Clone(b.extra), b.anchors...), CRLs: b.crls, Time: b.now}
	statuses := PathRevocation(chain, o)
	var out []Finding
	for _, st := range statuses[1:] {
		if st.Status == StatusRevoked {
			out = append(out, newFinding(CodeRevoked, "CA certificate %s of the chain, serial %x, %s", st.Cert.Subject.String(), st.Cert.SerialNumber, revokedDetail(st.Entry)))
		}
	}
	st := statuses[0]
	var ce *CRLError
	switch {
	case st.Status == StatusRevoked:
		out = append(out, newFinding(CodeRevoked, "serial %x, %s", b.leaf.SerialNumber, revokedDetail(st.Entry)))
	case st.Status == StatusGood:
	case errors.As(st.Problem, &ce) && ce.Problem == CRLNotCurrent:
		out = append(out, newFinding(CodeCRLNotCurrent, "%s", ce.Detail))
	case errors.As(st.Problem, &ce) && ce.Problem == CRLBadSignature:
		out = append(out, newFinding(CodeCRLSignature, "%s", ce.Detail))
	case b.target.CRLValidation:
		detail := "no CRL given is from " + b.leaf.Issuer.String()
		if st.Problem != nil {
			detail = errText(st.Problem)
		}
		out = append(out, newFinding(CodeCRLUndetermined, "%s", detail))
	case st.Problem != nil:
		out = append(out, newFinding(CodeCRLUndecided, "%s", errText(st.Problem)))
	default:
		out = append(out, newFinding(CodeCRLNoneForIssuer, "issuer %s", b.leaf.Issuer.String()))
	}
	return out
}

// revokedDetail is the date and reason of a CRL entry, as findings show it.
func revokedDetail(e Revocation) string {
	return "revoked " + e.Time.UTC().Format("2006-01-02 15:04:05Z") + ", reason " + ReasonName(e.Reason)
}

// unverifiedCRLs handles CRLs when the issuing CA certificate was not given:
// the signature cannot be checked (RFC 5280 §6.3.3 (f)), so the CRL decides
// nothing and, with validation on, the status is undetermined. A listing on
// a CRL in the certificate's scope is still reported as an error: a genuine
// CRL listing it means the certificate is revoked.
func unverifiedCRLs(b *bundle) []Finding {
	var out []Finding
	covered := false
	for _, c := range b.crls {
		if !c.Covers(b.leaf) {
			continue
		}
		covered = true
		out = append(out, newFinding(CodeCRLUnverifiable, "its signature was not checked"))
		if e, listed := c.LookupIssued(b.leaf.SerialNumber, b.leaf.RawIssuer); listed {
			out = append(out, newFinding(CodeRevoked, "serial %x, %s, on a CRL whose signature was not checked", b.leaf.SerialNumber, revokedDetail(e)))
		}
	}
	switch {
	case covered && b.target.CRLValidation:
		out = append(out, newFinding(CodeCRLUndetermined, "the CRL's signature cannot be checked without the certificate of %s", b.leaf.Issuer.String()))
	case covered:
	case b.target.CRLValidation:
		out = append(out, newFinding(CodeCRLUndetermined, "no CRL given is from %s", b.leaf.Issuer.String()))
	default:
		out = append(out, newFinding(CodeCRLNoneForIssuer, "issuer %s", b.leaf.Issuer.String()))
	}
	return out
}
