package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// needsOwnPath reports whether crypto/x509 refused the path for a reason
// where it is stricter than RFC 5280: it counts self-issued intermediates
// against pathLenConstraint (§6.1.4 (l) does not), applies name constraints
// to self-issued intermediates (§6.1.3 (b) does not), does not know
// directoryName constraints (§4.2.1.10), and chains names byte for byte
// where §7.1 compares them after string preparation (case, spaces,
// PrintableString against UTF8String). Only then does Verify build and
// process paths itself, with processing complete for those cases that
// refuses every other constraint form it does not implement.
func needsOwnPath(err error) bool {
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) {
		return ci.Reason == x509.TooManyIntermediates || ci.Reason == x509.CANotAuthorizedForThisName
	}
	var uc x509.UnhandledCriticalExtension
	var ua x509.UnknownAuthorityError
	return errors.As(err, &uc) || errors.As(err, &ua)
}

// buildPaths enumerates paths from leaf to an anchor through intermediates,
// matching issuer to subject names per RFC 5280 §7.1 (and key identifiers
// when both are present), without repeating a certificate, at most maxDepth
// long, and within a bounded number of steps whatever the input.
func buildPaths(leaf *x509.Certificate, anchors, inters []*x509.Certificate) [][]*x509.Certificate {
	const maxDepth, maxPaths, maxSteps = 8, 32, 2000
	var out [][]*x509.Certificate
	steps := 0
	var walk func(path []*x509.Certificate)
	walk = func(path []*x509.Certificate) {
		cur := path[len(path)-1]
		steps++
		if len(out) >= maxPaths || len(path) > maxDepth || steps > maxSteps {
			return
		}
		issues := func(c *x509.Certificate) bool {
			if len(cur.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 && !bytes.Equal(cur.AuthorityKeyId, c.SubjectKeyId) {
				return false
			}
			if !nameEqual(c.RawSubject, cur.RawIssuer) {
				return false
			}
			for _, p := range path {
				if p.Equal(c) {
					return false
				}
			}
			return true
		}
		for _, a := range anchors {
			if issues(a) {
				out = append(out, append(append([]*x509.Certificate{}, path...), a))
			}
		}
		for _, c := range inters {
			if issues(c) {
				walk(append(append([]*x509.Certificate{}, path...), c))
			}
		}
	}
	walk([]*x509.Certificate{leaf})
	return out
}

// pathCheck is what a path is validated for.
type pathCheck struct {
	time time.Time
	// serverAuth: an extended key usage, where present, must allow
	// serverAuth (or anyExtendedKeyUsage), as crypto/x509 nests them.
	serverAuth bool
	// name is the host name or IP address the leaf must be valid for; "" for none.
	name string
}

// Policy extensions (RFC 5280 §4.2.1.5, §4.2.1.11, §4.2.1.14).
var (
	oidExtPolicyMappings    = asn1.ObjectIdentifier{2, 5, 29, 33}
	oidExtPolicyConstraints = asn1.ObjectIdentifier{2, 5, 29, 36}
	oidExtInhibitAnyPolicy  = asn1.ObjectIdentifier{2, 5, 29, 54}
)

// validatePath is RFC 5280 §6.1 basic path processing for chain (leaf first,
// anchor last): signatures and name chaining (§6.1.3 (a)(1), (a)(4)),
// validity (§6.1.3 (a)(2)), path length not counting self-issued
// certificates (§6.1.4 (l), (m)), DNS, IP and directoryName constraints,
// not applied to self-issued intermediates (§6.1.3 (b), (c)), unrecognised
// critical extensions (§6.1.4 (o), §6.1.5 (f)), serverAuth when asked and
// an EKU is present, and the peer name. coreChecks adds basic constraints
// and key usage of the issuers (§6.1.4 (k), (n)).
//
// Certificate policy processing (§6.1.3 (d)-(f), §6.1.4 (a)-(j)) is not
// done here: a path whose certificates carry policy mappings, policy
// constraints or inhibitAnyPolicy is refused rather than accepted without
// them (crypto/x509, which builds every other path, processes policies).
func validatePath(chain []*x509.Certificate, pc pathCheck) error {
	n := len(chain)
	for i, c := range chain {
		if pc.time.Before(c.NotBefore) || pc.time.After(c.NotAfter) {
			return &VerifyError{Cert: c, Reason: validityReason(c, pc.time)}
		}
		if i+1 < n {
			if err := c.CheckSignatureFrom(chain[i+1]); err != nil {
				return &VerifyError{Cert: c, Reason: "signature does not verify with its issuer: " + err.Error(), Err: err}
			}
		}
		for _, ext := range c.UnhandledCriticalExtensions {
			if !ext.Equal(oidExtNameConstraints) {
				return &VerifyError{Cert: c, Reason: "unrecognised critical extension " + ext.String()}
			}
		}
		if i+1 < n {
			for _, oid := range []asn1.ObjectIdentifier{oidExtPolicyMappings, oidExtPolicyConstraints, oidExtInhibitAnyPolicy} {
				if _, ok, _ := findExt(c, oid); ok {
					return &VerifyError{Cert: c, Reason: "it carries certificate policy constraints or mappings, which are not processed on a path whose names chain only after RFC 5280 §7.1 string preparation or whose self-issued certificates need RFC 5280 path length or name constraint rules; refused rather than accepted without them"}
				}
			}
		}
		if !pc.serverAuth {
			continue
		}
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
				goto ekuOK
			}
		}
		if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
			return &VerifyError{Cert: c, Reason: "extended key usage does not allow serverAuth"}
		}
	ekuOK:
	}
	maxPath := -1
	for k := n - 1; k >= 1; k-- {
		c := chain[k]
		if k != n-1 && !selfIssued(c) {
			if maxPath == 0 {
				return &VerifyError{Cert: c, Reason: "path length constraint exceeded (RFC 5280 §6.1.4 (l))"}
			}
			if maxPath > 0 {
				maxPath--
			}
		}
		if c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) && (maxPath < 0 || c.MaxPathLen < maxPath) {
			maxPath = c.MaxPathLen
		}
	}
	for k := n - 1; k >= 1; k-- {
		nc, err := readNameConstraints(chain[k])
		if err != nil {
			return &VerifyError{Cert: chain[k], Reason: err.Error()}
		}
		if nc == nil {
			continue
		}
		for j := k - 1; j >= 0; j-- {
			if j > 0 && selfIssued(chain[j]) {
				continue
			}
			if why := nc.refuses(chain[j]); why != "" {
				return &VerifyError{Cert: chain[j], Reason: "not permitted by the name constraints of " + chain[k].Subject.String() + ": " + why}
			}
		}
	}
	if pc.name != "" {
		if err := chain[0].VerifyHostname(pc.name); err != nil {
			return &VerifyError{Cert: chain[0], Reason: err.Error(), Err: err}
		}
	}
	return nil
}

// validityReason says how c is outside its validity at t, with the date.
func validityReason(c *x509.Certificate, t time.Time) string {
	if t.Before(c.NotBefore) {
		return "not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
	}
	return "expired on " + c.NotAfter.UTC().Format(time.RFC3339)
}

// coreChecks applies, to every path whoever built it, the RFC 5280 §6.1
// rules crypto/x509 leaves out or that validatePath leaves to it: every
// intermediate is a CA (§6.1.4 (k)) whose key usage, when present, allows
// keyCertSign (§6.1.4 (n)). The trust anchor supplies a name and a key
// (§6.1.1 (d)) and is not held to the certificate profile; what it says its
// key is for still counts, as OpenSSL has it: a key usage without
// keyCertSign, or basicConstraints with cA FALSE, is refused.
func coreChecks(chain []*x509.Certificate) error {
	n := len(chain)
	for k := 1; k < n; k++ {
		c := chain[k]
		anchor := k == n-1
		switch {
		case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0:
			return &VerifyError{Cert: c, Reason: "its key usage does not allow keyCertSign, yet it issued " + chain[k-1].Subject.String() + " (RFC 5280 §6.1.4 (n))"}
		case anchor && c.BasicConstraintsValid && !c.IsCA:
			return &VerifyError{Cert: c, Reason: "the trust anchor's basicConstraints say it is not a CA"}
		case !anchor && !(c.BasicConstraintsValid && c.IsCA):
			return &VerifyError{Cert: c, Reason: "an issuer that is not a CA (basicConstraints cA is not TRUE; RFC 5280 §6.1.4 (k))"}
		}
	}
	return nil
}

// nameConstraints holds the forms validatePath applies.
type nameConstraints struct {
	permittedDNS, excludedDNS []string
	permittedIP, excludedIP   []*net.IPNet
	permittedDN, excludedDN   [][]byte // RDNSequence contents
}

// readNameConstraints parses the extension (RFC 5280 §4.2.1.10). Email, URI
// and other forms are refused: this path is only for what crypto/x509 gets
// wrong, never a looser check.
func readNameConstraints(c *x509.Certificate) (*nameConstraints, error) {
	var raw []byte
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtNameConstraints) {
			raw = e.Value
		}
	}
	if raw == nil {
		return nil, nil
	}
	nc := &nameConstraints{}
	s := cryptobyte.String(raw)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed name constraints")
	}
	for !seq.Empty() {
		var subtrees cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&subtrees, &tag) {
			return nil, errors.New("malformed name constraints")
		}
		excluded := tag == cbasn1.Tag(1).ContextSpecific().Constructed()
		for !subtrees.Empty() {
			var sub, base cryptobyte.String
			var btag cbasn1.Tag
			if !subtrees.ReadASN1(&sub, cbasn1.SEQUENCE) || !sub.ReadAnyASN1(&base, &btag) {
				return nil, errors.New("malformed name constraints")
			}
			switch btag {
			case cbasn1.Tag(2).ContextSpecific(): // dNSName
				add(&nc.permittedDNS, &nc.excludedDNS, excluded, string(base))
			case cbasn1.Tag(7).ContextSpecific(): // iPAddress: address and mask
				if len(base) != 8 && len(base) != 32 {
					return nil, errors.New("malformed IP name constraint")
				}
				h := len(base) / 2
				ipn := &net.IPNet{IP: net.IP(base[:h]), Mask: net.IPMask(base[h:])}
				if excluded {
					nc.excludedIP = append(nc.excludedIP, ipn)
				} else {
					nc.permittedIP = append(nc.permittedIP, ipn)
				}
			case cbasn1.Tag(4).ContextSpecific().Constructed(): // directoryName
				var name cryptobyte.String
				if !base.ReadASN1(&name, cbasn1.SEQUENCE) {
					return nil, errors.New("malformed directoryName constraint")
				}
				if excluded {
					nc.excludedDN = append(nc.excludedDN, name)
				} else {
					nc.permittedDN = append(nc.permittedDN, name)
				}
			default:
				return nil, fmt.Errorf("name constraint form %d is not supported", btag&0x1f)
			}
		}
	}
	return nc, nil
}

func add(permitted, excluded *[]string, isExcluded bool, v string) {
	if isExcluded {
		*excluded = append(*excluded, v)
	} else {
		*permitted = append(*permitted, v)
	}
}

// refuses says why c's names fall outside the constraints, or "".
func (nc *nameConstraints) refuses(c *x509.Certificate) string {
	for _, d := range c.DNSNames {
		if len(nc.permittedDNS)+len(nc.excludedDNS) > 0 && !validDNSName(d) {
			return "DNS:" + d + " is not a valid host name, so it cannot be placed in the constrained namespace"
		}
		if len(nc.permittedDNS) > 0 && !anyDomain(nc.permittedDNS, d) {
			return "DNS:" + d
		}
		if anyDomain(nc.excludedDNS, d) {
			return "DNS:" + d + " is excluded"
		}
	}
	for _, ip := range c.IPAddresses {
		if len(nc.permittedIP) > 0 && !anyNet(nc.permittedIP, ip) {
			return "IP:" + ip.String()
		}
		if anyNet(nc.excludedIP, ip) {
			return "IP:" + ip.String() + " is excluded"
		}
	}
	if len(c.EmailAddresses) > 0 || len(c.URIs) > 0 {
		if len(nc.permittedDNS)+len(nc.excludedDNS)+len(nc.permittedIP)+len(nc.excludedIP)+len(nc.permittedDN)+len(nc.excludedDN) > 0 {
			return "email and URI names are not checked here"
		}
	}
	subj := rdnContents(c.RawSubject)
	if len(subj) > 0 || !isEmptyName(c.RawSubject) {
		if len(nc.permittedDN) > 0 && !anyDNPrefix(nc.permittedDN, subj) {
			return "subject " + c.Subject.String()
		}
		if anyDNPrefix(nc.excludedDN, subj) {
			return "subject " + c.Subject.String() + " is excluded"
		}
	}
	return ""
}

// domainWithin applies RFC 5280 §4.2.1.10 dNSName matching: a constraint
// matches the name itself and every name below it; a leading dot matches
// only names below.
func domainWithin(constraint, name string) bool {
	constraint, name = strings.ToLower(constraint), strings.ToLower(strings.TrimSuffix(name, "."))
	if constraint == "" {
		return true
	}
	if strings.HasPrefix(constraint, ".") {
		return strings.HasSuffix(name, constraint)
	}
	return name == constraint || strings.HasSuffix(name, "."+constraint)
}

func anyDomain(cs []string, name string) bool {
	for _, c := range cs {
		if domainWithin(c, name) {
			return true
		}
	}
	return false
}

func anyNet(ns []*net.IPNet, ip net.IP) bool {
	for _, n := range ns {
		if len(n.IP) == len(ip) || (len(n.IP) == 4 && ip.To4() != nil) {
			if n.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// rdnContents is the contents of an RDNSequence (its RDN SETs).
func rdnContents(raw []byte) []byte {
	s := cryptobyte.String(raw)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil
	}
	return seq
}

// anyDNPrefix reports whether subject starts with one of the constraint
// names, RDN by RDN (RFC 5280 §7.1, compared as encoded).
func anyDNPrefix(cs [][]byte, subject []byte) bool {
	for _, c := range cs {
		if bytes.HasPrefix(subject, c) {
			return true
		}
	}
	return false
}

// validDNSName accepts a preferred-syntax host name (RFC 1034 §3.5, RFC 1123
// §2.1), optionally with a whole leftmost "*" label (RFC 6125 §6.4.3).
func validDNSName(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for i, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		if l == "*" && i == 0 {
			continue
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
