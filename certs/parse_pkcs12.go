package certs

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
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
	if err := checkPKCS12(data); err != nil {
		return nil, err
	}
	k, leaf, cas, err := decodePKCS12(data, passphrase)
	if err != nil && err.Error() == "pkcs12: private key missing" {
		// go-pkcs12 has opened the file and found certificates, no key.
		return nil, &FormatError{Want: ErrNoKey, Looks: "a certificate-only PKCS#12 file (a trust bundle: give it as the chain or the anchors)"}
	}
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

// checkPKCS12 refuses what is not a PKCS#12 file, and one that asks for
// more key-derivation work than any real file does.
func checkPKCS12(data []byte) error {
	if len(data) == 0 {
		return ErrEmpty
	}
	if !isPKCS12(data) {
		return &FormatError{Want: ErrNotPKCS12, Looks: looksLike(data)}
	}
	if n := maxIterations(data, 0); n > maxPBKDF2Iterations {
		return fmt.Errorf("certs: PKCS#12: asks for %d key-derivation iterations (more than %d); refusing the work", n, maxPBKDF2Iterations)
	}
	return nil
}

// KeyMatches reports whether key is the private half of cert's public key.
func KeyMatches(key crypto.Signer, cert *x509.Certificate) bool {
	if key == nil || cert == nil {
		return false
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

// decodePKCS12 calls go-pkcs12, turning a panic on hostile input into an
// error: the file is third-party code's input, the check must never crash.
func decodePKCS12(data, passphrase []byte) (k any, leaf *x509.Certificate, cas []*x509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed file (%v)", r)
		}
	}()
	return pkcs12.DecodeChain(data, string(passphrase))
}

// maxIterations walks the DER tree of a PKCS#12 file, into OCTET STRINGs
// that hold DER, and returns the largest INTEGER that directly follows an
// OCTET STRING in a SEQUENCE: the shape of every iteration count in it
// (RFC 7292 §4 MacData and Appendix C pkcs-12PbeParams, RFC 8018 §A.2
// PBKDF2-params). A count too large to read counts as too large.
func maxIterations(der []byte, depth int) int64 {
	if depth > 24 {
		return 0
	}
	var most int64
	s := cryptobyte.String(der)
	for !s.Empty() {
		var body cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&body, &tag) {
			return most
		}
		switch {
		case tag == cbasn1.SEQUENCE:
			prevOctet := false
			for !body.Empty() {
				var el cryptobyte.String
				var t cbasn1.Tag
				if !body.ReadAnyASN1Element(&el, &t) {
					break
				}
				if t == cbasn1.INTEGER && prevOctet {
					var n int64
					if !el.ReadASN1Integer(&n) {
						return 1 << 62
					}
					most = max(most, n)
				}
				if t&0x20 != 0 || t == cbasn1.OCTET_STRING {
					most = max(most, maxIterations(el, depth+1))
				}
				prevOctet = t == cbasn1.OCTET_STRING
			}
		case tag == cbasn1.OCTET_STRING, tag&0x20 != 0:
			if len(body) > 0 && body[0]&0x20 != 0 { // looks like constructed DER inside
				most = max(most, maxIterations(body, depth+1))
			}
		}
	}
	return most
}
