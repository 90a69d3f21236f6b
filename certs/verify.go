package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// VerifyOptions are the inputs of RFC 5280 §6.1 path validation with CRLs.
type VerifyOptions struct {
	Anchors       []*x509.Certificate // trust anchors (§6.1.1 (d)); required
	Intermediates []*x509.Certificate // candidate intermediates, any order
	CRLs          []*CRL              // revocation lists to apply (§6.3)
	Time          time.Time           // validation time (§6.1.1 (c)); required
	DNSName       string              // optional: the leaf must be valid for this name
	IP            netip.Addr          // optional: the leaf must be valid for this address
	// RequireCRL makes a certificate of the path (every one but the anchor)
	// with no applicable, usable CRL an error instead of "status unknown".
	RequireCRL bool
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
// 5280 §6.1 (signatures, validity, names, basic constraints and path length,
// name constraints, key usage, and serverAuth when the leaf has an Extended
// Key Usage, through crypto/x509's path building), then applies the
// additional structure checks of strictChecks and the CRLs of §6.3 to every
// certificate of the path but the anchor. It returns the first path that
// passes, leaf first, anchor last.
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
	roots := x509.NewCertPool()
	for _, a := range o.Anchors {
		roots.AddCert(a)
	}
	inter := x509.NewCertPool()
	for _, c := range o.Intermediates {
		inter.AddCert(c)
	}
	name := o.DNSName
	if o.IP.IsValid() {
		name = o.IP.Unmap().String()
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: o.Time, DNSName: name,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		if !needsOwnPath(err) {
			return nil, &VerifyError{Reason: describeX509Error(err), Err: err}
		}
		var why error = &VerifyError{Reason: describeX509Error(err), Err: err}
		chains = nil
		for i, p := range buildPaths(leaf, o.Anchors, o.Intermediates) {
			perr := validatePath(p, o)
			if perr == nil {
				chains = append(chains, p)
			} else if i == 0 {
				why = perr // our own processing names the certificate and the rule
			}
		}
		if len(chains) == 0 {
			return nil, why
		}
	}
	var first error
	for _, chain := range chains {
		err := strictChecks(chain, o)
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

// Revocation states of a certificate in a path, as RevocationStatus.Status.
const (
	StatusGood    = "good"    // a usable CRL from its issuer does not list it
	StatusRevoked = "revoked" // a usable CRL from its issuer lists it (RFC 5280 §6.3.3 (i))
	StatusUnknown = "unknown" // no usable CRL from its issuer was given (§6.3.3 (k): UNDETERMINED)
)

// RevocationStatus is what the given CRLs say about one certificate of a
// path.
type RevocationStatus struct {
	Cert   *x509.Certificate
	Issuer *x509.Certificate
	Status string // StatusGood, StatusRevoked or StatusUnknown
	// CRL is the list that decided (good or revoked); nil when unknown.
	CRL *CRL
	// Entry is the CRL entry when revoked.
	Entry Revocation
	// Problem, when unknown, is why the CRLs about the certificate could not
	// be used; nil when none was about it.
	Problem error
}

// PathRevocation applies crls to every certificate of chain (leaf first,
// anchor last) but the anchor, per RFC 5280 §6.3.3: for each, the CRLs that
// cover it are checked against its issuer at now; the first that lists it
// makes it revoked, else any usable one makes it good, else it is unknown
// with the first reason a covering CRL could not be used.
func PathRevocation(chain []*x509.Certificate, crls []*CRL, now time.Time) []RevocationStatus {
	var out []RevocationStatus
	for i := 0; i+1 < len(chain); i++ {
		st := RevocationStatus{Cert: chain[i], Issuer: chain[i+1], Status: StatusUnknown}
		for _, c := range crls {
			if !c.Covers(st.Cert) {
				continue
			}
			err := c.Check(st.Cert, st.Issuer, now)
			var re *RevokedError
			switch {
			case errors.As(err, &re):
				st.Status, st.CRL, st.Entry, st.Problem = StatusRevoked, c, re.Entry, nil
			case err == nil:
				st.Status, st.CRL, st.Problem = StatusGood, c, nil
			case st.Problem == nil && st.Status == StatusUnknown:
				st.Problem = err
			}
			if st.Status == StatusRevoked {
				break
			}
		}
		out = append(out, st)
	}
	return out
}

// checkRevocation applies o.CRLs to every certificate of chain but the
// anchor (RFC 5280 §6.3.3). A usable CRL listing the certificate fails the
// path; CRLs that cannot be used are skipped, and with RequireCRL a
// certificate left without a usable CRL fails the path with their reason.
func checkRevocation(chain []*x509.Certificate, o VerifyOptions) error {
	for _, st := range PathRevocation(chain, o.CRLs, o.Time) {
		switch {
		case st.Status == StatusRevoked:
			return &VerifyError{Cert: st.Cert, Reason: "revoked by the CRL of " + st.Issuer.Subject.String() + " on " + st.Entry.Time.UTC().Format(time.RFC3339),
				Err: &RevokedError{Cert: st.Cert, Entry: st.Entry}}
		case st.Status == StatusUnknown && o.RequireCRL:
			reason := "no CRL from " + st.Issuer.Subject.String() + " was given"
			if st.Problem != nil {
				reason = "no usable CRL: " + st.Problem.Error()
			}
			return &VerifyError{Cert: st.Cert, Reason: reason, Err: st.Problem}
		}
	}
	return nil
}

// describeX509Error turns crypto/x509's errors into a short reason.
func describeX509Error(err error) string {
	var ci x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	switch {
	case errors.As(err, &ci):
		return ci.Error()
	case errors.As(err, &ua):
		return "no path to a trust anchor: " + ua.Error()
	case errors.As(err, &hn):
		return hn.Error()
	}
	return err.Error()
}
