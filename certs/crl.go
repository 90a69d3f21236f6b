package certs

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash/maphash"
	"math/big"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CRL is a revocation list ready for lookups: its header fields (through
// crypto/x509) and an index of its revoked serial numbers, so checking a
// certificate is a hash lookup, never a scan (RFC 5280 §5.1.2.6). Build it
// once with IndexCRL or ParseCRLIndex and reuse it; it is safe for concurrent
// use. The index aliases the CRL's DER bytes.
type CRL struct {
	// List holds the header fields. When the CRL came from ParseCRLIndex its
	// RevokedCertificateEntries are left empty: use Lookup and Len.
	List *x509.RevocationList
	// list is the revokedCertificates contents; entries locate each entry and
	// its serial number's INTEGER contents in it, in file order. Offsets, not
	// slices, so the index holds no pointers for the GC to scan.
	list    []byte
	entries []crlEntry
	// table is an open-addressing hash table of entry index+1 (0 = empty).
	table []int32
	seed  maphash.Seed
	// idp is the issuingDistributionPoint extension (RFC 5280 §5.2.5), nil
	// when absent; idpRaw its value, which a delta CRL must repeat.
	idp    *issuingDP
	idpRaw []byte
	// baseNumber is the deltaCRLIndicator's BaseCRLNumber (RFC 5280
	// §5.2.4); nil for a complete CRL.
	baseNumber *big.Int
	// issuerChanges are the entries of an indirect CRL that carry a
	// certificateIssuer extension (RFC 5280 §5.3.3), in file order.
	issuerChanges []issuerChange
	// unusable, when set, says why the CRL must not be used at all
	// (RFC 5280 §5.2, §5.3: an unrecognised critical extension).
	unusable string
	// verifiedBy caches the issuer whose key verified the signature.
	verifiedBy atomic.Pointer[x509.Certificate]
}

type crlEntry struct {
	off, end  uint32 // the whole RevokedCertificate SEQUENCE: list[off:end]
	serialOff uint32 // INTEGER contents: list[serialOff:serialOff+serialLen]
	serialLen uint32
}

// issuerChange says that from entry on, the entries of an indirect CRL are
// about certificates issued by names (RFC 5280 §5.3.3).
type issuerChange struct {
	entry int
	names []generalName
}

func (c *CRL) serial(e crlEntry) []byte { return c.list[e.serialOff : e.serialOff+e.serialLen] }
func (c *CRL) raw(e crlEntry) []byte    { return c.list[e.off:e.end] }

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
	oidCertIssuer      = asn1.ObjectIdentifier{2, 5, 29, 29}
)

// ParseCRLIndex reads a CRL (PEM or DER) straight into a CRL index. It
// parses the header with crypto/x509 and scans the revoked entries itself
// without allocating per entry, which makes a 100,000-entry CRL cheap; the
// signature still covers the original bytes.
func ParseCRLIndex(data []byte) (*CRL, error) {
	der, err := crlDER(data)
	if err != nil {
		return nil, err
	}
	tbs, list, head, err := splitCRL(der)
	if err != nil {
		return nil, &FormatError{Want: ErrNoCRL, Looks: looksLike(data)}
	}
	rl, err := x509.ParseRevocationList(head)
	if err != nil {
		return nil, &FormatError{Want: ErrNoCRL, Looks: looksLike(data)}
	}
	rl.Raw, rl.RawTBSRevocationList = der, tbs
	c := &CRL{List: rl}
	if err := c.scan(list); err != nil {
		return nil, err
	}
	c.readExtensions()
	return c, nil
}

// IndexCRL builds the index of an already parsed list from its raw TBS bytes.
// A list whose bytes do not scan (not from ParseCRL) yields an unusable CRL.
func IndexCRL(rl *x509.RevocationList) *CRL {
	c := &CRL{List: rl}
	if list, ok := revokedList(rl.RawTBSRevocationList); !ok {
		c.unusable = "its revokedCertificates are malformed"
	} else if err := c.scan(list); err != nil {
		c.unusable = err.Error()
	}
	c.readExtensions()
	return c
}

// crlDER returns the DER of data, decoding the first "X509 CRL" PEM block.
func crlDER(data []byte) ([]byte, error) {
	der, _, err := singleDER(data, ErrNoCRL, "X509 CRL")
	return der, err
}

// splitCRL finds, in CertificateList (RFC 5280 §5.1), the TBS bytes and the
// revokedCertificates contents, and builds head: the same CRL with the
// revokedCertificates left out, for crypto/x509 to parse the header fields.
// The signature in head is the original one; callers restore the original TBS.
func splitCRL(der []byte) (tbs, list, head []byte, err error) {
	s := cryptobyte.String(der)
	var outer, tbsElem cryptobyte.String
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, nil, nil, ErrNoCRL
	}
	rest := outer
	if !rest.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return nil, nil, nil, ErrNoCRL
	}
	before, list, after, ok := tbsParts(tbsElem)
	if !ok {
		return nil, nil, nil, ErrNoCRL
	}
	if list == nil {
		return tbsElem, nil, der, nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(before)
			b.AddBytes(after)
		})
		b.AddBytes(rest)
	})
	head, err = b.Bytes()
	return tbsElem, list, head, err
}

// revokedList returns the contents of revokedCertificates in a TBSCertList
// element (nil when absent).
func revokedList(tbs []byte) ([]byte, bool) {
	_, list, _, ok := tbsParts(tbs)
	return list, ok
}

// tbsParts splits TBSCertList (RFC 5280 §5.1.2) into the bytes before
// revokedCertificates (version, signature, issuer, thisUpdate, nextUpdate),
// the list's contents (nil when absent) and the bytes after (crlExtensions).
func tbsParts(tbs []byte) (before, list, after []byte, ok bool) {
	s := cryptobyte.String(tbs)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, nil, nil, false
	}
	start := body
	if body.PeekASN1Tag(cbasn1.INTEGER) && !body.SkipASN1(cbasn1.INTEGER) {
		return nil, nil, nil, false
	}
	for range 2 { // signature, issuer
		if !body.SkipASN1(cbasn1.SEQUENCE) {
			return nil, nil, nil, false
		}
	}
	for range 2 { // thisUpdate, optional nextUpdate
		switch {
		case body.PeekASN1Tag(cbasn1.UTCTime):
			body.SkipASN1(cbasn1.UTCTime)
		case body.PeekASN1Tag(cbasn1.GeneralizedTime):
			body.SkipASN1(cbasn1.GeneralizedTime)
		}
	}
	before = start[:len(start)-len(body)]
	if body.PeekASN1Tag(cbasn1.SEQUENCE) {
		var inner cryptobyte.String
		if !body.ReadASN1(&inner, cbasn1.SEQUENCE) {
			return nil, nil, nil, false
		}
		list = inner
		if list == nil {
			list = []byte{}
		}
	}
	return before, list, body, true
}

// maxCRLEntries bounds the index a hostile file can make us build.
const maxCRLEntries = 10_000_000

// scan indexes the revokedCertificates contents (RFC 5280 §5.1.2.6) and
// records an unrecognised critical entry extension (§5.3).
func (c *CRL) scan(list []byte) error {
	if len(list) > 1<<31 {
		return fmt.Errorf("certs: CRL too large")
	}
	c.list = list
	n := 0
	for i := 0; i < len(list); n++ {
		tag, _, end, ok := readTLV(list, i)
		if !ok || tag != 0x30 {
			return fmt.Errorf("certs: CRL entry %d is malformed", n+1)
		}
		i = end
	}
	if n > maxCRLEntries {
		return fmt.Errorf("certs: CRL has more than %d entries", maxCRLEntries)
	}
	c.entries = make([]crlEntry, 0, n)
	for off := 0; off < len(list); {
		_, body, end, _ := readTLV(list, off) // checked by the counting pass
		tag, sStart, sEnd, ok := readTLV(list[:end], body)
		if !ok || tag != 0x02 || sEnd == sStart || !minimalInteger(list[sStart:sEnd]) {
			return fmt.Errorf("certs: CRL entry %d has no serial number", len(c.entries)+1)
		}
		crit, certIssuer, err := checkEntryTail(cryptobyte.String(list[sEnd:end]))
		if err != nil {
			return fmt.Errorf("certs: CRL entry %d %w", len(c.entries)+1, err)
		}
		if crit != "" && c.unusable == "" {
			c.unusable = fmt.Sprintf("entry %d has an unrecognised critical extension %s", len(c.entries)+1, crit)
		}
		if certIssuer != nil {
			names, ok := parseGeneralNames(certIssuer)
			if !ok || len(names) == 0 {
				return fmt.Errorf("certs: CRL entry %d has a malformed certificateIssuer extension", len(c.entries)+1)
			}
			c.issuerChanges = append(c.issuerChanges, issuerChange{entry: len(c.entries), names: names})
		}
		c.entries = append(c.entries, crlEntry{off: uint32(off), end: uint32(end), serialOff: uint32(sStart), serialLen: uint32(sEnd - sStart)})
		off = end
	}
	c.buildTable()
	return nil
}

// readTLV reads one DER element at buf[i:] with a single-byte tag and a
// minimally encoded definite length (X.690 §10.1), as crypto/x509's parser
// demands. It returns the tag, where the contents start and where the
// element ends. It works on offsets so the hot loop writes no pointers.
func readTLV(buf []byte, i int) (tag byte, start, end int, ok bool) {
	if i+2 > len(buf) {
		return 0, 0, 0, false
	}
	tag = buf[i]
	if tag&0x1f == 0x1f {
		return 0, 0, 0, false
	}
	l := int(buf[i+1])
	start = i + 2
	if l >= 0x80 {
		n := l & 0x7f
		if n == 0 || n > 4 || start+n > len(buf) || buf[start] == 0 {
			return 0, 0, 0, false
		}
		l = 0
		for _, b := range buf[start : start+n] {
			l = l<<8 | int(b)
		}
		start += n
		if l < 0x80 {
			return 0, 0, 0, false // should have used the short form
		}
	}
	end = start + l
	if l < 0 || end > len(buf) {
		return 0, 0, 0, false
	}
	return tag, start, end, true
}

// minimalInteger reports whether b is a minimal two's-complement INTEGER
// encoding (X.690 §8.3.2).
func minimalInteger(b []byte) bool {
	return len(b) == 1 || !(b[0] == 0 && b[1]&0x80 == 0) && !(b[0] == 0xff && b[1]&0x80 != 0)
}

// checkEntryTail checks what follows an entry's serial number as strictly as
// crypto/x509 does (RFC 5280 §5.3: revocationDate, then optional
// crlEntryExtensions, each an OID, an optional critical BOOLEAN and an OCTET
// STRING; a reasonCode must hold an ENUMERATED), so the index never accepts a
// list crypto/x509 refuses. It returns the OID of the first unrecognised
// critical extension, if any, and the contents of a certificateIssuer
// extension's GeneralNames (RFC 5280 §5.3.3), if present.
func checkEntryTail(rest cryptobyte.String) (critical string, certIssuer []byte, err error) {
	var t time.Time
	var body cryptobyte.String
	switch whole := rest; {
	case rest.PeekASN1Tag(cbasn1.UTCTime):
		if !rest.ReadASN1(&body, cbasn1.UTCTime) {
			return "", nil, errors.New("has a malformed revocation date")
		}
		if !canonicalTime(body, false) && !whole.ReadASN1UTCTime(&t) {
			return "", nil, errors.New("has a malformed revocation date")
		}
	case rest.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !rest.ReadASN1(&body, cbasn1.GeneralizedTime) {
			return "", nil, errors.New("has a malformed revocation date")
		}
		if !canonicalTime(body, true) && !whole.ReadASN1GeneralizedTime(&t) {
			return "", nil, errors.New("has a malformed revocation date")
		}
	default:
		return "", nil, errors.New("has no revocation date")
	}
	var seq cryptobyte.String
	var present bool
	if !rest.ReadOptionalASN1(&seq, &present, cbasn1.SEQUENCE) {
		return "", nil, errors.New("has malformed extensions")
	}
	for present && !seq.Empty() {
		var ext, val cryptobyte.String
		var oid asn1.ObjectIdentifier
		crit := false
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
			return "", nil, errors.New("has a malformed extension")
		}
		if ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&crit) {
			return "", nil, errors.New("has a malformed extension")
		}
		if !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
			return "", nil, errors.New("has a malformed extension")
		}
		if oid.Equal(oidReasonCode) {
			var reason int
			if !val.ReadASN1Enum(&reason) {
				return "", nil, errors.New("has a malformed reasonCode extension")
			}
		}
		if oid.Equal(oidCertIssuer) {
			var names cryptobyte.String
			if !val.ReadASN1(&names, cbasn1.SEQUENCE) || !val.Empty() {
				return "", nil, errors.New("has a malformed certificateIssuer extension")
			}
			certIssuer = names
			if certIssuer == nil {
				certIssuer = []byte{}
			}
			continue
		}
		if crit && critical == "" && !oid.Equal(oidReasonCode) && !oid.Equal(oidInvalidityDate) && !oid.Equal(oidHoldInstruction) {
			critical = oid.String()
		}
	}
	return critical, certIssuer, nil
}

// canonicalTime reports, without allocating, whether b is a valid date in
// the canonical form CAs write: UTCTime YYMMDDHHMMSSZ or GeneralizedTime
// YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5). Every string it accepts, cryptobyte's
// ReadASN1UTCTime / ReadASN1GeneralizedTime (what crypto/x509 uses) accepts
// too; anything else is left to them.
func canonicalTime(b []byte, generalized bool) bool {
	yearDigits := 2
	if generalized {
		yearDigits = 4
	}
	if len(b) != yearDigits+11 || b[len(b)-1] != 'Z' {
		return false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, yearDigits), num(yearDigits, 2), num(yearDigits+2, 2)
	hour, minute, second := num(yearDigits+4, 2), num(yearDigits+6, 2), num(yearDigits+8, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || second < 0 || second > 59 {
		return false
	}
	if !generalized { // Go reads YY 69-99 as 19YY and 00-68 as 20YY
		if year >= 69 {
			year += 1900
		} else {
			year += 2000
		}
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

func (c *CRL) buildTable() {
	n := 16
	for n < 2*len(c.entries) {
		n <<= 1
	}
	c.seed = maphash.MakeSeed()
	c.table = make([]int32, n)
	mask := uint64(n - 1)
	for i, e := range c.entries {
		h := maphash.Bytes(c.seed, c.serial(e)) & mask
		for c.table[h] != 0 {
			h = (h + 1) & mask
		}
		c.table[h] = int32(i + 1)
	}
}

// readExtensions reads the CRL extensions that decide whether and to what it
// applies (RFC 5280 §5.2), and checks that its entries fit them.
func (c *CRL) readExtensions() {
	for _, e := range c.List.Extensions {
		switch {
		case e.Id.Equal(oidIssuingDP):
			p, err := parseIssuingDP(e.Value, c.List.RawIssuer)
			if err != nil {
				c.setUnusable(err.Error())
				continue
			}
			c.idp, c.idpRaw = p, e.Value
			if p.onlyAttr {
				c.setUnusable("it covers attribute certificates only (RFC 5280 §5.2.5)")
			}
		case e.Id.Equal(oidDeltaCRL):
			s := cryptobyte.String(e.Value)
			base := new(big.Int)
			if !s.ReadASN1Integer(base) || !s.Empty() || base.Sign() < 0 {
				c.setUnusable("its deltaCRLIndicator is malformed")
				continue
			}
			c.baseNumber = base
		case e.Critical && !e.Id.Equal(oidCRLNumber) && !e.Id.Equal(oidAuthorityKeyID) &&
			!e.Id.Equal(oidFreshestCRL) && !e.Id.Equal(oidAuthorityInfo):
			c.setUnusable(fmt.Sprintf("it has an unrecognised critical extension %v", e.Id))
		}
	}
	if len(c.issuerChanges) > 0 && (c.idp == nil || !c.idp.indirect) {
		c.setUnusable(fmt.Sprintf("entry %d names a certificate issuer, but the CRL is not an indirect CRL (RFC 5280 §5.3.3)", c.issuerChanges[0].entry+1))
	}
	if c.baseNumber != nil && c.List.Number == nil {
		c.setUnusable("it is a delta CRL without a CRL number (RFC 5280 §5.2.4)")
	}
}

func (c *CRL) setUnusable(why string) {
	if c.unusable == "" {
		c.unusable = why
	}
}

// Len is the number of revoked entries.
func (c *CRL) Len() int { return len(c.entries) }

// IsDelta reports whether the CRL is a delta CRL (RFC 5280 §5.2.4): it lists
// only what changed since its base CRL and is used together with a complete
// CRL numbered at least BaseNumber.
func (c *CRL) IsDelta() bool { return c.baseNumber != nil }

// BaseNumber is a delta CRL's BaseCRLNumber; nil for a complete CRL.
func (c *CRL) BaseNumber() *big.Int { return c.baseNumber }

// Revocation is one entry of a CRL (RFC 5280 §5.1.2.6, §5.3.1).
type Revocation struct {
	Serial *big.Int
	Time   time.Time
	Reason int // CRLReason; 0 when absent
}

// CRL reason codes (RFC 5280 §5.3.1) a revocation check treats specially.
const (
	ReasonCertificateHold = 6 // suspended: revoked until a removeFromCRL entry releases it
	ReasonRemoveFromCRL   = 8 // on a delta CRL: the hold is released
)

// ReasonName is the CRLReason name of code, as OpenSSL prints it
// ("keyCompromise"); "unspecified" for 0.
func ReasonName(code int) string {
	names := [...]string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
		"cessationOfOperation", "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise"}
	if code >= 0 && code < len(names) && names[code] != "" {
		return names[code]
	}
	return fmt.Sprintf("reason %d", code)
}

// Lookup returns the entry revoking serial, if the CRL lists it: one hash
// probe sequence, no scan. On an indirect CRL it is the first entry with
// that serial, whichever issuer it is about: use LookupIssued.
func (c *CRL) Lookup(serial *big.Int) (Revocation, bool) {
	var r Revocation
	found := false
	c.probe(serial, func(i int, e crlEntry) bool {
		r, found = parseEntry(c.raw(e), serial), true
		return false
	})
	return r, found
}

// LookupIssued returns the entry revoking the certificate with serial
// issued by the name issuer (DER). On a direct CRL that is Lookup, when
// issuer is the CRL's issuer; on an indirect CRL the entry must be about
// issuer: the nearest certificateIssuer extension at or before it names it,
// or there is none and the CRL's issuer is issuer (RFC 5280 §5.3.3).
func (c *CRL) LookupIssued(serial *big.Int, issuer []byte) (Revocation, bool) {
	var r Revocation
	found := false
	c.probe(serial, func(i int, e crlEntry) bool {
		if !c.entryIssuedBy(i, issuer) {
			return true
		}
		r, found = parseEntry(c.raw(e), serial), true
		return false
	})
	return r, found
}

// probe calls f for each entry whose serial is serial, in probe order,
// while f returns true.
func (c *CRL) probe(serial *big.Int, f func(i int, e crlEntry) bool) {
	if serial == nil || len(c.table) == 0 {
		return
	}
	content := integerContent(serial)
	if content == nil {
		return
	}
	mask := uint64(len(c.table) - 1)
	for h := maphash.Bytes(c.seed, content) & mask; c.table[h] != 0; h = (h + 1) & mask {
		i := int(c.table[h] - 1)
		e := c.entries[i]
		if bytes.Equal(c.serial(e), content) && !f(i, e) {
			return
		}
	}
}

// entryIssuedBy reports whether entry i is about certificates of issuer.
func (c *CRL) entryIssuedBy(i int, issuer []byte) bool {
	if c.idp == nil || !c.idp.indirect || len(c.issuerChanges) == 0 {
		return nameEqual(c.List.RawIssuer, issuer)
	}
	j := sort.Search(len(c.issuerChanges), func(j int) bool { return c.issuerChanges[j].entry > i }) - 1
	if j < 0 {
		return nameEqual(c.List.RawIssuer, issuer)
	}
	for _, n := range c.issuerChanges[j].names {
		if n.number() == gnDirectoryName && nameEqual(n.value, issuer) {
			return true
		}
	}
	return false
}

// integerContent is the DER INTEGER contents of n (X.690 §8.3), nil if it
// cannot be encoded.
func integerContent(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			return append([]byte{0}, b...)
		}
		return b
	}
	der, err := asn1.Marshal(n)
	if err != nil {
		return nil
	}
	s := cryptobyte.String(der)
	var content cryptobyte.String
	if !s.ReadASN1(&content, cbasn1.INTEGER) {
		return nil
	}
	return content
}

// parseEntry reads a RevokedCertificate's date and reason code.
func parseEntry(raw []byte, serial *big.Int) Revocation {
	r := Revocation{Serial: serial}
	s := cryptobyte.String(raw)
	var entry cryptobyte.String
	s.ReadASN1(&entry, cbasn1.SEQUENCE)
	entry.SkipASN1(cbasn1.INTEGER)
	switch {
	case entry.PeekASN1Tag(cbasn1.UTCTime):
		entry.ReadASN1UTCTime(&r.Time)
	case entry.PeekASN1Tag(cbasn1.GeneralizedTime):
		entry.ReadASN1GeneralizedTime(&r.Time)
	}
	var seq cryptobyte.String
	if entry.ReadASN1(&seq, cbasn1.SEQUENCE) {
		for !seq.Empty() {
			var ext, val cryptobyte.String
			var oid asn1.ObjectIdentifier
			var crit bool
			if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
				!ext.ReadOptionalASN1Boolean(&crit, cbasn1.BOOLEAN, false) || !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
				break
			}
			if oid.Equal(oidReasonCode) {
				var code cryptobyte.String
				if val.ReadASN1(&code, cbasn1.ENUM) && len(code) == 1 {
					r.Reason = int(code[0])
				}
			}
		}
	}
	return r
}

// Covers reports whether the CRL is about cert: issued by the certificate's
// issuer or, for an indirect CRL, by a cRLIssuer its distribution points name
// (RFC 5280 §6.3.3 (b)(1)), and within its scope (§6.3.3 (b)(2): the
// distribution point names, the kind of certificate). It says nothing of
// the reasons the CRL covers, nor of its signature or dates.
func (c *CRL) Covers(cert *x509.Certificate) bool {
	dps, err := certDistPoints(cert)
	if err != nil || c.IsDelta() {
		return false
	}
	for _, dp := range dps {
		if c.scopeProblem(cert, dp) == "" {
			return true
		}
	}
	return false
}

// scopeProblem says why the complete CRL c is not a CRL for cert through
// the distribution point dp (RFC 5280 §6.3.3 (b)), or "" when it is.
func (c *CRL) scopeProblem(cert *x509.Certificate, dp distPoint) string {
	if dp.crlIssuer != nil {
		if !anyGeneralNameEqual(dp.crlIssuer, []generalName{directoryName(c.List.RawIssuer)}) {
			return "issuer"
		}
		if c.idp == nil || !c.idp.indirect {
			return "it is not an indirect CRL, which the certificate's cRLIssuer asks for"
		}
	} else if !nameEqual(c.List.RawIssuer, cert.RawIssuer) {
		return "issuer"
	}
	p := c.idp
	if p == nil {
		return ""
	}
	if p.names != nil {
		switch {
		case dp.names != nil:
			if !anyGeneralNameEqual(p.names, dp.names) {
				return "it is the CRL of the distribution point " + describeNames(p.names) + ", not of " + describeNames(dp.names)
			}
		case !anyGeneralNameEqual(p.names, dp.crlIssuer):
			return "it is the CRL of the distribution point " + describeNames(p.names) + ", which the certificate's cRLIssuer does not name"
		}
	}
	isCA := cert.BasicConstraintsValid && cert.IsCA
	switch {
	case p.onlyUser && isCA:
		return "it covers end-entity certificates only"
	case p.onlyCA && !isCA:
		return "it covers CA certificates only"
	case p.onlyAttr:
		return "it covers attribute certificates only"
	}
	return ""
}

// describeNames shows distribution point names the way people read them.
func describeNames(names []generalName) string {
	var out []string
	for _, n := range names {
		switch n.number() {
		case gnURI:
			out = append(out, string(n.value))
		case gnDirectoryName:
			var rdn pkix.RDNSequence
			if _, err := asn1.Unmarshal(n.value, &rdn); err == nil {
				var name pkix.Name
				name.FillFromRDNSequence(&rdn)
				out = append(out, name.String())
				continue
			}
			out = append(out, "a directory name")
		default:
			out = append(out, "a name")
		}
	}
	return strings.Join(out, ", ")
}

// CRLProblem says why a CRL could not be used for a certificate.
type CRLProblem string

// CRL problems, as CRLError.Problem.
const (
	CRLBadSignature CRLProblem = "signature"   // not signed by a key of the certificate's CRL issuer that chains to the anchor (§6.3.3 (f))
	CRLNotCurrent   CRLProblem = "not current" // now outside thisUpdate..nextUpdate (§6.3.3 (a))
	CRLUnusable     CRLProblem = "unusable"    // unrecognised critical extension, attribute certificates only (§5.2, §5.3)
	CRLOutOfScope   CRLProblem = "scope"       // the issuer's CRL, but of another distribution point or kind of certificate (§6.3.3 (b)(2))
	CRLSomeReasons  CRLProblem = "reasons"     // the CRLs given cover only some revocation reasons (§6.3.3 (d), (l))
	CRLDelta        CRLProblem = "delta"       // a delta CRL without its base, or one that cannot be combined with it (§5.2.4, §6.3.3 (c))
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
	Entry Revocation
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("certs: certificate %q (serial %x) was revoked on %s, reason %s", e.Cert.Subject.String(), e.Cert.SerialNumber,
		e.Entry.Time.UTC().Format(time.RFC3339), ReasonName(e.Entry.Reason))
}

// Check validates the CRL for cert, issued by issuer, at now, when issuer's
// key signs the CRL (RFC 5280 §6.3.3 for a complete CRL from the
// certificate's issuer): it is signed by issuer, which must allow cRLSign
// when it has a key usage (§4.2.1.3); thisUpdate ≤ now < nextUpdate; no
// unrecognised critical extension. It returns a *RevokedError when cert is
// listed, a *CRLError when the CRL cannot be used, and nil when cert is not
// revoked. It does not decide scope (Covers) nor combine CRLs: Verify and
// PathRevocation do the whole of §6.3.3.
func (c *CRL) Check(cert, issuer *x509.Certificate, now time.Time) error {
	if issuer == nil {
		return &CRLError{CRLBadSignature, "the issuing CA certificate was not given"}
	}
	if err := c.usableWith(issuer, now); err != nil {
		return err
	}
	if e, ok := c.LookupIssued(cert.SerialNumber, cert.RawIssuer); ok {
		return &RevokedError{Cert: cert, Entry: e}
	}
	return nil
}

// usableWith checks what makes the CRL usable at now when signed by signer:
// no reason to refuse it outright, cRLSign, the signature, the dates.
func (c *CRL) usableWith(signer *x509.Certificate, now time.Time) error {
	if c.unusable != "" {
		return &CRLError{CRLUnusable, c.unusable}
	}
	if err := c.signedBy(signer); err != nil {
		return err
	}
	return c.current(now)
}

// signedBy checks that signer's key verifies the CRL and that signer may
// sign CRLs (RFC 5280 §4.2.1.3, §6.3.3 (f)).
func (c *CRL) signedBy(signer *x509.Certificate) error {
	if !c.verifies(signer) {
		return &CRLError{CRLBadSignature, "it does not verify with " + signer.Subject.String() + "'s key"}
	}
	if signer.KeyUsage != 0 && signer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return &CRLError{CRLBadSignature, "the key usage of " + signer.Subject.String() + " does not allow cRLSign"}
	}
	return nil
}

// verifies reports whether signer's key verifies the CRL's signature; the
// last key that did is remembered, so a CRL used for many certificates is
// verified once.
func (c *CRL) verifies(signer *x509.Certificate) bool {
	if v := c.verifiedBy.Load(); v != nil && v.Equal(signer) {
		return true
	}
	// x509.RevocationList.CheckSignatureFrom would also demand a CA
	// certificate; a separate CRL-signing certificate need not be one
	// (RFC 5280 §6.3.3 (f)), so only the key is checked here and cRLSign by
	// signedBy.
	if signer.CheckSignature(c.List.SignatureAlgorithm, c.List.RawTBSRevocationList, c.List.Signature) != nil {
		return false
	}
	c.verifiedBy.Store(signer)
	return true
}

// current checks thisUpdate ≤ now < nextUpdate (RFC 5280 §6.3.3 (a)).
func (c *CRL) current(now time.Time) error {
	if now.Before(c.List.ThisUpdate) {
		return &CRLError{CRLNotCurrent, "thisUpdate " + c.List.ThisUpdate.UTC().Format(time.RFC3339) + " is in the future"}
	}
	if c.List.NextUpdate.IsZero() {
		return &CRLError{CRLNotCurrent, "it has no nextUpdate"}
	}
	if !now.Before(c.List.NextUpdate) {
		return &CRLError{CRLNotCurrent, "nextUpdate " + c.List.NextUpdate.UTC().Format(time.RFC3339) + " has passed"}
	}
	return nil
}
