package certs

import (
	"errors"
	"fmt"
)

// Sentinel errors for the expected ways input goes wrong. Callers branch on
// them with errors.Is; messages are lower case with the package prefix.
var (
	// ErrIncorrectPassphrase: the passphrase does not open the key or the
	// PKCS#12 file. Detected from the padding, the MAC or the structure of
	// the decrypted bytes; never turned into a garbage key.
	ErrIncorrectPassphrase = errors.New("certs: passphrase does not match the key")
	// ErrPassphraseRequired: the key or PKCS#12 file is encrypted and no
	// passphrase was given.
	ErrPassphraseRequired = errors.New("certs: the key is encrypted and needs a passphrase")
	// ErrEmpty: the input holds no bytes (or only white space).
	ErrEmpty = errors.New("certs: empty file")
	// ErrTruncated: a PEM block starts but never ends, or DER stops early.
	ErrTruncated = errors.New("certs: truncated data (a PEM block or DER structure ends early)")
	// ErrTooLarge: the file is larger than MaxFileSize; no certificate,
	// key, PKCS#12 file or CRL Tapline reads is that large.
	ErrTooLarge = errors.New("certs: file larger than 256 MB: not a certificate, key, CRL or PKCS#12 file")
	// ErrNoCertificate: the input holds no X.509 certificate.
	ErrNoCertificate = errors.New("certs: no X.509 certificate found")
	// ErrNoKey: the input holds no private key.
	ErrNoKey = errors.New("certs: no private key found")
	// ErrNoCRL: the input holds no certificate revocation list.
	ErrNoCRL = errors.New("certs: no CRL found")
	// ErrNoCSR: the input holds no PKCS#10 certificate request.
	ErrNoCSR = errors.New("certs: no certificate request found")
	// ErrNotPKCS12: the input is not a PKCS#12 (.pfx/.p12) file.
	ErrNotPKCS12 = errors.New("certs: not a PKCS#12 file")
	// ErrUnsupportedKey: the key's algorithm or encryption is not one Tapline
	// reads (RSA, ECDSA and Ed25519 keys; PBES2 with PBKDF2 and AES or 3DES).
	ErrUnsupportedKey = errors.New("certs: unsupported key algorithm or encryption")
)

// FileError names the file an error came from, for the one line people read.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// FormatError says what the bytes look like when they are not what was
// expected ("looks like a JPEG image"), wrapping the sentinel.
type FormatError struct {
	Want  error  // one of the Err* sentinels
	Looks string // what the content looks like instead, may be empty
}

func (e *FormatError) Error() string {
	if e.Looks == "" {
		return e.Want.Error()
	}
	return fmt.Sprintf("%v (the content looks like %s)", e.Want, e.Looks)
}

// Unwrap returns the sentinel.
func (e *FormatError) Unwrap() error { return e.Want }
