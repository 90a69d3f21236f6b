package ca

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

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
	// StateLockFile is locked while state.json is read, merged and
	// written, so two processes on one CA lose no record.
	StateLockFile = "state.lock"
	// CRLFileName and RootCRLFileName are where 'tapline ca crl' writes the
	// issuing CA's CRL and, with an intermediate, the root's.
	CRLFileName     = "crl.pem"
	RootCRLFileName = "root-crl.pem"
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

// SaveState writes only state.json (after Issue, Revoke or CRL), merged
// with the file as it is now: another process (or another CA value loaded
// from the same folder) that issued or revoked since this one was loaded
// keeps its records, and CRL numbers never go back. c.State becomes the
// merged state.
func (c *CA) SaveState(dir string) error {
	saveMu.Lock()
	defer saveMu.Unlock()
	// Another process (tapline ca revoke, a second batch run, the app) may
	// save between this one's read and its write: the read-merge-write
	// holds the folder's lock.
	unlock, err := lockFile(filepath.Join(dir, StateLockFile))
	if err != nil {
		return fmt.Errorf("ca: lock %s: %w", filepath.Join(dir, StateLockFile), err)
	}
	defer unlock()
	path := filepath.Join(dir, StateFile)
	st := c.State
	if b, err := os.ReadFile(path); err == nil {
		var disk State
		if err := json.Unmarshal(b, &disk); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		st = mergeState(disk, c.State)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFile(path, b); err != nil {
		return err
	}
	c.State = st
	return nil
}

// saveMu serialises SaveState's read-merge-write within the process.
var saveMu sync.Mutex

// mergeState is mine with the records only disk holds added: issued and
// revoked serials are a union (disk's order first), CRL numbers the larger.
func mergeState(disk, mine State) State {
	out := mine
	out.Issued = unionBy(disk.Issued, mine.Issued, func(r Record) string { return r.Serial })
	out.Revoked = unionBy(disk.Revoked, mine.Revoked, func(r Revocation) string { return r.Serial })
	out.RootRevoked = unionBy(disk.RootRevoked, mine.RootRevoked, func(r Revocation) string { return r.Serial })
	out.CRLNumber = max(disk.CRLNumber, mine.CRLNumber)
	out.RootCRLNumber = max(disk.RootCRLNumber, mine.RootCRLNumber)
	return out
}

func unionBy[T any](a, b []T, key func(T) string) []T {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]T, 0, len(a)+len(b))
	for _, l := range [][]T{a, b} {
		for _, x := range l {
			if k := key(x); !seen[k] {
				seen[k] = true
				out = append(out, x)
			}
		}
	}
	return out
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
