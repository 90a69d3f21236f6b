package certs

import (
	"crypto"
	"crypto/x509"
	"os"
)

// readFile reads path and wraps any error with the file name.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	return b, nil
}

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
