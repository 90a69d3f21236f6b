package ca

import (
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"

	"github.com/tapline/tapline/certs"
	"software.sslmate.com/src/go-pkcs12"
)

// ExportOptions choose how Export writes a sensor's files.
type ExportOptions struct {
	KeyPassphrase []byte // encrypts the .key (PKCS#8 PBES2 AES-256); empty for a plain key
	PFXPassphrase []byte // the PKCS#12 password; empty skips the .pfx
	LegacyPFX     bool   // 3DES with a SHA-1 MAC for old consumers, instead of AES-256/SHA-256
	KDFIterations int    // PBKDF2 count for the encrypted .key (default certs.PBKDF2Iterations)
	Rand          io.Reader
}

// Export writes NAME.crt, NAME.key, NAME-chain.pem and, with a PFX passphrase,
// NAME.pfx into dir, each 0600, and returns the paths written.
func Export(dir, name string, is *Issued, o ExportOptions) ([]string, error) {
	if is == nil || is.Cert == nil {
		return nil, errors.New("ca: nothing to export")
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	base := filepath.Join(dir, name)
	files := []struct {
		path string
		data []byte
	}{{base + ".crt", is.CertPEM}, {base + "-chain.pem", is.ChainPEM}}
	if is.Key != nil {
		k, err := certs.MarshalPrivateKeyPEMIterations(rnd, is.Key, o.KeyPassphrase, o.KDFIterations)
		if err != nil {
			return nil, err
		}
		files = append(files, struct {
			path string
			data []byte
		}{base + ".key", k})
	}
	if len(o.PFXPassphrase) > 0 {
		if is.Key == nil {
			return nil, errors.New("ca: a PKCS#12 file needs the private key; this certificate was issued from a CSR")
		}
		enc := pkcs12.Modern
		if o.LegacyPFX {
			enc = pkcs12.LegacyDES
		}
		p, err := enc.WithRand(rnd).Encode(is.Key, is.Cert, is.Chain, string(o.PFXPassphrase))
		if err != nil {
			return nil, err
		}
		files = append(files, struct {
			path string
			data []byte
		}{base + ".pfx", p})
	}
	var out []string
	for _, f := range files {
		if err := WriteFile(f.path, f.data); err != nil {
			return out, err
		}
		out = append(out, f.path)
	}
	return out, nil
}
