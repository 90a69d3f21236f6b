package certs

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// PKCS12 is what a .pfx/.p12 file holds: the key, the certificate that
// matches it, and the other certificates (the chain).
type PKCS12 struct {
	Key   crypto.Signer
	Leaf  *x509.Certificate
	Chain []*x509.Certificate
}

// pfxHeader is the outer shape of RFC 7292 §4 PFX, enough to recognise one.
type pfxHeader struct {
	Version  int
	AuthSafe asn1.RawValue
	MacData  asn1.RawValue `asn1:"optional"`
}

func isPKCS12(data []byte) bool {
	var h pfxHeader
	rest, err := asn1.Unmarshal(data, &h)
	return err == nil && len(rest) == 0 && h.Version == 3
}

// ParsePKCS12 reads a PKCS#12 file (RFC 7292) through go-pkcs12: legacy
// (RC2 or 3DES with a SHA-1 MAC) and modern (PBES2 AES-256 with a SHA-256 MAC)
// encodings, with chains. The leaf is the certificate whose public key matches
// the private key, wherever it sits in the file. A wrong passphrase fails with
// ErrIncorrectPassphrase.
func ParsePKCS12(data, passphrase []byte) (*PKCS12, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	if !isPKCS12(data) {
		return nil, &FormatError{Want: ErrNotPKCS12, Looks: looksLike(data)}
	}
	k, leaf, cas, err := pkcs12.DecodeChain(data, string(passphrase))
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			if len(passphrase) == 0 {
				return nil, ErrPassphraseRequired
			}
			return nil, ErrIncorrectPassphrase
		}
		return nil, fmt.Errorf("certs: PKCS#12: %w", err)
	}
	key, err := asSigner(k)
	if err != nil {
		return nil, err
	}
	all := append([]*x509.Certificate{leaf}, cas...)
	out := &PKCS12{Key: key}
	for _, c := range all {
		if out.Leaf == nil && KeyMatches(key, c) {
			out.Leaf = c
			continue
		}
		out.Chain = append(out.Chain, c)
	}
	if out.Leaf == nil {
		out.Leaf, out.Chain = all[0], all[1:]
	}
	return out, nil
}

// KeyMatches reports whether key is the private half of cert's public key.
func KeyMatches(key crypto.Signer, cert *x509.Certificate) bool {
	if key == nil || cert == nil {
		return false
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
