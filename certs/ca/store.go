package ca

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/safefile"
)

// Files of a CA directory. Keys are encrypted PKCS#8; everything is 0600.
const (
	RootCertFile         = "root.crt"
	RootKeyFile          = "root.key"
	IntermediateCertFile = "intermediate.crt"
	IntermediateKeyFile  = "intermediate.key"
	StateFile            = "state.json"
)

// Save writes the CA to dir (created 0700): certificates, keys encrypted with
// passphrase (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC), and state.json, each
// file 0600 and replaced atomically. Save refuses an empty passphrase.
func (c *CA) Save(dir string, passphrase []byte, rnd io.Reader) error {
	if len(passphrase) == 0 {
		return errors.New("ca: a passphrase is required to store the CA keys")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if err := safefile.MkdirPrivate(dir); err != nil {
		return err
	}
	files := map[string][]byte{RootCertFile: pemCert(c.Root.Raw)}
	var err error
	if files[RootKeyFile], err = certs.MarshalPrivateKeyPEMIterations(rnd, c.RootKey, passphrase, c.State.KDFIterations); err != nil {
		return err
	}
	if c.Intermediate != nil {
		files[IntermediateCertFile] = pemCert(c.Intermediate.Raw)
		if files[IntermediateKeyFile], err = certs.MarshalPrivateKeyPEMIterations(rnd, c.IntermediateKey, passphrase, c.State.KDFIterations); err != nil {
			return err
		}
	}
	if files[StateFile], err = json.MarshalIndent(c.State, "", "  "); err != nil {
		return err
	}
	for name, data := range files {
		if err := WriteFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	return nil
}

// SaveState writes only state.json (after Issue, Revoke or CRL).
func (c *CA) SaveState(dir string) error {
	b, err := json.MarshalIndent(c.State, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, StateFile), b)
}

// Load reads a CA directory written by Save. A wrong passphrase fails with
// certs.ErrIncorrectPassphrase, wrapped with the key file's name.
func Load(dir string, passphrase []byte) (*CA, error) {
	c := &CA{}
	var err error
	if c.Root, err = readOne(filepath.Join(dir, RootCertFile)); err != nil {
		return nil, err
	}
	if c.RootKey, err = certs.ReadPrivateKey(filepath.Join(dir, RootKeyFile), passphrase); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, IntermediateCertFile)); err == nil {
		if c.Intermediate, err = readOne(filepath.Join(dir, IntermediateCertFile)); err != nil {
			return nil, err
		}
		if c.IntermediateKey, err = certs.ReadPrivateKey(filepath.Join(dir, IntermediateKeyFile), passphrase); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &c.State); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	if !certs.KeyMatches(c.RootKey, c.Root) {
		return nil, fmt.Errorf("%s: the key does not belong to %s", filepath.Join(dir, RootKeyFile), RootCertFile)
	}
	if c.Intermediate != nil && !certs.KeyMatches(c.IntermediateKey, c.Intermediate) {
		return nil, fmt.Errorf("%s: the key does not belong to %s", filepath.Join(dir, IntermediateKeyFile), IntermediateCertFile)
	}
	return c, nil
}

func readOne(path string) (*x509.Certificate, error) {
	cs, err := certs.ReadCertificates(path)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// WriteFile writes data to path with mode 0600, atomically (safefile), so
// a crash never leaves half a key.
func WriteFile(path string, data []byte) error {
	return safefile.WriteFile(path, data, 0o600)
}
