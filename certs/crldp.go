package certs

import (
	"crypto/x509"
	"errors"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// reasonMask is a set of revocation reasons, ReasonFlags bit i at 1<<i (RFC
// 5280 §4.2.1.13: keyCompromise (1) .. aACompromise (8); bit 0 is unused).
type reasonMask uint16

// allReasons is every reason a CRL can cover (RFC 5280 §6.3.3: all-reasons).
const allReasons reasonMask = 0x1fe

// reasonNames are the ReasonFlags names, by bit.
var reasonNames = [...]string{"unused", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "privilegeWithdrawn", "aACompromise"}

// String lists the reasons by name.
func (m reasonMask) String() string {
	var out []string
	for i := 1; i < len(reasonNames); i++ {
		if m&(1<<i) != 0 {
			out = append(out, reasonNames[i])
		}
	}
	return strings.Join(out, ", ")
}

// parseReasonFlags reads a ReasonFlags BIT STRING's contents.
func parseReasonFlags(v []byte) (reasonMask, bool) {
	if len(v) == 0 || v[0] > 7 || len(v) == 1 && v[0] != 0 {
		return 0, false
	}
	var m reasonMask
	for i, b := range v[1:] {
		for bit := range 8 {
			if b&(0x80>>bit) != 0 && i*8+bit < 9 {
				m |= 1 << (i*8 + bit)
			}
		}
	}
	return m &^ 1, true
}

// distPoint is a DistributionPoint of a certificate's cRLDistributionPoints
// (RFC 5280 §4.2.1.13), its name made full: a nameRelativeToCRLIssuer is
// appended to the cRLIssuer's name, or else to the certificate's issuer.
type distPoint struct {
	names     []generalName // the distribution point's full names; nil when absent
	reasons   reasonMask    // 0 when the field is absent (every reason)
	crlIssuer []generalName // nil when absent: the certificate's issuer issues the CRL
}

// certDistPoints returns the distribution points of c's cRLDistributionPoints
// extension (none when absent), followed by the one RFC 5280 §6.3.3 assumes
// for CRLs "not specified in a distribution point but issued by the
// certificate issuer": named by the issuer, every reason, no cRLIssuer.
func certDistPoints(c *x509.Certificate) ([]distPoint, error) {
	var out []distPoint
	if _, ok, v := findExt(c, oidExtCRLDP); ok {
		dps, err := parseDistPoints(v, c.RawIssuer)
		if err != nil {
			return nil, err
		}
		out = dps
	}
	def := distPoint{names: []generalName{directoryName(c.RawIssuer)}}
	if _, ok, v := findExt(c, oidExtIssuerAltName); ok {
		s := cryptobyte.String(v)
		var seq cryptobyte.String
		if s.ReadASN1(&seq, cbasn1.SEQUENCE) {
			if names, ok := parseGeneralNames(seq); ok {
				def.names = append(def.names, names...)
			}
		}
	}
	return append(out, def), nil
}

var errMalformedDP = errors.New("certs: the certificate's cRLDistributionPoints extension is malformed")

func parseDistPoints(v, certIssuer []byte) ([]distPoint, error) {
	s := cryptobyte.String(v)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errMalformedDP
	}
	var out []distPoint
	for !seq.Empty() {
		var dp cryptobyte.String
		if !seq.ReadASN1(&dp, cbasn1.SEQUENCE) {
			return nil, errMalformedDP
		}
		var d distPoint
		var nameField cryptobyte.String
		var hasName bool
		for !dp.Empty() {
			var body cryptobyte.String
			var tag cbasn1.Tag
			if !dp.ReadAnyASN1(&body, &tag) {
				return nil, errMalformedDP
			}
			switch tag {
			case cbasn1.Tag(0).ContextSpecific().Constructed():
				nameField, hasName = body, true
			case cbasn1.Tag(1).ContextSpecific():
				m, ok := parseReasonFlags(body)
				if !ok {
					return nil, errMalformedDP
				}
				d.reasons = m
			case cbasn1.Tag(2).ContextSpecific().Constructed():
				names, ok := parseGeneralNames(body)
				if !ok || len(names) == 0 {
					return nil, errMalformedDP
				}
				d.crlIssuer = names
			default:
				return nil, errMalformedDP
			}
		}
		if hasName {
			base := certIssuer
			for _, n := range d.crlIssuer {
				if n.number() == gnDirectoryName {
					base = n.value
					break
				}
			}
			names, ok := parseDPName(nameField, base)
			if !ok {
				return nil, errMalformedDP
			}
			d.names = names
		}
		if d.names == nil && d.crlIssuer == nil {
			return nil, errMalformedDP // RFC 5280 §4.2.1.13: one of the two MUST be present
		}
		out = append(out, d)
	}
	return out, nil
}

// parseDPName reads a DistributionPointName (the contents of its [0]
// wrapper) into full names: fullName as given, nameRelativeToCRLIssuer
// appended to base (RFC 5280 §4.2.1.13, §5.2.5).
func parseDPName(s cryptobyte.String, base []byte) ([]generalName, bool) {
	var body cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&body, &tag) || !s.Empty() {
		return nil, false
	}
	switch tag {
	case cbasn1.Tag(0).ContextSpecific().Constructed():
		names, ok := parseGeneralNames(body)
		return names, ok && len(names) > 0
	case cbasn1.Tag(1).ContextSpecific().Constructed():
		if _, ok := parseRDN(body); !ok {
			return nil, false
		}
		full, ok := appendRDN(base, body)
		if !ok {
			return nil, false
		}
		return []generalName{directoryName(full)}, true
	}
	return nil, false
}

// issuingDP is a CRL's issuingDistributionPoint extension (RFC 5280 §5.2.5).
type issuingDP struct {
	names                      []generalName // distributionPoint, made full; nil when absent
	onlyUser, onlyCA, onlyAttr bool
	reasons                    reasonMask // onlySomeReasons; 0 when absent
	indirect                   bool
}

// parseIssuingDP reads the extension's value; crlIssuer is the CRL's issuer
// name, the base of a nameRelativeToCRLIssuer.
func parseIssuingDP(v, crlIssuer []byte) (*issuingDP, error) {
	bad := errors.New("its issuingDistributionPoint is malformed")
	s := cryptobyte.String(v)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad
	}
	p := &issuingDP{}
	flag := func(body cryptobyte.String) (bool, bool) { return len(body) == 1 && body[0] != 0, len(body) == 1 }
	for !seq.Empty() {
		var tag cbasn1.Tag
		var body cryptobyte.String
		if !seq.ReadAnyASN1(&body, &tag) {
			return nil, bad
		}
		var ok bool
		switch tag {
		case cbasn1.Tag(0).ContextSpecific().Constructed():
			p.names, ok = parseDPName(body, crlIssuer)
		case cbasn1.Tag(1).ContextSpecific():
			p.onlyUser, ok = flag(body)
		case cbasn1.Tag(2).ContextSpecific():
			p.onlyCA, ok = flag(body)
		case cbasn1.Tag(3).ContextSpecific():
			p.reasons, ok = parseReasonFlags(body)
			ok = ok && p.reasons != 0
		case cbasn1.Tag(4).ContextSpecific():
			p.indirect, ok = flag(body)
		case cbasn1.Tag(5).ContextSpecific():
			p.onlyAttr, ok = flag(body)
		default:
			return nil, errors.New("its issuingDistributionPoint has an unknown field")
		}
		if !ok {
			return nil, bad
		}
	}
	if p.onlyUser && p.onlyCA || p.onlyUser && p.onlyAttr || p.onlyCA && p.onlyAttr {
		return nil, errors.New("its issuingDistributionPoint asserts two of onlyContainsUserCerts, onlyContainsCACerts and onlyContainsAttributeCerts")
	}
	return p, nil
}
