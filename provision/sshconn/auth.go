package sshconn

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Auth is how to log in. Methods are tried in the order agent, key file,
// password; the first the server accepts wins.
type Auth struct {
	Password string
	KeyFile  string
	// Passphrase is asked for an encrypted KeyFile; it gets the file name.
	Passphrase func(keyFile string) ([]byte, error)
	// AgentSocket is an ssh-agent socket (usually $SSH_AUTH_SOCK); empty: no agent.
	AgentSocket string
}

// methods builds the ssh.AuthMethods; the returned closer ends the agent
// connection once the handshake is over.
func (a Auth) methods() ([]ssh.AuthMethod, io.Closer, error) {
	var ms []ssh.AuthMethod
	var closer io.Closer = nopCloser{}
	if a.AgentSocket != "" {
		c, err := net.Dial("unix", a.AgentSocket)
		if err != nil {
			return nil, nil, fmt.Errorf("sshconn: ssh-agent at %s: %w", a.AgentSocket, err)
		}
		closer = c
		ms = append(ms, ssh.PublicKeysCallback(agent.NewClient(c).Signers))
	}
	if a.KeyFile != "" {
		s, err := ReadKeyFile(a.KeyFile, a.Passphrase)
		if err != nil {
			closer.Close()
			return nil, nil, err
		}
		ms = append(ms, ssh.PublicKeys(s))
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

// ReadKeyFile reads an OpenSSH or PEM private key; for an encrypted one it
// asks passphrase (nil: the key cannot be used and the error says so).
func ReadKeyFile(path string, passphrase func(string) ([]byte, error)) (ssh.Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sshconn: key file: %w", err)
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
			return nil, fmt.Errorf("sshconn: key file %s: wrong passphrase", path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sshconn: key file %s: %w", path, err)
	}
	return s, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
