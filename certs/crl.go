package certs

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CRL is a parsed revocation list with an index of its revoked serial
// numbers, so a lookup is a binary search, not a scan (RFC 5280 §5.1.2.6).
// Build it once with IndexCRL and reuse it for every certificate.
type CRL struct {
	List *x509.RevocationList
	// order holds indexes into List.RevokedCertificateEntries sorted by serial.
	order []int32
	// scope from the issuingDistributionPoint extension (RFC 5280 §5.2.5).
	onlyUser, onlyCA bool
	// unusable, when set, says why the CRL must not be used at all
	// (RFC 5280 §5.2, §5.3: an unrecognised critical extension).
	unusable string
}

// Object identifiers of the CRL extensions RFC 5280 §5.2 and §5.3 define.
var (
	oidCRLNumber       = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRL        = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDP       = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID  = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidFreshestCRL     = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidAuthorityInfo   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidReasonCode      = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDate  = asn1.ObjectIdentifier{2, 5, 29, 24}
	oidHoldInstruction = asn1.ObjectIdentifier{2, 5, 29, 23}
)

// IndexCRL builds the serial index of rl and reads the extensions that decide
// whether and to what the CRL applies. It is O(n log n) once per CRL.
func IndexCRL(rl *x509.RevocationList) *CRL {
	c := &CRL{List: rl}
	for _, e := range rl.Extensions {
		switch {
		case e.Id.Equal(oidIssuingDP):
			if err := c.readIDP(e.Value); err != nil {
				c.unusable = err.Error()
			}
		case e.Id.Equal(oidDeltaCRL):
			c.unusable = "it is a delta CRL; give the complete CRL"
		case e.Critical && !e.Id.Equal(oidCRLNumber) && !e.Id.Equal(oidAuthorityKeyID) &&
			!e.Id.Equal(oidFreshestCRL) && !e.Id.Equal(oidAuthorityInfo):
			c.unusable = fmt.Sprintf("it has an unrecognised critical extension %v", e.Id)
		}
	}
	entries := rl.RevokedCertificateEntries
	c.order = make([]int32, len(entries))
	for i := range entries {
		c.order[i] = int32(i)
		for _, x := range entries[i].Extensions {
			if x.Critical && !x.Id.Equal(oidReasonCode) && !x.Id.Equal(oidInvalidityDate) && !x.Id.Equal(oidHoldInstruction) {
				c.unusable = fmt.Sprintf("entry %d has an unrecognised critical extension %v", i+1, x.Id)
			}
		}
	}
	slices.SortFunc(c.order, func(a, b int32) int {
		return entries[a].SerialNumber.Cmp(entries[b].SerialNumber)
	})
	return c
}

// readIDP parses issuingDistributionPoint (RFC 5280 §5.2.5). Full CRLs scoped
// to end-entity or CA certificates are understood; indirect CRLs, reason
// partitions and attribute-certificate CRLs are refused as unsupported.
func (c *CRL) readIDP(v []byte) error {
	s := cryptobyte.String(v)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return fmt.Errorf("its issuingDistributionPoint is malformed")
	}
	for !seq.Empty() {
		var tag cbasn1.Tag
		var body cryptobyte.String
		if !seq.ReadAnyASN1(&body, &tag) {
			return fmt.Errorf("its issuingDistributionPoint is malformed")
		}
		switch tag {
		case cbasn1.Tag(0).ContextSpecific().Constructed(): // distributionPoint
		case cbasn1.Tag(1).ContextSpecific():
			c.onlyUser = len(body) == 1 && body[0] != 0
		case cbasn1.Tag(2).ContextSpecific():
			c.onlyCA = len(body) == 1 && body[0] != 0
		case cbasn1.Tag(3).ContextSpecific(), cbasn1.Tag(3).ContextSpecific().Constructed():
			return fmt.Errorf("it covers only some revocation reasons (not supported)")
		case cbasn1.Tag(4).ContextSpecific():
			if len(body) == 1 && body[0] != 0 {
				return fmt.Errorf("it is an indirect CRL (not supported)")
			}
		case cbasn1.Tag(5).ContextSpecific():
			if len(body) == 1 && body[0] != 0 {
				return fmt.Errorf("it covers attribute certificates only")
			}
		default:
			return fmt.Errorf("its issuingDistributionPoint has an unknown field")
		}
	}
	return nil
}

// Lookup returns the entry revoking serial, if the CRL lists it.
func (c *CRL) Lookup(serial *big.Int) (*x509.RevocationListEntry, bool) {
	entries := c.List.RevokedCertificateEntries
	i, found := slices.BinarySearchFunc(c.order, serial, func(idx int32, s *big.Int) int {
		return entries[idx].SerialNumber.Cmp(s)
	})
	if !found {
		return nil, false
	}
	return &entries[c.order[i]], true
}

// Covers reports whether the CRL is about cert: same issuer name (RFC 5280
// §6.3.3 (b)(1)) and within its scope (§6.3.3 (b)(2)).
func (c *CRL) Covers(cert *x509.Certificate) bool {
	if string(c.List.RawIssuer) != string(cert.RawIssuer) {
		return false
	}
	isCA := cert.BasicConstraintsValid && cert.IsCA
	if c.onlyUser && isCA || c.onlyCA && !isCA {
		return false
	}
	return true
}

// CRLProblem says why a CRL could not be used for a certificate.
type CRLProblem string

// CRL problems, as CRLError.Problem.
const (
	CRLBadSignature CRLProblem = "signature"   // not signed by the certificate's issuer (§6.3.3 (f))
	CRLNotCurrent   CRLProblem = "not current" // now outside thisUpdate..nextUpdate (§6.3.3 (a))
	CRLUnusable     CRLProblem = "unusable"    // unrecognised critical extension, delta or indirect (§5.2, §5.3)
)

// CRLError is why a CRL could not decide a certificate's status.
type CRLError struct {
	Problem CRLProblem
	Detail  string
}

func (e *CRLError) Error() string { return "certs: CRL " + string(e.Problem) + ": " + e.Detail }

// RevokedError says a certificate is listed on a CRL (RFC 5280 §6.3.3 (i)).
type RevokedError struct {
	Cert  *x509.Certificate
	Entry *x509.RevocationListEntry
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("certs: certificate %q (serial %x) was revoked on %s", e.Cert.Subject.String(), e.Cert.SerialNumber,
		e.Entry.RevocationTime.UTC().Format(time.RFC3339))
}

// Check validates the CRL for cert, issued by issuer, at now (RFC 5280 §6.3.3
// for a complete CRL): it is signed by issuer, which must allow cRLSign when
// it has a key usage (§4.2.1.3); thisUpdate ≤ now < nextUpdate; no
// unrecognised critical extension. It returns a *RevokedError when cert is
// listed, a *CRLError when the CRL cannot be used, and nil when cert is not
// revoked. The caller has checked Covers.
func (c *CRL) Check(cert, issuer *x509.Certificate, now time.Time) error {
	if c.unusable != "" {
		return &CRLError{CRLUnusable, c.unusable}
	}
	if issuer == nil {
		return &CRLError{CRLBadSignature, "the issuing CA certificate was not given"}
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return &CRLError{CRLBadSignature, "the issuer's key usage does not allow cRLSign"}
	}
	if err := c.List.CheckSignatureFrom(issuer); err != nil {
		return &CRLError{CRLBadSignature, "it does not verify with " + issuer.Subject.String() + "'s key"}
	}
	if now.Before(c.List.ThisUpdate) {
		return &CRLError{CRLNotCurrent, "thisUpdate " + c.List.ThisUpdate.UTC().Format(time.RFC3339) + " is in the future"}
	}
	if c.List.NextUpdate.IsZero() {
		return &CRLError{CRLNotCurrent, "it has no nextUpdate"}
	}
	if !now.Before(c.List.NextUpdate) {
		return &CRLError{CRLNotCurrent, "nextUpdate " + c.List.NextUpdate.UTC().Format(time.RFC3339) + " has passed"}
	}
	if e, ok := c.Lookup(cert.SerialNumber); ok {
		return &RevokedError{Cert: cert, Entry: e}
	}
	return nil
}
