package certs

import (
	"bytes"
	"crypto/x509"
	"fmt"

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
			c, err := x509.ParseCertificate(der)
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
		c, err := x509.ParseCertificate(elem)
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
