package certs

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"unicode/utf16"
)

// Object identifiers of PKCS#7 content types and PKCS#12 (RFC 7292) bags and
// algorithms that ParsePKCS12Certificates reads.
var (
	oidDataContent       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedContent  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidCertBag           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509CertInBag     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidPBEWithSHA3DES    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHARC240   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBEWithSHARC2128  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidDigestSHA1        = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidDigestSHA256      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidDigestSHA384      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidDigestSHA512      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	errPKCS12Malformed   = errors.New("certs: PKCS#12: malformed file")
	errPKCS12WrongSecret = errors.New("wrong passphrase")
)

// pfxPDU is RFC 7292 §4 PFX.
type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type pbeParams struct {
	Salt       []byte
	Iterations int
}

// ParsePKCS12Certificates returns every certificate of a PKCS#12 file
// (RFC 7292), with or without a private key: a certificate-only file is a
// trust bundle (the CA certificates a Windows or Java tool exports). The
// MAC is checked with passphrase; encrypted contents in PBES2 (OpenSSL 3's
// default) or pbeWithSHAAnd3-KeyTripleDES-CBC are read; the legacy RC2
// encoding is refused with the command that converts it. An empty
// passphrase also opens files made without one.
func ParsePKCS12Certificates(data, passphrase []byte) ([]*x509.Certificate, error) {
	if err := checkPKCS12(data); err != nil {
		return nil, err
	}
	var pfx pfxPDU
	if rest, err := asn1.Unmarshal(data, &pfx); err != nil || len(rest) != 0 {
		return nil, errPKCS12Malformed
	}
	if !pfx.AuthSafe.ContentType.Equal(oidDataContent) {
		return nil, fmt.Errorf("certs: PKCS#12: public-key integrity mode is not read (only passphrase-protected files)")
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, errPKCS12Malformed
	}
	// RFC 7292 §B.1: the passphrase as a BMPString with two zero bytes at
	// the end; an empty one is tried also as no bytes at all.
	secrets := [][]byte{bmpPassphrase(passphrase)}
	if len(passphrase) == 0 {
		secrets = append(secrets, nil)
	}
	for _, secret := range secrets {
		cs, err := pkcs12Certs(pfx, authSafe, secret, passphrase)
		if !errors.Is(err, errPKCS12WrongSecret) {
			return cs, err
		}
	}
	if len(passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	return nil, ErrIncorrectPassphrase
}

func pkcs12Certs(pfx pfxPDU, authSafe, secret, passphrase []byte) ([]*x509.Certificate, error) {
	if len(pfx.MacData.Mac.Digest) > 0 {
		if err := checkPKCS12MAC(pfx.MacData, authSafe, secret); err != nil {
			return nil, err
		}
	}
	var contents []contentInfo
	if rest, err := asn1.Unmarshal(authSafe, &contents); err != nil || len(rest) != 0 {
		return nil, errPKCS12Malformed
	}
	var out []*x509.Certificate
	for _, ci := range contents {
		var bagsDER []byte
		switch {
		case ci.ContentType.Equal(oidDataContent):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &bagsDER); err != nil {
				return nil, errPKCS12Malformed
			}
		case ci.ContentType.Equal(oidEncryptedContent):
			var ed encryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, errPKCS12Malformed
			}
			plain, err := decryptPKCS12Content(ed.EncryptedContentInfo, secret, passphrase)
			if err != nil {
				return nil, err
			}
			bagsDER = plain
		default:
			continue // enveloped data: keys for someone else
		}
		var bags []safeBag
		if rest, err := asn1.Unmarshal(bagsDER, &bags); err != nil || len(rest) != 0 {
			if ci.ContentType.Equal(oidEncryptedContent) && len(pfx.MacData.Mac.Digest) == 0 {
				return nil, errPKCS12WrongSecret // no MAC to tell: garbage means the wrong passphrase
			}
			return nil, errPKCS12Malformed
		}
		for _, b := range bags {
			if !b.ID.Equal(oidCertBag) {
				continue
			}
			var cb certBag
			if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil || !cb.ID.Equal(oidX509CertInBag) {
				continue // an SDSI or attribute certificate: not X.509
			}
			c, err := parseCertificateDER(cb.Data)
			if err != nil {
				return nil, fmt.Errorf("certs: PKCS#12: certificate %d: %w", len(out)+1, err)
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, &FormatError{Want: ErrNoCertificate, Looks: "a PKCS#12 file without certificates"}
	}
	return out, nil
}

// bmpPassphrase is RFC 7292 §B.1's encoding of a passphrase: UTF-16 big
// endian with a terminating zero character.
func bmpPassphrase(p []byte) []byte {
	u := utf16.Encode([]rune(string(p)))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

func macHash(oid asn1.ObjectIdentifier) (func() hash.Hash, bool) {
	switch {
	case oid.Equal(oidDigestSHA1):
		return sha1.New, true
	case oid.Equal(oidDigestSHA256):
		return sha256.New, true
	case oid.Equal(oidDigestSHA384):
		return sha512.New384, true
	case oid.Equal(oidDigestSHA512):
		return sha512.New, true
	}
	return nil, false
}

// checkPKCS12MAC verifies the file's HMAC (RFC 7292 §4, §B.4).
func checkPKCS12MAC(m macData, authSafe, secret []byte) error {
	h, ok := macHash(m.Mac.Algorithm.Algorithm)
	if !ok {
		return fmt.Errorf("certs: PKCS#12: MAC digest %v is not read (SHA-1 and SHA-2 are)", m.Mac.Algorithm.Algorithm)
	}
	if m.Iterations < 1 || m.Iterations > maxPBKDF2Iterations {
		return fmt.Errorf("certs: PKCS#12: MAC iteration count %d out of range", m.Iterations)
	}
	key := pkcs12KDF(h, secret, m.MacSalt, 3, m.Iterations, h().Size())
	mac := hmac.New(h, key)
	mac.Write(authSafe)
	if !hmac.Equal(mac.Sum(nil), m.Mac.Digest) {
		return errPKCS12WrongSecret
	}
	return nil
}

// decryptPKCS12Content opens an EncryptedContentInfo: PBES2 takes the
// passphrase as UTF-8 (as OpenSSL does), the PKCS#12 PBE algorithms the
// BMPString secret.
func decryptPKCS12Content(eci encryptedContentInfo, secret, passphrase []byte) ([]byte, error) {
	alg := eci.ContentEncryptionAlgorithm
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		plain, err := decryptPBES2(alg, eci.EncryptedContent, passphrase)
		switch {
		case errors.Is(err, ErrIncorrectPassphrase):
			return nil, errPKCS12WrongSecret
		case err != nil:
			return nil, fmt.Errorf("certs: PKCS#12: %w", err)
		}
		return plain, nil
	case alg.Algorithm.Equal(oidPBEWithSHA3DES):
		var p pbeParams
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || p.Iterations < 1 || p.Iterations > maxPBKDF2Iterations {
			return nil, errPKCS12Malformed
		}
		key := pkcs12KDF(sha1.New, secret, p.Salt, 1, p.Iterations, 24)
		iv := pkcs12KDF(sha1.New, secret, p.Salt, 2, p.Iterations, 8)
		c, err := des.NewTripleDESCipher(key)
		if err != nil {
			return nil, err
		}
		data := eci.EncryptedContent
		if len(data) == 0 || len(data)%c.BlockSize() != 0 {
			return nil, errPKCS12Malformed
		}
		plain := make([]byte, len(data))
		cipher.NewCBCDecrypter(c, iv).CryptBlocks(plain, data)
		plain, ok := unpad(plain, c.BlockSize())
		if !ok {
			return nil, errPKCS12WrongSecret
		}
		return plain, nil
	case alg.Algorithm.Equal(oidPBEWithSHARC240), alg.Algorithm.Equal(oidPBEWithSHARC2128):
		return nil, fmt.Errorf("%w: the PKCS#12 certificates are encrypted with RC2, the legacy encoding; convert the file with "+
			"'openssl pkcs12 -legacy -in FILE -nokeys | openssl pkcs12 -export -nokeys -out NEW.p12' or give the certificates as PEM", ErrUnsupportedKey)
	}
	return nil, fmt.Errorf("%w: PKCS#12 contents encrypted with %v", ErrUnsupportedKey, alg.Algorithm)
}

// pkcs12KDF is RFC 7292 Appendix B.2's key derivation: n bytes of key
// material of kind id (1 key, 2 IV, 3 MAC key) from the BMPString secret
// and salt.
func pkcs12KDF(h func() hash.Hash, secret, salt []byte, id byte, iterations, n int) []byte {
	hh := h()
	v := hh.BlockSize()
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	i := append(fill(salt), fill(secret)...)
	out := make([]byte, 0, n)
	one := big.NewInt(1)
	for len(out) < n {
		hh.Reset()
		hh.Write(d)
		hh.Write(i)
		a := hh.Sum(nil)
		for r := 1; r < iterations; r++ {
			hh.Reset()
			hh.Write(a)
			a = hh.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= n {
			break
		}
		b := new(big.Int).SetBytes(fill(a)[:v])
		b.Add(b, one)
		for j := 0; j < len(i); j += v {
			ij := new(big.Int).SetBytes(i[j : j+v])
			ij.Add(ij, b)
			bs := ij.Bytes()
			if len(bs) > v {
				bs = bs[len(bs)-v:]
			}
			clear(i[j : j+v])
			copy(i[j+v-len(bs):j+v], bs)
		}
	}
	return out[:n]
}
