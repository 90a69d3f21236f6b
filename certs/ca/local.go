package ca

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Local is a CA opened once for a session that issues many certificates,
// several at once (a batch pushing rows in parallel): issuing is serialised,
// each certificate is on the issued list in state.json before it is handed
// out (so 'tapline ca revoke' finds it even if the session is killed), and
// the state is merged with the file on every save (SaveState), so another
// process issuing or revoking with the same folder loses nothing.
type Local struct {
	dir   string
	trial bool // Trial: nothing is recorded or written

	mu   sync.Mutex
	ca   *CA
	crls []CRLFile // signed once, on first use
}

// OpenLocal loads the CA in dir (Load) for a session.
func OpenLocal(dir string, passphrase []byte) (*Local, error) {
	c, err := Load(dir, passphrase)
	if err != nil {
		return nil, err
	}
	return &Local{dir: dir, ca: c}, nil
}

// Trial is a Local on a copy of l's CA that issues and signs CRLs in
// memory only: nothing is recorded in state.json and no file is written.
// An offline check uses it to check what the CA will issue for each row
// before anything is sent.
func (l *Local) Trial() *Local {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := *l.ca
	c.State.Issued = slices.Clone(c.State.Issued)
	c.State.Revoked = slices.Clone(c.State.Revoked)
	c.State.RootRevoked = slices.Clone(c.State.RootRevoked)
	return &Local{dir: l.dir, trial: true, ca: &c}
}

// Dir is the CA folder.
func (l *Local) Dir() string { return l.dir }

// IssuerName is the common name of the CA that signs sensor certificates.
func (l *Local) IssuerName() string {
	c, _ := l.ca.Issuer()
	return c.Subject.CommonName
}

// HasIntermediate reports whether an intermediate signs sensor
// certificates (the chain then holds it and the root).
func (l *Local) HasIntermediate() bool { return l.ca.Intermediate != nil }

// Issue issues req and records it in the folder's state.json before
// returning. A new key is generated outside the lock, so parallel callers
// wait only for the signature and the state write.
func (l *Local) Issue(req IssueRequest) (*Issued, error) {
	if req.Key == nil && len(req.CSR) == 0 {
		k, err := NewKey(req.Rand, req.KeyType)
		if err != nil {
			return nil, err
		}
		req.Key = k
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.ca.State.Issued)
	is, err := l.ca.Issue(req)
	if err != nil {
		return nil, err
	}
	if l.trial {
		return is, nil
	}
	if err := l.ca.SaveState(l.dir); err != nil {
		l.ca.State.Issued = l.ca.State.Issued[:n]
		return nil, fmt.Errorf("recording certificate %s in %s: %w", hex.EncodeToString(is.Cert.SerialNumber.Bytes()), filepath.Join(l.dir, StateFile), err)
	}
	return is, nil
}

// CRLs returns a complete CRL of every CA level, the issuing CA's first
// (CA.CRLs). They are signed once per session, on first use, valid for
// validity from now (7 days when zero), and written to the folder as
// 'tapline ca crl' writes them (crl.pem, and root-crl.pem with an
// intermediate), so what a sensor received is what is to be published at
// the CRL URL.
func (l *Local) CRLs(now time.Time, validity time.Duration) ([]CRLFile, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.crls != nil {
		return l.crls, nil
	}
	saved := l.ca.State
	files, err := l.ca.CRLs(now, validity, nil)
	if err != nil {
		l.ca.State = saved
		return nil, err
	}
	if l.trial {
		l.crls = files
		return files, nil
	}
	names := []string{CRLFileName, RootCRLFileName}
	for i, f := range files {
		if err := WriteFile(filepath.Join(l.dir, names[i]), f.PEM); err != nil {
			l.ca.State = saved
			return nil, err
		}
	}
	if err := l.ca.SaveState(l.dir); err != nil {
		l.ca.State = saved
		return nil, err
	}
	l.crls = files
	return files, nil
}
