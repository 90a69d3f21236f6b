package certs

import (
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"os"
)

// MaxFileSize bounds what ReadFile reads: far above any certificate, key,
// PKCS#12 or CRL file (a 100,000-entry CRL is about 4 MB), far below what
// would exhaust a laptop when the wrong file (a video, /dev/zero) is picked.
const MaxFileSize = 256 << 20

// ReadFile reads an input file of at most MaxFileSize bytes. Errors name the
// file once ("x.crt: no such file or directory"); a larger file fails with
// ErrTooLarge.
func ReadFile(path string) ([]byte, error) { return readFileLimit(path, MaxFileSize) }

func readFileLimit(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fileError(path, err)
	}
	if int64(len(b)) > max {
		return nil, &FileError{Path: path, Err: ErrTooLarge}
	}
	return b, nil
}

// fileError wraps err with path, dropping the path an *fs.PathError repeats.
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &FileError{Path: path, Err: err}
}

func readFile(path string) ([]byte, error) { return ReadFile(path) }

func named[T any](path string, v T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, &FileError{Path: path, Err: err}
	}
	return v, nil
}

// ReadCertificates is ParseCertificates on a file; errors name the file.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParseCertificates(b)
	return named(path, v, err)
}

// ReadPrivateKey is ParsePrivateKey on a file; errors name the file.
func ReadPrivateKey(path string, passphrase []byte) (crypto.Signer, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParsePrivateKey(b, passphrase)
	return named(path, v, err)
}

// ReadCRL is ParseCRL on a file; errors name the file.
func ReadCRL(path string) (*x509.RevocationList, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParseCRL(b)
	return named(path, v, err)
}

// ReadPKCS12 is ParsePKCS12 on a file; errors name the file.
func ReadPKCS12(path string, passphrase []byte) (*PKCS12, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParsePKCS12(b, passphrase)
	return named(path, v, err)
}

// ReadCRLIndex is ParseCRLIndex on a file; errors name the file.
func ReadCRLIndex(path string) (*CRL, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParseCRLIndex(b)
	return named(path, v, err)
}

// ReadCRLs reads every CRL of a file (ParseCRLs): one DER CRL, or each X509
// CRL block of a PEM file.
func ReadCRLs(path string) ([]*CRL, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParseCRLs(b)
	return named(path, v, err)
}
