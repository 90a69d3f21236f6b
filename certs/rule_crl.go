package certs

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
)

// ruleCRL: the supplied CRLs decide the revocation status of every
// certificate of the path but the trust anchor, per RFC 5280 §6.3.3
// (docs/field-facts.md: the sensor says "This certificate has been revoked
// by the CRL and can't be trusted for a secure connection"): the CRLs in a
// certificate's scope (its issuer's, of its distribution point, for its
// kind of certificate, with their delta CRLs) are signed by a key of the
// issuer that chains to the same root, current, and do not list it. A
// listing of the sensor certificate or of a CA certificate of the chain is
// an error, naming the certificate and the CRL.
//
// With certificate validation on, the sensor checks every certificate of
// the path as `openssl verify -crl_check_all` does, and a status the CRLs do
// not decide is undetermined: the sensor refuses it, an error naming the
// certificate. Where the bundle carries no CRL of a certificate's issuer,
// the sensor fetches one from that certificate's http:// distribution
// points, so here an info finding says so (Report.FetchCRLs lists them); a CA certificate with
// nothing to fetch from is undetermined already. With Target.CRLsFinal
// (the sensor, after fetching) nothing more will come: such a certificate
// is undetermined. With validation off, a CRL that is not about the sensor
// certificate is a warning, and only a listing counts for CA certificates.
// Without the issuing CA the signature cannot be checked: a warning, and a
// listing is still an error.
func ruleCRL(b *bundle) (out []Finding) {
	fetch := b.fetchLevels()
	if len(fetch) > 0 && fetch[0] == b.leaf {
		out = append(out, fetchFinding(b, b.leaf))
	}
	// The CA certificates' notes follow the sensor certificate's findings.
	defer func() {
		for _, c := range fetch {
			if c != b.leaf {
				out = append(out, fetchFinding(b, c))
			}
		}
	}()
	final := b.target.CRLValidation && b.target.CRLsFinal
	if len(b.crls) == 0 && !final {
		return out
	}
	issuer := b.issuerOf(b.leaf)
	if issuer == nil {
		if len(b.crls) > 0 {
			return append(out, unverifiedCRLs(b)...)
		}
		return append(out, newFinding(CodeCRLUndetermined, "no CRL is from %s", b.leaf.Issuer.String()))
	}
	chain := b.path
	if len(chain) < 2 {
		chain = []*x509.Certificate{b.leaf, issuer}
	}
	o := VerifyOptions{Intermediates: append(slices.Clone(b.extra), b.anchors...), CRLs: b.crls, Time: b.now}
	for i, st := range PathRevocation(chain, o) {
		if st.Status == StatusUnknown && slices.ContainsFunc(fetch, st.Cert.Equal) {
			continue // the sensor fetches its CRL: said above
		}
		if i == 0 {
			out = append(out, b.leafStatus(st)...)
			continue
		}
		what := "CA certificate " + st.Cert.Subject.String() + " of the chain"
		var ce *CRLError
		switch {
		case st.Status == StatusRevoked:
			out = append(out, newFinding(CodeRevoked, "%s, serial %x, %s, by %s", what, st.Cert.SerialNumber, revokedDetail(st.Entry), b.crlName(st)))
		case st.Status == StatusGood || !b.target.CRLValidation:
		case errors.As(st.Problem, &ce) && ce.Problem == CRLNotCurrent:
			out = append(out, newFinding(CodeCRLNotCurrent, "%s: %s", what, ce.Detail))
		case errors.As(st.Problem, &ce) && ce.Problem == CRLBadSignature:
			out = append(out, newFinding(CodeCRLSignature, "%s: %s", what, ce.Detail))
		case st.Problem != nil:
			out = append(out, newFinding(CodeCRLUndetermined, "%s: %s", what, errText(st.Problem)))
		default:
			out = append(out, newFinding(CodeCRLUndetermined, "%s: no CRL given is from %s", what, st.Cert.Issuer.String()))
		}
	}
	return out
}

// leafStatus turns the sensor certificate's revocation status into
// findings.
func (b *bundle) leafStatus(st RevocationStatus) []Finding {
	var ce *CRLError
	switch {
	case st.Status == StatusRevoked:
		return []Finding{newFinding(CodeRevoked, "serial %x, %s, by %s", b.leaf.SerialNumber, revokedDetail(st.Entry), b.crlName(st))}
	case st.Status == StatusGood:
		return nil
	case errors.As(st.Problem, &ce) && ce.Problem == CRLNotCurrent:
		return []Finding{newFinding(CodeCRLNotCurrent, "%s", ce.Detail)}
	case errors.As(st.Problem, &ce) && ce.Problem == CRLBadSignature:
		return []Finding{newFinding(CodeCRLSignature, "%s", ce.Detail)}
	case b.target.CRLValidation:
		detail := "no CRL given is from " + b.leaf.Issuer.String()
		if st.Problem != nil {
			detail = errText(st.Problem)
		}
		return []Finding{newFinding(CodeCRLUndetermined, "%s", detail)}
	case st.Problem != nil:
		return []Finding{newFinding(CodeCRLUndecided, "%s", errText(st.Problem))}
	}
	return []Finding{newFinding(CodeCRLNoneForIssuer, "issuer %s", b.leaf.Issuer.String())}
}

// crlLevels are the certificates whose revocation the sensor checks with
// validation on: every certificate of the path but the trust anchor, leaf
// first (openssl verify -crl_check_all); the leaf alone without a path.
func (b *bundle) crlLevels() []*x509.Certificate {
	if len(b.path) < 2 {
		return []*x509.Certificate{b.leaf}
	}
	return b.path[:len(b.path)-1]
}

// fetchLevels are the certificates whose CRL the sensor fetches from their
// distribution points at apply (with validation on, before CRLsFinal):
// those of the path no CRL given is from the issuer of.
func (b *bundle) fetchLevels() []*x509.Certificate {
	if !b.target.CRLValidation || b.target.CRLsFinal {
		return nil
	}
	var out []*x509.Certificate
	for i, c := range b.crlLevels() {
		if i == 0 && len(b.src.CRLs) > len(b.crls) {
			continue // an unreadable CRL file stands for the sensor certificate's: TL-CERT-030
		}
		if !b.hasCRLOfIssuer(c) {
			out = append(out, c)
		}
	}
	return out
}

// hasCRLOfIssuer reports whether a CRL given is from c's issuer (or from
// the CRL issuer its distribution point names).
func (b *bundle) hasCRLOfIssuer(c *x509.Certificate) bool {
	dps, err := certDistPoints(c)
	if err != nil {
		return true // unusable distribution points: the status rule says why
	}
	for _, rl := range b.crls {
		for _, dp := range dps {
			if rl.scopeProblem(c, dp) != "issuer" {
				return true
			}
		}
	}
	return false
}

// fetchFinding says that the sensor fetches c's CRL, and from where; for
// a CA certificate with no http:// distribution point, that its status is
// undetermined (the sensor certificate's own point is ruleCRLDistributionPoint's).
func fetchFinding(b *bundle, c *x509.Certificate) Finding {
	urls := HTTPDistributionPoints(c)
	if c == b.leaf {
		if len(urls) == 0 {
			return newFinding(CodeCRLNotGiven, "")
		}
		return newFinding(CodeCRLNotGiven, "the sensor fetches the CRL from %s", strings.Join(urls, ", "))
	}
	what := "CA certificate " + c.Subject.String() + " of the chain"
	if len(urls) == 0 {
		return newFinding(CodeCRLUndetermined, "%s: no CRL given is from %s, and the certificate names no http:// CRL distribution point the sensor could fetch one from; give the CRL of %s",
			what, c.Issuer.String(), c.Issuer.String())
	}
	return newFinding(CodeCRLNotGiven, "%s: no CRL given is from %s; the sensor fetches it from %s", what, c.Issuer.String(), strings.Join(urls, ", "))
}

// HTTPDistributionPoints returns c's http:// CRL distribution points, the
// ones a sensor fetches from.
func HTTPDistributionPoints(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.CRLDistributionPoints {
		if strings.HasPrefix(strings.ToLower(u), "http://") {
			out = append(out, u)
		}
	}
	return out
}

// crlName names the CRL that decided st: its issuer and number, and the file
// it came from.
func (b *bundle) crlName(st RevocationStatus) string {
	c := st.CRL
	what := "the CRL"
	if c == nil {
		c, what = st.Delta, "the delta CRL"
	}
	if c == nil {
		return what
	}
	s := what
	if c.List.Number != nil {
		s += " number " + c.List.Number.String()
	}
	s += " of " + c.List.Issuer.String()
	if n := b.crlNames[c]; n != "" {
		s += " (" + n + ")"
	}
	return s
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
