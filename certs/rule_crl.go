package certs

import "errors"

// ruleCRL: every supplied CRL about the certificate is signed by its issuer,
// current, and does not list it (RFC 5280 §6.3.3; FIELD-FACTS.md: the sensor
// says "This certificate has been revoked by the CRL and can't be trusted for
// a secure connection"). CRLs about other issuers are skipped, with a warning
// when none is about this certificate; with validation on and no CRL at all,
// an info finding says revocation was not checked. Without the issuing CA the
// signature cannot be checked: a warning, and a listing is still an error.
func ruleCRL(b *bundle) []Finding {
	if len(b.crls) == 0 {
		if b.target.CRLValidation && len(b.src.CRLs) == 0 {
			return []Finding{newFinding(CodeCRLNotGiven, "")}
		}
		return nil
	}
	var out []Finding
	covered := false
	issuer := b.issuerOf(b.leaf)
	for _, c := range b.crls {
		if !c.Covers(b.leaf) {
			continue
		}
		covered = true
		if issuer == nil {
			// Without the issuer the signature cannot be checked (RFC 5280
			// §6.3.3 (f)). A listing is still reported as an error: the
			// sensor, which has the chain, will refuse the certificate if the
			// CRL is genuine.
			out = append(out, newFinding(CodeCRLUnverifiable, "its signature was not checked"))
			if e, listed := c.Lookup(b.leaf.SerialNumber); listed {
				out = append(out, newFinding(CodeRevoked, "serial %x, revoked %s, on a CRL whose signature was not checked",
					b.leaf.SerialNumber, e.Time.UTC().Format("2006-01-02")))
			}
			continue
		}
		err := c.Check(b.leaf, issuer, b.now)
		var re *RevokedError
		var ce *CRLError
		switch {
		case errors.As(err, &re):
			out = append(out, newFinding(CodeRevoked, "serial %x, revoked %s", b.leaf.SerialNumber, re.Entry.Time.UTC().Format("2006-01-02")))
		case errors.As(err, &ce) && ce.Problem == CRLNotCurrent:
			out = append(out, newFinding(CodeCRLNotCurrent, "%s", ce.Detail))
		case errors.As(err, &ce):
			out = append(out, newFinding(CodeCRLSignature, "%s", ce.Detail))
		}
	}
	if !covered {
		out = append(out, newFinding(CodeCRLNoneForIssuer, "issuer %s", b.leaf.Issuer.String()))
	}
	return out
}
