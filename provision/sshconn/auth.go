package sshconn

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/internal/userpath"
)

// Auth is how to log in. Methods are tried in the order agent, key file,
// password; the first the server accepts wins.
type Auth struct {
	Password string
	KeyFile  string
	// MoreKeyFiles are further key files offered after KeyFile, in order,
	// as ssh offers every IdentityFile (or each default key) until the
	// server accepts one. Each is offered by its public key; its private
	// half is read, and its passphrase asked, only once the server
	// accepts that public key. One whose public key cannot be read (a
	// damaged file, a legacy encrypted PEM key without FILE.pub) is
	// skipped, as ssh skips a key it cannot load.
	MoreKeyFiles []string
	// Passphrase is asked for an encrypted key file; it gets the file name.
	Passphrase func(keyFile string) ([]byte, error)
	// AgentSocket is the ssh-agent: a Unix socket, a Windows named pipe or
	// AgentPageant (FindAgent finds the user's); empty: no agent.
	AgentSocket string
	// AgentKeys, when set, are the only agent keys offered (OpenSSH's
	// IdentitiesOnly): key files whose public key (FILE.pub, or the file
	// itself when it is a public key) the agent's key must match.
	AgentKeys []string
}

// methods builds the ssh.AuthMethods; the returned closer ends the agent
// connection once the handshake is over.
func (a Auth) methods() ([]ssh.AuthMethod, io.Closer, error) {
	var ms []ssh.AuthMethod
	var closer io.Closer = nopCloser{}
	if a.AgentSocket != "" {
		ag, c, err := dialAgent(a.AgentSocket)
		if err != nil {
			return nil, nil, err
		}
		closer = c
		signers := ag.Signers
		if len(a.AgentKeys) > 0 {
			want, err := publicKeys(a.AgentKeys)
			if err != nil {
				closer.Close()
				return nil, nil, err
			}
			signers = func() ([]ssh.Signer, error) {
				all, err := ag.Signers()
				var out []ssh.Signer
				for _, s := range all {
					if want[string(s.PublicKey().Marshal())] {
						out = append(out, s)
					}
				}
				return out, err
			}
		}
		ms = append(ms, ssh.PublicKeysCallback(signers))
	}
	if a.KeyFile != "" {
		s, err := ReadKeyFile(a.KeyFile, a.Passphrase)
		if err != nil {
			closer.Close()
			return nil, nil, err
		}
		signers := []ssh.Signer{s}
		for _, f := range a.MoreKeyFiles {
			if k := offerKeyFile(f, a.Passphrase); k != nil {
				signers = append(signers, k)
			}
		}
		ms = append(ms, ssh.PublicKeys(signers...))
	}
	if a.Password != "" {
		pw := a.Password
		ms = append(ms, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			ans := make([]string, len(qs))
			for i := range ans {
				ans[i] = pw
			}
			return ans, nil
		}))
	}
	if len(ms) == 0 {
		closer.Close()
		return nil, nil, ErrNoAuth
	}
	return ms, closer, nil
}

// defaultKeyNames are the key files in ~/.ssh that DefaultKeyFile looks
// for, newest algorithm first; the first that exists is the key the check
// names, and the others are offered after it, as ssh offers them all
// (KeysFor).
var defaultKeyNames = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// DefaultKeyFile is the key to use when none is named: the first of
// ~/.ssh/id_ed25519, id_ecdsa and id_rsa that exists, where ~ is the home
// folder (%USERPROFILE% on Windows, where OpenSSH for Windows keeps its
// keys too). The error says where it looked and what to do.
func DefaultKeyFile() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no key file given and no home folder to look for one in: name the key file (%v)", err)
	}
	dir := filepath.Join(home, ".ssh")
	for _, n := range defaultKeyNames {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no key file given and none of %s in %s: name the key file, or make one with ssh-keygen -t ed25519",
		strings.Join(defaultKeyNames, ", "), dir)
}

// KeysFor are the key files ssh would offer a host when none is named:
// every IdentityFile of hs that exists (the host's settings from
// SSHConfig.Resolve) or, when the configuration names none, every one of
// ~/.ssh/id_ed25519, id_ecdsa and id_rsa that exists, in that order. The
// first is KeyFor's; the error is KeyFor's.
func KeysFor(hs HostSettings) ([]string, error) {
	first, err := KeyFor(hs)
	if err != nil {
		return nil, err
	}
	cands := hs.IdentityFiles
	if len(cands) == 0 {
		home, _ := os.UserHomeDir()
		for _, n := range defaultKeyNames {
			cands = append(cands, filepath.Join(home, ".ssh", n))
		}
	}
	out := []string{first}
	for _, p := range cands {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// KeyFor is the key file that signs in to a host when none is named: the
// first IdentityFile that exists of hs (the host's settings from
// SSHConfig.Resolve); when the configuration names none, DefaultKeyFile.
// The error says where it looked.
func KeyFor(hs HostSettings) (string, error) {
	if len(hs.IdentityFiles) == 0 {
		return DefaultKeyFile()
	}
	for _, p := range hs.IdentityFiles {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no key file given and none of the IdentityFile ~/.ssh/config names for this host exists (%s): name the key file",
		strings.Join(hs.IdentityFiles, ", "))
}

// AgentKeys lists the keys the ssh-agent at addr holds (FindAgent's
// address).
func AgentKeys(addr string) ([]*agent.Key, error) {
	ag, c, err := dialAgent(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return ag.List()
}

// ErrWrongPassphrase says the passphrase given for a key file does not
// open it, whatever the file's format.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// maxKeyFile bounds a key file's size: the largest real one (an RSA key of
// 16384 bits in PuTTY's format) is under 20 KiB.
const maxKeyFile = 1 << 20

// ReadKeyFile reads a private key in OpenSSH, PEM or PuTTY (.ppk versions
// 2 and 3) format; for an encrypted one it asks passphrase (nil: the key
// cannot be used and the error says so). A wrong passphrase fails with
// ErrWrongPassphrase in every format.
func ReadKeyFile(path string, passphrase func(string) ([]byte, error)) (ssh.Signer, error) {
	path = userpath.Expand(path)
	raw, err := safefile.ReadFile(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("sshconn: key file: %w", err)
	}
	if isPPK(raw) {
		return readPPK(path, raw, passphrase)
	}
	s, err := ssh.ParsePrivateKey(raw)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == nil {
			return nil, fmt.Errorf("sshconn: key file %s is encrypted and no passphrase prompt is available", path)
		}
		pp, perr := passphrase(path)
		if perr != nil {
			return nil, fmt.Errorf("sshconn: passphrase for %s: %w", path, perr)
		}
		s, err = ssh.ParsePrivateKeyWithPassphrase(raw, pp)
		clear(pp)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("sshconn: key file %s: %w", path, ErrWrongPassphrase)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sshconn: key file %s: %w", path, err)
	}
	return s, nil
}

// readPPK reads a PuTTY private key file.
func readPPK(path string, raw []byte, passphrase func(string) ([]byte, error)) (ssh.Signer, error) {
	k, err := parsePPKFile(raw)
	if err != nil {
		return nil, fmt.Errorf("sshconn: key file %s (PuTTY format): %v", path, err)
	}
	var pp []byte
	if k.encrypted() {
		if passphrase == nil {
			return nil, fmt.Errorf("sshconn: key file %s is encrypted and no passphrase prompt is available", path)
		}
		if pp, err = passphrase(path); err != nil {
			return nil, fmt.Errorf("sshconn: passphrase for %s: %w", path, err)
		}
		defer clear(pp)
	}
	priv, err := k.decrypt(pp)
	switch {
	case errors.Is(err, errPPKMAC) && k.encrypted():
		return nil, fmt.Errorf("sshconn: key file %s: %w", path, ErrWrongPassphrase)
	case errors.Is(err, errPPKMAC):
		return nil, fmt.Errorf("sshconn: key file %s (PuTTY format): damaged or edited (its Private-MAC does not match): export the key again from PuTTYgen", path)
	case err != nil:
		return nil, fmt.Errorf("sshconn: key file %s (PuTTY format): %v", path, err)
	}
	defer clear(priv)
	s, err := k.signer(priv)
	if err != nil {
		return nil, fmt.Errorf("sshconn: key file %s (PuTTY format): %v", path, err)
	}
	return s, nil
}

// publicKeys reads the public keys of key files (FILE.pub beside a private
// key, or a public key file), as a set of their wire forms.
func publicKeys(files []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, f := range files {
		var k ssh.PublicKey
		for _, p := range []string{f + ".pub", f} {
			raw, err := safefile.ReadFile(userpath.Expand(p), maxKeyFile)
			if err != nil {
				continue
			}
			if k, _, _, _, err = ssh.ParseAuthorizedKey(raw); err == nil {
				break
			}
		}
		if k == nil {
			return nil, fmt.Errorf("sshconn: IdentitiesOnly: no public key for %s (%s.pub): make it with ssh-keygen -y -f %s > %s.pub", f, f, f, f)
		}
		out[string(k.Marshal())] = true
	}
	return out, nil
}

// offerKeyFile is the key file path as a signer offered by its public key
// (lazyKey), or the key itself when it is not encrypted; nil when neither
// its public key nor its private key can be read.
func offerKeyFile(path string, passphrase func(string) ([]byte, error)) ssh.Signer {
	path = userpath.Expand(path)
	raw, err := safefile.ReadFile(path, maxKeyFile)
	if err != nil {
		return nil
	}
	var pub ssh.PublicKey
	if isPPK(raw) {
		k, err := parsePPKFile(raw)
		if err != nil {
			return nil
		}
		if pub, err = ssh.ParsePublicKey(k.public); err != nil {
			return nil
		}
	} else {
		s, err := ssh.ParsePrivateKey(raw)
		if err == nil {
			return s
		}
		var missing *ssh.PassphraseMissingError
		if !errors.As(err, &missing) {
			return nil
		}
		pub = missing.PublicKey // OpenSSH's format keeps it in clear
	}
	if pub == nil {
		if b, err := safefile.ReadFile(path+".pub", maxKeyFile); err == nil {
			pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
		}
	}
	if pub == nil {
		return nil
	}
	return &lazyKey{path: path, pub: pub, passphrase: passphrase}
}

// lazyKey is an encrypted key file offered by its public key: its private
// half is read, and its passphrase asked, only when the server has
// accepted the public key and a signature is needed, as ssh does.
type lazyKey struct {
	path       string
	pub        ssh.PublicKey
	passphrase func(string) ([]byte, error)

	once sync.Once
	s    ssh.AlgorithmSigner
	err  error
}

func (k *lazyKey) PublicKey() ssh.PublicKey { return k.pub }

func (k *lazyKey) load() (ssh.AlgorithmSigner, error) {
	k.once.Do(func() {
		s, err := ReadKeyFile(k.path, k.passphrase)
		switch {
		case err != nil:
			k.err = err
		case !bytes.Equal(s.PublicKey().Marshal(), k.pub.Marshal()):
			k.err = fmt.Errorf("sshconn: key file %s: its private key does not match the public key it was offered with (%s.pub)", k.path, k.path)
		default:
			as, ok := s.(ssh.AlgorithmSigner)
			if !ok {
				k.err = fmt.Errorf("sshconn: key file %s: unsupported key type %s", k.path, k.pub.Type())
			}
			k.s = as
		}
	})
	return k.s, k.err
}

func (k *lazyKey) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := k.load()
	if err != nil {
		return nil, err
	}
	return s.Sign(r, data)
}

func (k *lazyKey) SignWithAlgorithm(r io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s, err := k.load()
	if err != nil {
		return nil, err
	}
	return s.SignWithAlgorithm(r, data, algorithm)
}

// Algorithms are the signature algorithms the key offers before it is
// read: an RSA key's SHA-2 ones first, as a read one offers.
func (k *lazyKey) Algorithms() []string {
	if k.pub.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{k.pub.Type()}
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
