package certs

import (
	"bytes"
	"crypto/x509"
	"fmt"
)

// ParseCRL reads one certificate revocation list, PEM ("X509 CRL") or DER
// (RFC 5280 §5.1), through x509.ParseRevocationList.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	der, fromPEM, err := singleDER(data, ErrNoCRL, "X509 CRL")
	if err != nil {
		return nil, err
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		if fromPEM {
			return nil, fmt.Errorf("certs: CRL: %w", err)
		}
		return nil, &FormatError{Want: ErrNoCRL, Looks: looksLike(data)}
	}
	return rl, nil
}

// singleDER returns the DER of a file holding one object: the first PEM
// block of one of types, or the bytes themselves when they are not PEM
// (after plainText). The error wraps want, saying what the file looks like.
func singleDER(data []byte, want error, types ...string) (der []byte, fromPEM bool, err error) {
	data, _ = plainText(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, false, ErrEmpty
	}
	if !isPEM(data) {
		return data, false, nil
	}
	blocks, perr := pemBlocks(data)
	for _, b := range blocks {
		for _, t := range types {
			if b.Type == t {
				return b.Bytes, true, nil
			}
		}
	}
	if perr != nil {
		return nil, true, perr
	}
	return nil, true, &FormatError{Want: want, Looks: looksLike(data)}
}
