package certs

import (
	"bytes"
	"fmt"
)

// MaxCRLsPerFile bounds how many CRLs one file may hold: a path of a few
// CA levels, each with a complete CRL and perhaps a delta, needs far fewer.
const MaxCRLsPerFile = 16

// SplitCRLs returns the DER of every CRL a file holds: each "X509 CRL"
// block of a PEM file, in file order (as `openssl verify -CRLfile` reads a
// file of several), or the file itself when it is one DER CRL. Blocks of
// other types are skipped, as ParseCRL skips them. It does not parse the
// CRLs; ParseCRLs does.
func SplitCRLs(data []byte) ([][]byte, error) {
	data, _ = plainText(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	if !isPEM(data) {
		return [][]byte{data}, nil
	}
	blocks, err := pemBlocks(data)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, b := range blocks {
		if b.Type == "X509 CRL" {
			out = append(out, b.Bytes)
		}
	}
	switch {
	case len(out) == 0:
		return nil, &FormatError{Want: ErrNoCRL, Looks: looksLike(data)}
	case len(out) > MaxCRLsPerFile:
		return nil, fmt.Errorf("certs: %d CRLs in one file, over %d", len(out), MaxCRLsPerFile)
	}
	return out, nil
}

// ParseCRLs reads every CRL of a file (SplitCRLs) into CRL indexes, in file
// order. A file that holds one CRL gives what ParseCRLIndex gives; an
// unreadable CRL among several is named by its place in the file.
func ParseCRLs(data []byte) ([]*CRL, error) {
	ders, err := SplitCRLs(data)
	if err != nil {
		return nil, err
	}
	if len(ders) == 1 {
		c, err := ParseCRLIndex(ders[0]) // decoded once, by SplitCRLs
		if err != nil {
			_, err = ParseCRLIndex(data) // the error about the file as given
			if err == nil {
				err = &FormatError{Want: ErrNoCRL, Looks: looksLike(data)}
			}
			return nil, err
		}
		return []*CRL{c}, nil
	}
	out := make([]*CRL, 0, len(ders))
	for i, der := range ders {
		c, err := ParseCRLIndex(der)
		if err != nil {
			return nil, fmt.Errorf("CRL %d of %d in the file: %w", i+1, len(ders), err)
		}
		out = append(out, c)
	}
	return out, nil
}
