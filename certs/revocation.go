package certs

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// Revocation states of a certificate in a path, as RevocationStatus.Status.
const (
	StatusGood    = "good"    // usable CRLs in its scope cover every reason and none lists it
	StatusRevoked = "revoked" // a usable CRL in its scope lists it (RFC 5280 §6.3.3 (i), (j))
	StatusUnknown = "unknown" // the CRLs given do not decide (§6.3.3: UNDETERMINED)
)

// RevocationStatus is what the given CRLs say about one certificate of a
// path.
type RevocationStatus struct {
	Cert   *x509.Certificate
	Issuer *x509.Certificate
	Status string // StatusGood, StatusRevoked or StatusUnknown
	// CRL is the complete CRL that decided (the one listing it when
	// revoked, the first that covered it when good); nil when unknown.
	CRL *CRL
	// Delta is the delta CRL used with CRL (RFC 5280 §5.2.4), if any; when
	// revoked it may be the list that holds the entry.
	Delta *CRL
	// Entry is the CRL entry when revoked.
	Entry Revocation
	// Problem, when unknown, is why the CRLs about the certificate could not
	// decide: a *CRLError (unusable, out of scope, only some reasons, a
	// delta without its base), or nil when none was about it.
	Problem error
}

// maxCRLIssuerDepth bounds how deep the validation of a CRL issuer's own
// path may nest (its CRLs may have a separate issuer in turn).
const maxCRLIssuerDepth = 3

// revocation is RFC 5280 §6.3 CRL processing for the certificates of one
// path: the CRLs given, the certificates that may have signed them, the
// path's trust anchor, the validation time.
type revocation struct {
	crls []*CRL
	// pool holds every certificate given (intermediates and the path): the
	// candidates for a CRL issuer other than the certificate's issuer
	// (§6.3.3 (f)).
	pool []*x509.Certificate
	// anchor is the path's trust anchor; a CRL issuer's path must end there.
	anchor *x509.Certificate
	now    time.Time
	// require makes an undetermined status in a CRL issuer's own path fail
	// that path (as RequireCRL does for the main one).
	require bool
	depth   int
	// active are the certificates whose status is being determined, so a
	// CRL issuer whose status needs itself is refused, not recursed into.
	active []*x509.Certificate
}

// newRevocation prepares §6.3 processing for chain (leaf first, anchor last).
func newRevocation(chain []*x509.Certificate, o VerifyOptions) *revocation {
	pool := make([]*x509.Certificate, 0, len(o.Intermediates)+len(chain))
	pool = append(pool, chain[:len(chain)-1]...)
	for _, c := range o.Intermediates {
		if !slices.ContainsFunc(pool, c.Equal) {
			pool = append(pool, c)
		}
	}
	return &revocation{crls: o.CRLs, pool: pool, anchor: chain[len(chain)-1], now: o.Time, require: o.RequireCRL}
}

// PathRevocation applies o.CRLs to every certificate of chain (leaf first,
// anchor last) but the anchor, per RFC 5280 §6.3.3 at o.Time: the CRLs in
// each certificate's scope (issuer, distribution point, kind of
// certificate) whose issuer chains to the same anchor (o.Intermediates may
// hold separate CRL-signing certificates) are checked with their delta
// CRLs. A listing in any of them makes it revoked; when together they cover
// every reason and none lists it, it is good; otherwise it is unknown with
// the reason.
func PathRevocation(chain []*x509.Certificate, o VerifyOptions) []RevocationStatus {
	if len(chain) < 2 {
		return nil
	}
	r := newRevocation(chain, o)
	out := make([]RevocationStatus, 0, len(chain)-1)
	for i := 0; i+1 < len(chain); i++ {
		out = append(out, r.status(chain[i], chain[i+1:]))
	}
	return out
}

// checkRevocation applies o.CRLs to every certificate of chain but the
// anchor (RFC 5280 §6.3.3). A usable CRL listing the certificate fails the
// path; with RequireCRL an undetermined status fails it with the reason.
func checkRevocation(chain []*x509.Certificate, o VerifyOptions) error {
	for _, st := range PathRevocation(chain, o) {
		switch {
		case st.Status == StatusRevoked:
			return &VerifyError{Cert: st.Cert, Reason: revokedReason(st), Err: &RevokedError{Cert: st.Cert, Entry: st.Entry}}
		case st.Status == StatusUnknown && o.RequireCRL:
			reason := "revocation status undetermined: no CRL of " + st.Issuer.Subject.String() + " covers it"
			if st.Problem != nil {
				reason = "revocation status undetermined: " + errText(st.Problem)
			}
			return &VerifyError{Cert: st.Cert, Reason: reason, Err: st.Problem}
		}
	}
	return nil
}

// revokedReason says who revoked a certificate, when and why.
func revokedReason(st RevocationStatus) string {
	what := "the CRL"
	if st.Delta != nil && st.CRL == nil {
		what = "the delta CRL"
	}
	return fmt.Sprintf("revoked by %s of %s on %s (reason: %s)", what, st.Issuer.Subject.String(),
		st.Entry.Time.UTC().Format(time.RFC3339), ReasonName(st.Entry.Reason))
}

// status is RFC 5280 §6.3.3 for cert, whose validated path above it is
// above (its issuer first, the anchor last).
func (r *revocation) status(cert *x509.Certificate, above []*x509.Certificate) RevocationStatus {
	st := RevocationStatus{Cert: cert, Issuer: above[0], Status: StatusUnknown}
	if slices.ContainsFunc(r.active, cert.Equal) {
		st.Problem = &CRLError{CRLBadSignature, "the status of the CRL's issuer depends on itself"}
		return st
	}
	r.active = append(r.active, cert)
	defer func() { r.active = r.active[:len(r.active)-1] }()
	dps, err := certDistPoints(cert)
	if err != nil {
		st.Problem = &CRLError{CRLUnusable, errText(err)}
		return st
	}
	var covered reasonMask
	var usable, scope, delta error
	for _, dp := range dps {
		for _, c := range r.crls {
			if c.IsDelta() {
				continue
			}
			switch why := c.scopeProblem(cert, dp); why {
			case "":
			case "issuer":
				continue
			default:
				if scope == nil {
					scope = &CRLError{CRLOutOfScope, why}
				}
				continue
			}
			interim := allReasons // §6.3.3 (d)
			if dp.reasons != 0 {
				interim &= dp.reasons
			}
			if c.idp != nil && c.idp.reasons != 0 {
				interim &= c.idp.reasons
			}
			signer, err := r.signer(c, above)
			if err != nil {
				if usable == nil {
					usable = err
				}
				continue
			}
			// A genuine CRL that lists the certificate revokes it even when
			// it is no longer current: revocation is final but for a hold
			// (RFC 5280 §5.3.1). Only a current CRL says it is not revoked.
			stale := c.current(r.now)
			var d *CRL
			var derr error
			if stale == nil {
				d, derr = r.deltaFor(c, signer)
			}
			released := false
			if d != nil { // §6.3.3 (i), (k)
				if e, ok := d.LookupIssued(cert.SerialNumber, cert.RawIssuer); ok {
					if e.Reason != ReasonRemoveFromCRL {
						st.Status, st.CRL, st.Delta, st.Entry, st.Problem = StatusRevoked, nil, d, e, nil
						return st
					}
					released = true
				}
			}
			if !released { // §6.3.3 (j)
				if e, ok := c.LookupIssued(cert.SerialNumber, cert.RawIssuer); ok && (stale == nil || e.Reason != ReasonCertificateHold) {
					st.Status, st.CRL, st.Delta, st.Entry, st.Problem = StatusRevoked, c, d, e, nil
					return st
				}
			}
			switch {
			case stale != nil:
				if usable == nil {
					usable = stale
				}
				continue
			case derr != nil:
				if delta == nil {
					delta = derr
				}
				continue
			}
			covered |= interim // §6.3.3 (l)
			if st.CRL == nil {
				st.CRL, st.Delta = c, d
			}
		}
	}
	if e, d, ok := r.deltaListing(cert, dps, above); ok {
		st.Status, st.CRL, st.Delta, st.Entry, st.Problem = StatusRevoked, nil, d, e, nil
		return st
	}
	if covered == allReasons {
		st.Status = StatusGood
		return st
	}
	st.CRL, st.Delta = nil, nil
	switch {
	case usable != nil:
		st.Problem = usable
	case delta != nil:
		st.Problem = delta
	case covered != 0:
		st.Problem = &CRLError{CRLSomeReasons, fmt.Sprintf("the CRLs given cover only %s; none covers %s", covered, allReasons&^covered)}
	case scope != nil:
		st.Problem = scope
	default:
		st.Problem = r.onlyDeltas(cert)
	}
	return st
}

// deltaListing finds a genuine delta CRL in cert's scope, whatever complete
// CRL it goes with (another key's, a newer base than the one given), that
// lists cert for a reason other than a hold or its release: its news is
// never ignored.
func (r *revocation) deltaListing(cert *x509.Certificate, dps []distPoint, above []*x509.Certificate) (Revocation, *CRL, bool) {
	for _, d := range r.crls {
		if !d.IsDelta() {
			continue
		}
		e, ok := d.LookupIssued(cert.SerialNumber, cert.RawIssuer)
		if !ok || e.Reason == ReasonCertificateHold || e.Reason == ReasonRemoveFromCRL {
			continue
		}
		inScope := false
		for _, dp := range dps {
			inScope = inScope || d.scopeProblem(cert, dp) == ""
		}
		if !inScope {
			continue
		}
		if _, err := r.signer(d, above); err == nil {
			return e, d, true
		}
	}
	return Revocation{}, nil, false
}

// onlyDeltas says so when the only CRLs of cert's issuer given are delta
// CRLs (nil otherwise).
func (r *revocation) onlyDeltas(cert *x509.Certificate) error {
	for _, c := range r.crls {
		if c.IsDelta() && nameEqual(c.List.RawIssuer, cert.RawIssuer) {
			return &CRLError{CRLDelta, fmt.Sprintf("only a delta CRL (number %v, based on CRL %v) was given; give the complete CRL it is based on",
				c.List.Number, c.baseNumber)}
		}
	}
	return nil
}

// deltaFor finds the delta CRL to use with the complete CRL c, signed by
// signer (RFC 5280 §5.2.4, §6.3.3 (c), (h)): the same issuer and scope (the
// same issuingDistributionPoint, the same key identifier), numbered after c
// and based on a CRL no newer than c, current, signed by the same key. A
// delta of c's scope that is newer than c but cannot be used is returned
// as the error: its news cannot be ignored, so c alone does not decide. A
// delta no newer than c is superseded by it.
func (r *revocation) deltaFor(c *CRL, signer *x509.Certificate) (*CRL, error) {
	var best *CRL
	var problem error
	for _, d := range r.crls {
		if !d.IsDelta() || !nameEqual(d.List.RawIssuer, c.List.RawIssuer) || !bytes.Equal(d.idpRaw, c.idpRaw) {
			continue
		}
		if len(d.List.AuthorityKeyId) > 0 && len(c.List.AuthorityKeyId) > 0 && !bytes.Equal(d.List.AuthorityKeyId, c.List.AuthorityKeyId) {
			continue // another key of the same CA: a delta of its other CRLs
		}
		var err error
		switch {
		case c.List.Number == nil:
			err = &CRLError{CRLDelta, fmt.Sprintf("the complete CRL has no CRL number, so delta CRL %v cannot be combined with it", d.List.Number)}
		case d.List.Number.Cmp(c.List.Number) <= 0:
			continue
		case d.baseNumber.Cmp(c.List.Number) > 0:
			err = &CRLError{CRLDelta, fmt.Sprintf("delta CRL %v is based on CRL %v, newer than the complete CRL given (number %v); give the newer complete CRL",
				d.List.Number, d.baseNumber, c.List.Number)}
		default:
			if err = d.usableWith(signer, r.now); err != nil {
				err = &CRLError{CRLDelta, fmt.Sprintf("delta CRL %v cannot be used: %s", d.List.Number, errText(err))}
			}
		}
		if err != nil {
			if problem == nil {
				problem = err
			}
			continue
		}
		if best == nil || d.List.Number.Cmp(best.List.Number) > 0 {
			best = d
		}
	}
	return best, problem
}

// signer returns the certificate whose key signed the complete CRL c and
// whose own path is valid to the same trust anchor (RFC 5280 §6.3.3 (f),
// (g)): a certificate of the validated path above (the certificate's
// issuer, or the same CA's other key across a key rollover), else another
// certificate given with the CRL issuer's name (a separate CRL-signing key,
// an indirect CRL's issuer) whose path, revocation included, validates.
func (r *revocation) signer(c *CRL, above []*x509.Certificate) (*x509.Certificate, error) {
	if c.unusable != "" {
		return nil, &CRLError{CRLUnusable, c.unusable}
	}
	// first is the most telling reason a candidate was refused: a key that
	// verifies but may not sign CRLs, or a path that does not validate.
	var first error
	for _, cand := range above {
		if !nameEqual(cand.RawSubject, c.List.RawIssuer) || !c.verifies(cand) {
			continue
		}
		err := c.signedBy(cand)
		if err == nil {
			return cand, nil
		}
		if first == nil {
			first = err
		}
	}
	if r.depth < maxCRLIssuerDepth {
		for _, cand := range r.pool {
			if slices.ContainsFunc(above, cand.Equal) || !nameEqual(cand.RawSubject, c.List.RawIssuer) ||
				len(c.List.AuthorityKeyId) > 0 && len(cand.SubjectKeyId) > 0 && !bytes.Equal(c.List.AuthorityKeyId, cand.SubjectKeyId) ||
				!c.verifies(cand) {
				continue
			}
			err := c.signedBy(cand)
			if err == nil && slices.ContainsFunc(r.active, cand.Equal) {
				// The CRL issuer's own certificate is in the scope of the
				// CRL it signs (PKITS 4.14.30): its path is being validated
				// by an outer step; its status comes from that CRL.
				return cand, nil
			}
			if err == nil {
				err = r.issuerPath(cand)
			}
			if err == nil {
				return cand, nil
			}
			if first == nil {
				first = err
			}
		}
	}
	if first == nil {
		first = &CRLError{CRLBadSignature, "it is not signed by the key of " + describeNames([]generalName{directoryName(c.List.RawIssuer)}) +
			" (nor by another certificate of that name chaining to the trust anchor)"}
	}
	return nil, first
}

// issuerPath validates a path from the CRL issuer cand to the anchor: basic
// path processing, and the revocation of its certificates (§6.3.3 (f)).
func (r *revocation) issuerPath(cand *x509.Certificate) error {
	var why error = &CRLError{CRLBadSignature, "the CRL issuer " + cand.Subject.String() + " does not chain to the trust anchor " + r.anchor.Subject.String()}
	for _, p := range buildPaths(cand, []*x509.Certificate{r.anchor}, r.pool) {
		err := coreChecks(p)
		if err == nil {
			err = validatePath(p, pathCheck{time: r.now})
		}
		if err == nil {
			sub := &revocation{crls: r.crls, pool: r.pool, anchor: r.anchor, now: r.now, require: r.require, depth: r.depth + 1, active: slices.Clip(r.active)}
			for i := 0; i+1 < len(p) && err == nil; i++ {
				st := sub.status(p[i], p[i+1:])
				switch {
				case st.Status == StatusRevoked:
					err = &CRLError{CRLBadSignature, "the CRL issuer's path holds a revoked certificate: " + revokedReason(st)}
				case st.Status == StatusUnknown && r.require:
					err = &CRLError{CRLBadSignature, "the revocation status of the CRL issuer's path is undetermined (" + p[i].Subject.String() + ")"}
				}
			}
		}
		if err == nil {
			return nil
		}
		why = err
	}
	return why
}
