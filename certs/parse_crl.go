package certs

import (
	"bytes"
	"crypto/x509"
	"fmt"
)

// ParseCRL reads one certificate revocation list, PEM ("X509 CRL") or DER
// (RFC 5280 §5.1), through x509.ParseRevocationList.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	data, _ = plainText(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	der := data
	if isPEM(data) {
		blocks, perr := pemBlocks(data)
		der = nil
		for _, b := range blocks {
			if b.Type == "X509 CRL" {
				der = b.Bytes
				break
			}
		}
		if der == nil {
			if perr != nil {
				return nil, perr
			}
			return nil, &FormatError{Want: ErrNoCRL, Looks: looksLike(data)}
		}
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		if isPEM(data) {
			return nil, fmt.Errorf("certs: CRL: %w", err)
		}
		return nil, &FormatError{Want: ErrNoCRL, Looks: looksLike(data)}
	}
	return rl, nil
}
