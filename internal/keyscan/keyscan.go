// Package keyscan finds unencrypted private keys on disk, for the tests that
// prove Tapline leaves none behind (a killed batch, the app's files folder).
package keyscan

import (
	"bytes"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// Unencrypted walks each root and returns every regular file holding an
// unencrypted PEM private key anywhere in its bytes (so also inside a tar
// archive): PKCS#1, SEC 1 and PKCS#8 blocks without encryption headers,
// and OpenSSH keys without a passphrase. Files named in except, and
// everything under a folder named there, are skipped; a root that does not
// exist is no error.
func Unencrypted(roots []string, except ...string) ([]string, error) {
	skip := map[string]bool{}
	for _, e := range except {
		if a, err := filepath.Abs(e); err == nil {
			skip[a] = true
		}
	}
	var found []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
					return nil
				}
				return err
			}
			if a, _ := filepath.Abs(p); skip[a] {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil // removed while we walked
			}
			if HoldsKey(data) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return found, err
		}
	}
	return found, nil
}

// HoldsKey reports whether data holds an unencrypted PEM private key.
func HoldsKey(data []byte) bool {
	for {
		i := bytes.Index(data, []byte("-----BEGIN "))
		if i < 0 {
			return false
		}
		b, rest := pem.Decode(data[i:])
		if b == nil {
			data = data[i+len("-----BEGIN "):]
			continue
		}
		data = rest
		switch b.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY":
			if _, enc := b.Headers["DEK-Info"]; !enc {
				return true
			}
		case "OPENSSH PRIVATE KEY":
			var missing *ssh.PassphraseMissingError
			if _, err := ssh.ParseRawPrivateKey(pem.EncodeToMemory(b)); !errors.As(err, &missing) {
				return true
			}
		}
	}
}
