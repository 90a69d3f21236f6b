package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// VerifyOptions are the inputs of RFC 5280 §6.1 path validation with CRLs.
type VerifyOptions struct {
	Anchors []*x509.Certificate // trust anchors (§6.1.1 (d)); required
	// Intermediates are candidate intermediates, in any order, and the
	// certificates of CRL issuers other than a certificate's issuer (a
	// separate CRL-signing key, an indirect CRL's issuer: §6.3.3 (f)).
	Intermediates []*x509.Certificate
	CRLs          []*CRL     // revocation lists to apply, complete and delta (§6.3)
	Time          time.Time  // validation time (§6.1.1 (c)); required
	DNSName       string     // optional: the leaf must be valid for this name
	IP            netip.Addr // optional: the leaf must be valid for this address
	// RequireCRL makes a certificate of the path (every one but the anchor)
	// whose revocation status the CRLs do not decide an error instead of
	// "status unknown" (RFC 5280 §6.3.3: UNDETERMINED).
	RequireCRL bool
	// Strict adds the certificate profile to path validation: the RFC 5280
	// §4 rules for conforming CAs (a critical basicConstraints in CAs, key
	// identifiers, serial numbers, ...) and the CA/Browser Forum Baseline
	// Requirements for server certificates, for every certificate of the
	// path and the trust anchor too, as x509-limbo expects. Without it
	// Verify applies what RFC 5280 §6 asks of a relying party, as OpenSSL
	// does by default and NIST PKITS tests, so plant PKIs made with OpenSSL
	// or EasyRSA (a non-critical basicConstraints, an authority key
	// identifier with issuer and serial) validate as the sensor takes them.
	Strict bool
	// MaxDepth, when positive, bounds the number of intermediates, not
	// counting self-issued ones (RFC 5280 §4.2.1.9). WithMaxDepth sets a
	// limit of zero.
	MaxDepth    int
	maxDepthSet bool
}

// WithMaxDepth returns o with a limit of n intermediates, zero included.
func (o VerifyOptions) WithMaxDepth(n int) VerifyOptions {
	o.MaxDepth, o.maxDepthSet = n, true
	return o
}

// VerifyError is why a path did not validate: the certificate at fault (nil
// when no path was found at all) and the reason in a few words.
type VerifyError struct {
	Cert   *x509.Certificate
	Reason string
	Err    error // the underlying error, may be nil
}

func (e *VerifyError) Error() string {
	if e.Cert == nil {
		return "certs: " + e.Reason
	}
	return fmt.Sprintf("certs: %s: %s", e.Cert.Subject.String(), e.Reason)
}

// Unwrap returns the underlying error.
func (e *VerifyError) Unwrap() error { return e.Err }

// Verify validates a path from leaf to one of the anchors at o.Time, per RFC
// 5280 §6.1 (signatures, validity, names, basic constraints, key usage and
// path length, name constraints, policies, and serverAuth when the leaf has
// an Extended Key Usage), then, with o.Strict, the certificate profile
// (strictChecks), and the CRLs of §6.3 for every certificate of the path but
// the anchor. It returns the first path that passes, leaf first, anchor last.
func Verify(leaf *x509.Certificate, o VerifyOptions) ([]*x509.Certificate, error) {
	if leaf == nil {
		return nil, &VerifyError{Reason: "no leaf certificate"}
	}
	if len(o.Anchors) == 0 {
		return nil, &VerifyError{Reason: "no trust anchors given"}
	}
	if o.Time.IsZero() {
		return nil, &VerifyError{Reason: "no validation time given"}
	}
	name := o.DNSName
	if o.IP.IsValid() {
		name = o.IP.Unmap().String()
	}
	chains, err := validPaths(leaf, o.Anchors, o.Intermediates, pathCheck{time: o.Time, serverAuth: true, name: name})
	if err != nil {
		return nil, err
	}
	var first error
	for _, chain := range chains {
		err := depthCheck(chain, o)
		if err == nil && o.Strict {
			err = strictChecks(chain)
		}
		if err == nil {
			err = checkRevocation(chain, o)
		}
		if err == nil {
			return chain, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// validPaths returns the paths from leaf to an anchor that pass RFC 5280
// §6.1 basic path processing for pc, leaf first: those crypto/x509 builds
// and validates, held to coreChecks, else, where crypto/x509 departs from
// RFC 5280 (needsOwnPath) or its paths fail coreChecks, those buildPaths and
// validatePath find. The error names the certificate at fault when it can.
func validPaths(leaf *x509.Certificate, anchors, inters []*x509.Certificate, pc pathCheck) ([][]*x509.Certificate, error) {
	roots := x509.NewCertPool()
	for _, a := range anchors {
		roots.AddCert(a)
	}
	pool := x509.NewCertPool()
	for _, c := range inters {
		pool.AddCert(c)
	}
	usage := x509.ExtKeyUsageAny
	if pc.serverAuth {
		usage = x509.ExtKeyUsageServerAuth
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: pc.time, DNSName: pc.name,
		KeyUsages: []x509.ExtKeyUsage{usage}})
	var why error
	if err == nil {
		var good [][]*x509.Certificate
		for _, c := range chains {
			if cerr := coreChecks(c); cerr == nil {
				good = append(good, c)
			} else if why == nil {
				why = cerr
			}
		}
		if len(good) > 0 {
			return good, nil
		}
	} else {
		why = x509VerifyError(err, pc.time)
		if !needsOwnPath(err) {
			return nil, why
		}
	}
	var own [][]*x509.Certificate
	for i, p := range buildPaths(leaf, anchors, inters) {
		perr := coreChecks(p)
		if perr == nil {
			perr = validatePath(p, pc)
		}
		if perr == nil {
			own = append(own, p)
		} else if i == 0 && err != nil {
			why = perr // our own processing names the certificate and the rule
		}
	}
	if len(own) == 0 {
		return nil, why
	}
	return own, nil
}

// x509VerifyError turns crypto/x509's error into a VerifyError naming the
// certificate at fault where crypto/x509 says which.
func x509VerifyError(err error, t time.Time) error {
	var ci x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	switch {
	case errors.As(err, &ci) && ci.Reason == x509.Expired && ci.Cert != nil:
		return &VerifyError{Cert: ci.Cert, Reason: validityReason(ci.Cert, t), Err: err}
	case errors.As(err, &ci):
		return &VerifyError{Cert: ci.Cert, Reason: strings.TrimPrefix(ci.Error(), "x509: "), Err: err}
	case errors.As(err, &ua):
		return &VerifyError{Reason: "no path to a trust anchor: " + ua.Error(), Err: err}
	case errors.As(err, &hn):
		return &VerifyError{Cert: hn.Certificate, Reason: strings.TrimPrefix(hn.Error(), "x509: "), Err: err}
	}
	return &VerifyError{Reason: err.Error(), Err: err}
}
