package sshconn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
	"time"
)

// UnknownHostError says the host is not in known_hosts. The engineer checks
// Fingerprint (as `ssh-keygen -lf` prints it) before accepting it.
type UnknownHostError struct {
	Host        string // host:port as dialled
	KeyType     string // ssh-ed25519, ssh-rsa, ...
	Fingerprint string // SHA256:base64, OpenSSH's format
	KnownHosts  string // the file that was consulted
	Key         ssh.PublicKey
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("sshconn: host %s is not in %s; its %s key is %s: check it on the sensor's console and accept it with --accept-new",
		e.Host, e.KnownHosts, e.KeyType, e.Fingerprint)
}

// HostKeyChangedError says known_hosts holds a different key for the host.
// It is never overridden by the push engine: the engineer must fix
// known_hosts by hand after finding out why the key changed.
type HostKeyChangedError struct {
	Host        string
	KeyType     string
	Fingerprint string // the key the host offered now
	KnownHosts  string
	Line        int // line of the known_hosts entry that disagrees
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("sshconn: host key of %s CHANGED: it offered %s %s but %s:%d holds another key; refused (possible impersonation); after checking the sensor, remove the old key with %s",
		e.Host, e.KeyType, e.Fingerprint, e.KnownHosts, e.Line, e.RemoveCommand())
}

// RemoveCommand is the OpenSSH command that forgets the host's old key:
// ssh-keygen -R with the host as known_hosts names it ("[127.0.0.1]:40013"
// on a port other than 22, RFC 4251 §4.2 style as OpenSSH writes it) and
// the file when it is not OpenSSH's default.
func (e *HostKeyChangedError) RemoveCommand() string { return KeygenRemove(e.Host, e.KnownHosts) }

// KeygenRemove is "ssh-keygen -R HOST [-f FILE]" for host (host or
// host:port as dialled) in the known_hosts file (omitted when it is
// ~/.ssh/known_hosts), quoted for a POSIX shell.
func KeygenRemove(host, file string) string {
	name := host
	if h, port, err := net.SplitHostPort(host); err == nil {
		name = h
		if port != "22" {
			name = "[" + h + "]:" + port
		}
	}
	cmd := "ssh-keygen -R " + shellQuote(name)
	if def, err := DefaultKnownHostsFile(); file != "" && (err != nil || file != def) {
		cmd += " -f " + shellQuote(file)
	}
	return cmd
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// name characters.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:@+,", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// PinnedKeyMismatchError says a host reached at a new address did not
// present the key pinned from the earlier connection.
type PinnedKeyMismatchError struct {
	Host        string
	Fingerprint string // offered
	Pinned      string // expected
}

func (e *PinnedKeyMismatchError) Error() string {
	return fmt.Sprintf("sshconn: host %s offered key %s, not the pinned %s; refused", e.Host, e.Fingerprint, e.Pinned)
}

// AuthError says the server refused every credential offered.
type AuthError struct {
	Host, User string
	Err        error
	// Banner is what the server said while refusing (a sensor's reason:
	// too many failed sign-ins from this address, an account locked), and
	// RetryAfter the wait it asked for before the next sign-in (0: none).
	Banner     string
	RetryAfter time.Duration
}

func (e *AuthError) Error() string {
	if e.RetryAfter > 0 && e.Banner != "" {
		return fmt.Sprintf("sshconn: %s@%s refused our credentials: %v; the server says: %s", e.User, e.Host, e.Err, e.Banner)
	}
	return fmt.Sprintf("sshconn: %s@%s refused our credentials: %v", e.User, e.Host, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// ErrNoAuth says the Auth gave no method at all.
var ErrNoAuth = errors.New("sshconn: no authentication method: give a password, a key file or an ssh-agent")

// IsTransient reports whether err is worth retrying with backoff: network
// timeouts, refused or reset connections, a connection cut mid-way. Trust
// refusals, authentication failures and usage errors are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var u *UnknownHostError
	var c *HostKeyChangedError
	var p *PinnedKeyMismatchError
	var a *AuthError
	if errors.As(err, &u) || errors.As(err, &c) || errors.As(err, &p) || errors.As(err, &a) || errors.Is(err, ErrNoAuth) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"EOF", "connection lost", "use of closed network connection", "handshake failed", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
