package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ParseCertificates reads every X.509 certificate in data, PEM or DER, one or
// many (RFC 5280 §4.1; PEM per RFC 7468 §5). PEM may carry "Bag Attributes"
// preambles and other blocks (keys are skipped); OpenSSL "TRUSTED
// CERTIFICATE" blocks are read without their trust suffix. DER may be several
// certificates concatenated. It fails with ErrNoCertificate (wrapped in a
// FormatError) when there is none.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	data, _ = plainText(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	if isPEM(data) {
		blocks, perr := pemBlocks(data)
		var out []*x509.Certificate
		for i, b := range blocks {
			switch b.Type {
			case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
			default:
				continue
			}
			der := firstElement(b.Bytes)
			c, err := parseCertificateDER(der)
			if err != nil {
				return nil, fmt.Errorf("certs: PEM block %d: %w", i+1, err)
			}
			out = append(out, c)
		}
		if perr != nil {
			return nil, perr
		}
		if len(out) == 0 {
			return nil, &FormatError{Want: ErrNoCertificate, Looks: looksLike(data)}
		}
		return out, nil
	}
	return parseDERCertificates(data)
}

// firstElement returns the first complete DER element of b, or b itself when
// it does not parse (so the caller's parser reports the error).
func firstElement(b []byte) []byte {
	s := cryptobyte.String(b)
	var elem cryptobyte.String
	if s.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		return elem
	}
	return b
}

func parseDERCertificates(data []byte) ([]*x509.Certificate, error) {
	s := cryptobyte.String(data)
	var out []*x509.Certificate
	for !s.Empty() {
		var elem cryptobyte.String
		if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
			if len(out) > 0 {
				return nil, fmt.Errorf("certs: DER certificate %d: %w", len(out)+1, ErrTruncated)
			}
			if data[0] == 0x30 {
				return nil, &FormatError{Want: ErrNoCertificate, Looks: derTruncatedLooks}
			}
			return nil, &FormatError{Want: ErrNoCertificate, Looks: looksLike(data)}
		}
		c, err := parseCertificateDER(elem)
		if err != nil {
			if len(out) == 0 {
				return nil, &FormatError{Want: ErrNoCertificate, Looks: looksLike(data)}
			}
			return nil, fmt.Errorf("certs: DER certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseCertificate reads exactly the first certificate of data (PEM or DER).
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	cs, err := ParseCertificates(data)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// parseCertificateDER is x509.ParseCertificate, except that a certificate
// whose cRLDistributionPoints name a distribution point relative to the CRL
// issuer (RFC 5280 §4.2.1.13 nameRelativeToCRLIssuer), which crypto/x509
// refuses to parse, is still read: it is parsed with those names left out of
// the extension, then given back its original bytes (Raw, RawTBSCertificate
// and the extension's value), so signatures, identity and Tapline's own
// reading of the distribution points (crldp.go) all see the certificate as
// issued. CRLDistributionPoints then lists only its full-name URIs.
func parseCertificateDER(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err == nil {
		return c, nil
	}
	tbs, dpValue, rewritten, ok := withoutRelativeDPNames(der)
	if !ok {
		if spki := certSPKI(der); spki != nil {
			if name := describeSPKI(spki); strings.Contains(name, "(not supported") {
				return nil, &UnsupportedKeyError{Name: name + "; the certificate cannot be read (" + strings.TrimPrefix(err.Error(), "x509: ") + ")"}
			}
		}
		return nil, err
	}
	c, err2 := x509.ParseCertificate(rewritten)
	if err2 != nil {
		return nil, err
	}
	c.Raw, c.RawTBSCertificate = der, tbs
	for i := range c.Extensions {
		if c.Extensions[i].Id.Equal(oidExtCRLDP) {
			c.Extensions[i].Value = dpValue
		}
	}
	return c, nil
}

// withoutRelativeDPNames rebuilds the certificate der with the
// nameRelativeToCRLIssuer distribution point names of its
// cRLDistributionPoints extension left out (each such DistributionPoint
// keeps its reasons and cRLIssuer). It returns the original TBS and extension
// value, and ok false when der has no such name or does not split.
func withoutRelativeDPNames(der []byte) (tbs, dpValue, out []byte, ok bool) {
	s := cryptobyte.String(der)
	var cert, tbsElem, tbsBody cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return nil, nil, nil, false
	}
	sigPart := cert // signatureAlgorithm and signatureValue
	body := tbsElem
	if !body.ReadASN1(&tbsBody, cbasn1.SEQUENCE) {
		return nil, nil, nil, false
	}
	// The extensions are the last field of TBSCertificate, [3] EXPLICIT.
	var before []byte
	var exts cryptobyte.String
	rest := tbsBody
	for !rest.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		start := rest
		if !rest.ReadAnyASN1Element(&el, &tag) {
			return nil, nil, nil, false
		}
		if tag == cbasn1.Tag(3).ContextSpecific().Constructed() && rest.Empty() {
			before = tbsBody[:len(tbsBody)-len(start)]
			if !el.ReadASN1(&el, tag) || !el.ReadASN1(&exts, cbasn1.SEQUENCE) {
				return nil, nil, nil, false
			}
		}
	}
	if exts == nil {
		return nil, nil, nil, false
	}
	var b cryptobyte.Builder
	found := false
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(before)
			b.AddASN1(cbasn1.Tag(3).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for !exts.Empty() {
						var ext cryptobyte.String
						if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
							b.SetError(ErrNoCertificate)
							return
						}
						id, crit, val, ok := splitExtension(ext)
						if !ok || !id.Equal(oidExtCRLDP) {
							b.AddBytes(ext)
							continue
						}
						stripped, changed := stripRelativeDPNames(val)
						if !changed {
							b.AddBytes(ext)
							continue
						}
						found, dpValue = true, val
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(id)
							if crit {
								b.AddASN1Boolean(true)
							}
							b.AddASN1OctetString(stripped)
						})
					}
				})
			})
		})
		b.AddBytes(sigPart)
	})
	out, err := b.Bytes()
	if err != nil || !found {
		return nil, nil, nil, false
	}
	return tbsElem, dpValue, out, true
}

// splitExtension reads an Extension (RFC 5280 §4.1): its OID, criticality
// and value.
func splitExtension(ext cryptobyte.String) (id asn1.ObjectIdentifier, critical bool, value []byte, ok bool) {
	var body, val cryptobyte.String
	if !ext.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&id) {
		return nil, false, nil, false
	}
	if body.PeekASN1Tag(cbasn1.BOOLEAN) && !body.ReadASN1Boolean(&critical) {
		return nil, false, nil, false
	}
	if !body.ReadASN1(&val, cbasn1.OCTET_STRING) || !body.Empty() {
		return nil, false, nil, false
	}
	return id, critical, val, true
}

// stripRelativeDPNames returns CRLDistributionPoints without the
// distributionPoint field of every DistributionPoint whose name is
// nameRelativeToCRLIssuer, and whether there was one.
func stripRelativeDPNames(v []byte) ([]byte, bool) {
	s := cryptobyte.String(v)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, false
	}
	changed := false
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for !seq.Empty() {
			var dp cryptobyte.String
			if !seq.ReadASN1(&dp, cbasn1.SEQUENCE) {
				b.SetError(ErrNoCertificate)
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for !dp.Empty() {
					var el, inner cryptobyte.String
					var tag cbasn1.Tag
					if !dp.ReadAnyASN1Element(&el, &tag) {
						b.SetError(ErrNoCertificate)
						return
					}
					if tag == cbasn1.Tag(0).ContextSpecific().Constructed() {
						whole := el
						if whole.ReadASN1(&inner, tag) && inner.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific().Constructed()) {
							changed = true
							continue
						}
					}
					b.AddBytes(el)
				}
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, false
	}
	return out, changed
}

// certSPKI returns the subjectPublicKeyInfo element of a DER certificate's
// TBSCertificate (RFC 5280 §4.1), nil when it does not split.
func certSPKI(der []byte) []byte {
	s := cryptobyte.String(der)
	var cert, tbs, spki cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil
	}
	if tbs.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()) && !tbs.SkipASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil
	}
	// serialNumber, signature, issuer, validity, subject
	if !tbs.SkipASN1(cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil
	}
	return spki
}

// ParseCertificateRequest reads a PKCS#10 certificate request (RFC 2986),
// PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER. It does
// not check the request's signature (CheckSignature does).
func ParseCertificateRequest(data []byte) (*x509.CertificateRequest, error) {
	der, fromPEM, err := singleDER(data, ErrNoCSR, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		if fromPEM {
			return nil, fmt.Errorf("certs: certificate request: %w", err)
		}
		return nil, &FormatError{Want: ErrNoCSR, Looks: looksLike(data)}
	}
	return csr, nil
}

// ParseCertificatesTolerant is ParseCertificates that, as OpenSSL does,
// keeps the certificates it can read when the file also holds junk: a
// block cut short, a CERTIFICATE block that does not parse, a note pasted
// in, bytes after the last DER certificate. junk names each (with its line
// in a PEM file). It fails only when no certificate can be read, with
// ParseCertificates' error.
func ParseCertificatesTolerant(data []byte) (cs []*x509.Certificate, junk []string, err error) {
	cs, err = ParseCertificates(data)
	if err == nil {
		return cs, PEMJunk(data), nil
	}
	text, _ := plainText(data)
	if isPEM(text) {
		blocks, _ := pemBlocks(text)
		n := 0
		for _, b := range blocks {
			switch b.Type {
			case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
			default:
				continue
			}
			n++
			c, cerr := parseCertificateDER(firstElement(b.Bytes))
			if cerr != nil {
				junk = append(junk, fmt.Sprintf("certificate block %d does not parse (%s)", n, strings.TrimPrefix(errText(cerr), "x509: ")))
				continue
			}
			cs = append(cs, c)
		}
		junk = append(junk, PEMJunk(text)...)
	} else {
		s := cryptobyte.String(data)
		for !s.Empty() {
			var elem cryptobyte.String
			if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
				break
			}
			c, cerr := parseCertificateDER(elem)
			if cerr != nil {
				s = append(elem, s...)
				break
			}
			cs = append(cs, c)
		}
		if len(cs) > 0 {
			junk = append(junk, fmt.Sprintf("%d bytes after certificate %d are not a certificate", len(s), len(cs)))
		}
	}
	if len(cs) == 0 {
		return nil, nil, err
	}
	return cs, junk, nil
}
