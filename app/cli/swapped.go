package cli

import (
	"fmt"

	"github.com/tapline/tapline/certs"
)

// swappedFiles says when the files given as --cert and --key look swapped:
// a private key where the certificate belongs, or a certificate where the
// key belongs (certs.LooksSwapped: a combined PEM is neither). "" when they
// look right (or are not there).
func swappedFiles(certPath string, cert []byte, keyPath string, key []byte) string {
	certIsKey, keyIsCert := certs.LooksSwapped(cert, key)
	switch {
	case certIsKey && keyIsCert:
		return fmt.Sprintf("--cert %s holds a private key and --key %s a certificate: the files look swapped; give them the other way round", certPath, keyPath)
	case certIsKey:
		return fmt.Sprintf("--cert %s holds a private key, not a certificate: the files look swapped; give the key with --key and the certificate (.crt) with --cert", certPath)
	case keyIsCert:
		return fmt.Sprintf("--key %s holds a certificate, not a private key: the files look swapped; give the certificate with --cert and the key with --key", keyPath)
	}
	return ""
}
