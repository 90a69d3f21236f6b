package certs

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// nameEqual reports whether two DER-encoded distinguished names
// (RDNSequence) match per RFC 5280 §7.1: the same number of RDNs, each with
// the same set of attributes, each attribute of the same type, and values
// equal after the LDAP StringPrep of RFC 4518 when both are character
// strings (case folded, NFKC, insignificant space removed; PrintableString
// and UTF8String alike), or equal in type and bytes otherwise. Names that
// are byte for byte the same match without parsing; a name that does not
// parse matches only itself.
func nameEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ra, ok1 := parseRDNs(a)
	rb, ok2 := parseRDNs(b)
	if !ok1 || !ok2 || len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		if !rdnEqual(ra[i], rb[i]) {
			return false
		}
	}
	return true
}

// attrValue is one AttributeTypeAndValue: its type's OID contents, and its
// value's tag and contents.
type attrValue struct {
	oid   []byte
	tag   cbasn1.Tag
	value []byte
}

// parseRDNs splits an RDNSequence into its RDNs' attributes.
func parseRDNs(der []byte) ([][]attrValue, bool) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, false
	}
	var out [][]attrValue
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return nil, false
		}
		rdn, ok := parseRDN(set)
		if !ok {
			return nil, false
		}
		out = append(out, rdn)
	}
	return out, true
}

// parseRDN reads the contents of one RelativeDistinguishedName SET.
func parseRDN(set cryptobyte.String) ([]attrValue, bool) {
	var rdn []attrValue
	for !set.Empty() {
		var atv, oid, val cryptobyte.String
		var tag cbasn1.Tag
		if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
			!atv.ReadAnyASN1(&val, &tag) || !atv.Empty() {
			return nil, false
		}
		rdn = append(rdn, attrValue{oid: oid, tag: tag, value: val})
	}
	return rdn, len(rdn) > 0
}

// rdnEqual matches two RDNs as sets of attributes.
func rdnEqual(a, b []attrValue) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
	for _, x := range a {
		found := false
		for j, y := range b {
			if !used[j] && attrEqual(x, y) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func attrEqual(a, b attrValue) bool {
	if !bytes.Equal(a.oid, b.oid) {
		return false
	}
	if a.tag == b.tag && bytes.Equal(a.value, b.value) {
		return true
	}
	pa, ok1 := prepareString(a.tag, a.value)
	pb, ok2 := prepareString(b.tag, b.value)
	return ok1 && ok2 && pa == pb
}

// Character string tags (X.680 §8.6) a DirectoryString and its relatives use.
const (
	tagUTF8String      = cbasn1.Tag(12)
	tagPrintableString = cbasn1.PrintableString
	tagTeletexString   = cbasn1.T61String
	tagIA5String       = cbasn1.IA5String
	tagUniversalString = cbasn1.Tag(28)
	tagBMPString       = cbasn1.Tag(30)
)

// caseFold is the RFC 3454 table B.2 mapping RFC 4518 §2.2 asks for.
var caseFold = cases.Fold()

// prepareString applies RFC 4518's string preparation to a character
// string value: transcode to Unicode (§2.1), map (§2.2: characters mapped to
// nothing or to SPACE, case folding), normalize to NFKC (§2.3), refuse
// prohibited characters (§2.4) and remove insignificant space (§2.6.1). ok
// is false for a value that is not a character string or fails a step.
func prepareString(tag cbasn1.Tag, v []byte) (string, bool) {
	var s string
	switch tag {
	case tagUTF8String:
		if !utf8.Valid(v) {
			return "", false
		}
		s = string(v)
	case tagPrintableString, tagIA5String, tagTeletexString:
		// Teletex is read as Latin-1, as most implementations do.
		rs := make([]rune, len(v))
		for i, c := range v {
			rs[i] = rune(c)
		}
		s = string(rs)
	case tagBMPString:
		if len(v)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v)/2)
		for i := range u {
			u[i] = uint16(v[2*i])<<8 | uint16(v[2*i+1])
		}
		s = string(utf16.Decode(u))
	case tagUniversalString:
		if len(v)%4 != 0 {
			return "", false
		}
		rs := make([]rune, len(v)/4)
		for i := range rs {
			rs[i] = rune(v[4*i])<<24 | rune(v[4*i+1])<<16 | rune(v[4*i+2])<<8 | rune(v[4*i+3])
		}
		s = string(rs)
	default:
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case mappedToNothing(r):
		case r >= 0x09 && r <= 0x0d, r == 0x85, unicode.Is(unicode.Zs, r), r == 0x2028, r == 0x2029:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	out := norm.NFKC.String(caseFold.String(b.String()))
	for _, r := range out {
		if prohibited(r) {
			return "", false
		}
	}
	return strings.Join(strings.Fields(out), " "), true
}

// mappedToNothing lists RFC 4518 §2.2's characters mapped to nothing: soft
// hyphen, joiners and variation selectors, the object replacement character,
// and control characters other than the ones mapped to SPACE.
func mappedToNothing(r rune) bool {
	switch {
	case r == 0xad, r == 0x1806, r == 0x34f, r >= 0x180b && r <= 0x180d, r >= 0xfe00 && r <= 0xfe0f, r == 0xfffc, r == 0x200b:
		return true
	case r <= 0x08, r >= 0x0e && r <= 0x1f, r >= 0x7f && r <= 0x84, r >= 0x86 && r <= 0x9f:
		return true
	case r == 0x200c, r == 0x200d, r == 0x2060, r == 0xfeff:
		return true
	}
	return false
}

// prohibited is RFC 4518 §2.4: unassigned code points, private use,
// non-characters, surrogates and the replacement character.
func prohibited(r rune) bool {
	switch {
	case r == utf8.RuneError, r >= 0xd800 && r <= 0xdfff, r >= 0xe000 && r <= 0xf8ff, r >= 0xf0000:
		return true
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// generalName is one GeneralName (RFC 5280 §4.2.1.6): its tag (context
// class, the CHOICE number) and contents; for a directoryName the contents
// are the Name's whole DER.
type generalName struct {
	tag   cbasn1.Tag
	value []byte
}

// GeneralName CHOICE numbers (RFC 5280 §4.2.1.6).
const (
	gnDirectoryName = 4
	gnURI           = 6
)

func (g generalName) number() int { return int(g.tag & 0x1f) }

// parseGeneralNames reads the contents of a GeneralNames SEQUENCE.
func parseGeneralNames(s cryptobyte.String) ([]generalName, bool) {
	var out []generalName
	for !s.Empty() {
		var body cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&body, &tag) || tag&0xc0 != 0x80 {
			return nil, false
		}
		if int(tag&0x1f) == gnDirectoryName {
			var name cryptobyte.String
			if !body.ReadASN1Element(&name, cbasn1.SEQUENCE) || !body.Empty() {
				return nil, false
			}
			body = name
		}
		out = append(out, generalName{tag: tag, value: body})
	}
	return out, true
}

// directoryName is a GeneralName holding the DER Name raw.
func directoryName(raw []byte) generalName {
	return generalName{tag: cbasn1.Tag(gnDirectoryName).ContextSpecific().Constructed(), value: raw}
}

// generalNameEqual matches two GeneralNames: directory names per RFC 5280
// §7.1, URIs with the scheme and host compared without case (RFC 3986
// §6.2.2.1), the other forms by their bytes.
func generalNameEqual(a, b generalName) bool {
	if a.number() != b.number() {
		return false
	}
	switch a.number() {
	case gnDirectoryName:
		return nameEqual(a.value, b.value)
	case gnURI:
		return uriEqual(string(a.value), string(b.value))
	}
	return bytes.Equal(a.value, b.value)
}

func uriEqual(a, b string) bool {
	if a == b {
		return true
	}
	authority := func(u string) (head, rest string) {
		i := strings.Index(u, "://")
		if i < 0 {
			return "", u
		}
		j := strings.IndexAny(u[i+3:], "/?#")
		if j < 0 {
			return u, ""
		}
		return u[:i+3+j], u[i+3+j:]
	}
	ha, ra := authority(a)
	hb, rb := authority(b)
	return ha != "" && strings.EqualFold(ha, hb) && ra == rb
}

// anyGeneralNameEqual reports whether some name of a matches some name of b.
func anyGeneralNameEqual(a, b []generalName) bool {
	for _, x := range a {
		for _, y := range b {
			if generalNameEqual(x, y) {
				return true
			}
		}
	}
	return false
}

// appendRDN returns the DER Name base with one more RDN (the contents of a
// RelativeDistinguishedName SET) at its end: how RFC 5280 §4.2.1.13 turns a
// nameRelativeToCRLIssuer into a full name.
func appendRDN(base, rdnContents []byte) ([]byte, bool) {
	s := cryptobyte.String(base)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, false
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(seq)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(rdnContents) })
	})
	out, err := b.Bytes()
	return out, err == nil
}
