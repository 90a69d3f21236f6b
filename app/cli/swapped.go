package cli

import (
	"fmt"

	"github.com/tapline/tapline/certs"
)

// swappedFiles says when the files given as --cert and --key look swapped:
// a private key where the certificate belongs, or a certificate where the
// key belongs. "" when they look right (or are not there).
func swappedFiles(certPath string, cert []byte, keyPath string, key []byte) string {
	isKey := func(b []byte) bool {
		k := certs.Detect(b)
		return k == certs.KindPrivateKey || k == certs.KindEncryptedKey
	}
	isCert := func(b []byte) bool { return certs.Detect(b) == certs.KindCertificate }
	switch {
	case len(cert) > 0 && len(key) > 0 && isKey(cert) && isCert(key):
		return fmt.Sprintf("--cert %s holds a private key and --key %s a certificate: the files look swapped; give them the other way round", certPath, keyPath)
	case len(cert) > 0 && isKey(cert):
		return fmt.Sprintf("--cert %s holds a private key, not a certificate: the files look swapped; give the key with --key and the certificate (.crt) with --cert", certPath)
	case len(key) > 0 && isCert(key):
		return fmt.Sprintf("--key %s holds a certificate, not a private key: the files look swapped; give the certificate with --cert and the key with --key", keyPath)
	}
	return ""
}
