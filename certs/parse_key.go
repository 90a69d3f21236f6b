package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
)

// ParsePrivateKey reads a private key, PEM or DER, in any of the forms
// OpenSSL writes: PKCS#1 RSA (RFC 8017 §A.1.2), SEC1 EC (RFC 5915 §3), PKCS#8
// (RFC 5958 §2), encrypted PKCS#8 with PBES2 (RFC 8018 §6.2; PBKDF2 with AES-CBC
// or DES-EDE3-CBC), and legacy encrypted PEM (RFC 1421 Proc-Type/DEK-Info).
//
// An encrypted key without a passphrase fails with ErrPassphraseRequired; a
// passphrase that does not open it fails with ErrIncorrectPassphrase (bad
// padding or a result that is not a key), never with a garbage key. A
// passphrase given for an unencrypted key is ignored.
func ParsePrivateKey(data, passphrase []byte) (crypto.Signer, error) {
	data, _ = plainText(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	if !isPEM(data) {
		return parseDERKey(data, passphrase)
	}
	blocks, perr := pemBlocks(data)
	for _, b := range blocks {
		switch b.Type {
		case "ENCRYPTED PRIVATE KEY":
			plain, err := decryptPKCS8(b.Bytes, passphrase)
			if err != nil {
				return nil, err
			}
			return parseDecryptedPKCS8(plain)
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			der := b.Bytes
			//lint:ignore SA1019 legacy encrypted PEM (DEK-Info) is an input format sensors' users still have; read only
			encrypted := x509.IsEncryptedPEMBlock(b)
			if encrypted {
				if len(passphrase) == 0 {
					return nil, ErrPassphraseRequired
				}
				var err error
				//lint:ignore SA1019 RFC 1421 legacy encryption, read only; a wrong passphrase is caught by the DER parse below
				der, err = x509.DecryptPEMBlock(b, passphrase)
				if err != nil {
					if errors.Is(err, x509.IncorrectPasswordError) {
						return nil, ErrIncorrectPassphrase
					}
					return nil, fmt.Errorf("%w: legacy PEM encryption: %v", ErrUnsupportedKey, err)
				}
			}
			k, err := parseKeyDER(b.Type, der)
			var uk *UnsupportedKeyError
			if errors.As(err, &uk) {
				return nil, err
			}
			if err != nil {
				if encrypted {
					return nil, ErrIncorrectPassphrase
				}
				return nil, fmt.Errorf("certs: %s: %w", b.Type, err)
			}
			return k, nil
		}
	}
	if perr != nil {
		return nil, perr
	}
	return nil, &FormatError{Want: ErrNoKey, Looks: looksLike(data)}
}

// parseKeyDER parses unencrypted DER, trying the form the PEM type names first.
func parseKeyDER(typ string, der []byte) (crypto.Signer, error) {
	var first error
	try := []string{"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}
	for i, t := range try {
		if t == typ {
			try[0], try[i] = try[i], try[0]
		}
	}
	for _, t := range try {
		var k any
		var err error
		switch t {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(der)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(der)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(der)
		}
		if err == nil {
			if s, ok := k.(crypto.Signer); ok {
				return s, nil
			}
			return nil, unsupportedKey(der)
		}
		if first == nil {
			first = err
		}
	}
	if name := describePKCS8(der); name != "" {
		return nil, &UnsupportedKeyError{Name: name}
	}
	return nil, first
}

// parseDecryptedPKCS8 reads what an encrypted PKCS#8 key decrypted to: a
// key, a PrivateKeyInfo of an algorithm Tapline does not use (named), or
// garbage, which means the passphrase was wrong.
func parseDecryptedPKCS8(plain []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		if name := describePKCS8(plain); name != "" {
			return nil, &UnsupportedKeyError{Name: name}
		}
		return nil, ErrIncorrectPassphrase
	}
	if s, ok := k.(crypto.Signer); ok {
		return s, nil
	}
	return nil, unsupportedKey(plain)
}

// UnsupportedKeyError names a private key Tapline reads but does not work
// with ("Ed448 (not supported: ...)"). It wraps ErrUnsupportedKey.
type UnsupportedKeyError struct {
	Name string
}

func (e *UnsupportedKeyError) Error() string { return "certs: unsupported key: " + e.Name }

// Unwrap returns ErrUnsupportedKey.
func (e *UnsupportedKeyError) Unwrap() error { return ErrUnsupportedKey }

// unsupportedKey names the key of PKCS#8 der that Go read but cannot sign
// with (X25519, X448).
func unsupportedKey(der []byte) error {
	name := describePKCS8(der)
	if name == "" {
		name = "a key that cannot sign"
	}
	return &UnsupportedKeyError{Name: name}
}

func parseDERKey(der, passphrase []byte) (crypto.Signer, error) {
	if k, err := parseKeyDER("PRIVATE KEY", der); err == nil {
		return k, nil
	}
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err == nil && len(rest) == 0 && len(info.Algorithm.Algorithm) > 0 {
		plain, err := decryptPKCS8(der, passphrase)
		if err != nil {
			return nil, err
		}
		return parseDecryptedPKCS8(plain)
	}
	return nil, &FormatError{Want: ErrNoKey, Looks: looksLike(der)}
}

func asSigner(k any) (crypto.Signer, error) {
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T cannot sign", ErrUnsupportedKey, k)
	}
	return s, nil
}

// MarshalPrivateKeyPEM writes key as PKCS#8 PEM ("PRIVATE KEY"), or, with a
// passphrase, as encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY", PBES2 AES-256-CBC).
// rnd supplies salt and IV; nil means crypto/rand.
func MarshalPrivateKeyPEM(rnd io.Reader, key crypto.Signer, passphrase []byte) ([]byte, error) {
	return MarshalPrivateKeyPEMIterations(rnd, key, passphrase, 0)
}

// MarshalPrivateKeyPEMIterations is MarshalPrivateKeyPEM with a PBKDF2
// iteration count (≤ 0: PBKDF2Iterations).
func MarshalPrivateKeyPEMIterations(rnd io.Reader, key crypto.Signer, passphrase []byte, iterations int) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	enc, err := EncryptPKCS8(rnd, der, passphrase, iterations)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc}), nil
}
