package sshconn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/skeema/knownhosts"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/safefile"
)

// Trust decides which host keys a connection accepts. Implementations are
// KnownHosts and Pinned; there is deliberately no "accept anything".
type Trust interface {
	// hostKey returns the callback and the HostKeyAlgorithms to offer for
	// addr (host:port). An empty algorithm list means the client's default.
	hostKey(addr string) (ssh.HostKeyCallback, []string, error)
}

// KnownHosts trusts the keys in an OpenSSH known_hosts file. Safe for
// concurrent use by many pushes: appends are serialised.
type KnownHosts struct {
	// File is the known_hosts path (~/.ssh/known_hosts or a Tapline one).
	// It is created (0600, its directory 0700) when missing.
	File string
	// Also are further known_hosts files read but never written (the
	// other files of an UserKnownHostsFile list); missing ones are skipped.
	Also []string
	// Accept is asked about an unknown host; true appends its key to File
	// and lets the connection go on. Nil refuses every unknown host. It is
	// never asked about a changed key.
	Accept func(*UnknownHostError) bool

	mu sync.Mutex
}

// DefaultKnownHostsFile is ~/.ssh/known_hosts.
func DefaultKnownHostsFile() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("sshconn: no home directory for ~/.ssh/known_hosts: %w", err)
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}

func (k *KnownHosts) ensureFile() error {
	if _, err := os.Stat(k.File); err == nil {
		return nil
	}
	if err := safefile.MkdirPrivate(filepath.Dir(k.File)); err != nil {
		return fmt.Errorf("sshconn: known_hosts %s: %w", k.File, err)
	}
	f, err := os.OpenFile(k.File, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // made meanwhile by another process: its own file
	}
	if err != nil {
		return fmt.Errorf("sshconn: known_hosts %s: %w", k.File, err)
	}
	f.Close()
	// Private on Windows too: an ACL for the user alone.
	if err := safefile.Restrict(k.File); err != nil {
		return fmt.Errorf("sshconn: known_hosts: %w", err)
	}
	return nil
}

func (k *KnownHosts) hostKey(addr string) (ssh.HostKeyCallback, []string, error) {
	if k.File == "" {
		return nil, nil, errors.New("sshconn: no known_hosts file given")
	}
	k.mu.Lock()
	err := k.ensureFile()
	var db *knownhosts.HostKeyDB
	if err == nil {
		files := []string{k.File}
		for _, f := range k.Also {
			if _, serr := os.Stat(f); serr == nil {
				files = append(files, f)
			}
		}
		db, err = knownhosts.NewDB(files...)
	}
	k.mu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("sshconn: reading known_hosts %s: %w", k.File, err)
	}
	inner := db.HostKeyCallback()
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := inner(hostname, remote, key)
		if err == nil {
			return nil
		}
		if knownhosts.IsHostKeyChanged(err) {
			ce := &HostKeyChangedError{Host: hostname, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), KnownHosts: k.File}
			var ke *xknownhosts.KeyError
			if errors.As(err, &ke) && len(ke.Want) > 0 {
				ce.Line = ke.Want[0].Line
			}
			return ce
		}
		if knownhosts.IsHostUnknown(err) {
			ue := &UnknownHostError{Host: hostname, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), KnownHosts: k.File, Key: key}
			if k.Accept == nil || !k.Accept(ue) {
				return ue
			}
			return k.add(hostname, remote, key)
		}
		return fmt.Errorf("sshconn: checking host key of %s: %w", hostname, err)
	}
	return cb, db.HostKeyAlgorithms(addr), nil
}

// add appends the accepted key to known_hosts.
func (k *KnownHosts) add(hostname string, remote net.Addr, key ssh.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := os.OpenFile(k.File, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sshconn: adding %s to known_hosts: %w", hostname, err)
	}
	if err := knownhosts.WriteKnownHost(f, hostname, remote, key); err != nil {
		f.Close()
		return fmt.Errorf("sshconn: adding %s to %s: %w", hostname, k.File, err)
	}
	return f.Close()
}

// Pinned trusts exactly one key, whatever address the host answers on:
// reconnecting to a sensor at its new address after apply, where known_hosts
// (keyed by address) would call it unknown.
type Pinned struct {
	Key ssh.PublicKey
}

func (p Pinned) hostKey(string) (ssh.HostKeyCallback, []string, error) {
	if p.Key == nil {
		return nil, nil, errors.New("sshconn: pinned trust without a key")
	}
	want := p.Key.Marshal()
	cb := func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		if string(key.Marshal()) == string(want) {
			return nil
		}
		return &PinnedKeyMismatchError{Host: hostname, Fingerprint: ssh.FingerprintSHA256(key), Pinned: ssh.FingerprintSHA256(p.Key)}
	}
	// Offer exactly the pinned key's algorithms so the server proves that key.
	algos := []string{p.Key.Type()}
	if p.Key.Type() == ssh.KeyAlgoRSA {
		algos = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return cb, algos, nil
}
