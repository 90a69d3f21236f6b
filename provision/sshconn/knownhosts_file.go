package sshconn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/tapline/tapline/internal/safefile"
)

// KnownHostEntry is one key line of a known_hosts file (sshd(8),
// "SSH_KNOWN_HOSTS FILE FORMAT").
type KnownHostEntry struct {
	Line int `json:"line"` // 1-based line number in the file
	// Hosts are the line's host patterns as written; a hashed entry
	// (HashKnownHosts) shows as "(hashed)" since its name cannot be read.
	Hosts  []string `json:"hosts"`
	Hashed bool     `json:"hashed"`
	// Marker is "@cert-authority" or "@revoked" when the line has one.
	Marker      string `json:"marker,omitempty"`
	KeyType     string `json:"key_type"`
	Fingerprint string `json:"fingerprint_sha256"` // "SHA256:..." as ssh-keygen -l prints it
	Comment     string `json:"comment,omitempty"`
}

// ListKnownHosts reads every key line of the known_hosts file at path, in
// file order. Comments and blank lines are skipped; a line that does not
// parse is an error naming the file and line. A missing file is empty.
func ListKnownHosts(path string) ([]KnownHostEntry, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sshconn: known_hosts %s: %w", path, err)
	}
	var out []KnownHostEntry
	for i, line := range splitLines(data) {
		e, ok, err := parseKnownHostLine(line)
		if err != nil {
			return nil, fmt.Errorf("sshconn: known_hosts %s line %d: %w", path, i+1, err)
		}
		if ok {
			e.Line = i + 1
			out = append(out, e)
		}
	}
	return out, nil
}

// RemoveKnownHost removes the key lines for host from the known_hosts file
// at path, as `ssh-keygen -R host` does: host is a name or address,
// optionally with a port ("192.0.2.10", "192.0.2.10:2222",
// "[192.0.2.10]:2222"); plain and hashed entries match, wildcard patterns
// and @cert-authority lines are kept. The file is rewritten atomically
// (0600) and the previous one kept as path.old (0600). It returns the line
// numbers removed; none removed leaves the file untouched.
func RemoveKnownHost(path, host string) ([]int, error) {
	want, err := knownHostName(host)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sshconn: known_hosts %s: %w", path, err)
	}
	var keep bytes.Buffer
	var removed []int
	for i, line := range splitLines(data) {
		e, ok, err := parseKnownHostLine(line)
		if err == nil && ok && e.Marker != "@cert-authority" && lineMatches(line, want) {
			removed = append(removed, i+1)
			continue
		}
		keep.Write(line)
	}
	if len(removed) == 0 {
		return nil, nil
	}
	if err := writeKnownHostsAtomic(path, data, keep.Bytes()); err != nil {
		return nil, err
	}
	return removed, nil
}

// ErrKnownHostsChanged: the known_hosts file no longer holds what was
// listed from it.
var ErrKnownHostsChanged = errors.New("the file changed since it was listed: list it again")

// RemoveKnownHostLine removes the one key line numbered line (1-based, as
// ListKnownHosts gives it) from the known_hosts file at path, and only when
// that line still holds the key with fingerprint (SHA256:...): a file
// changed since it was listed is refused, not guessed at. It is how a
// hashed entry, whose host name cannot be read, is removed. The file is
// rewritten atomically (0600), the previous one kept as path.old.
func RemoveKnownHostLine(path string, line int, fingerprint string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("sshconn: known_hosts %s: %w", path, err)
	}
	lines := splitLines(data)
	if line < 1 || line > len(lines) {
		return fmt.Errorf("sshconn: known_hosts %s has no line %d: %w", path, line, ErrKnownHostsChanged)
	}
	e, ok, err := parseKnownHostLine(lines[line-1])
	if err != nil || !ok || e.Fingerprint != fingerprint {
		return fmt.Errorf("sshconn: known_hosts %s line %d no longer holds key %s: %w", path, line, fingerprint, ErrKnownHostsChanged)
	}
	keep := bytes.Join(append(lines[:line-1:line-1], lines[line:]...), nil)
	return writeKnownHostsAtomic(path, data, keep)
}

// RemoveLine is RemoveKnownHostLine on k.File, serialised with k's appends.
func (k *KnownHosts) RemoveLine(line int, fingerprint string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return RemoveKnownHostLine(k.File, line, fingerprint)
}

// Remove is RemoveKnownHost on k.File, serialised with k's own appends.
func (k *KnownHosts) Remove(host string) ([]int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return RemoveKnownHost(k.File, host)
}

// List is ListKnownHosts on k.File.
func (k *KnownHosts) List() ([]KnownHostEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return ListKnownHosts(k.File)
}

// knownHostName is how known_hosts writes host: "host" on port 22,
// "[host]:port" otherwise.
func knownHostName(host string) (string, error) {
	host = strings.TrimSpace(host)
	if host == "" || strings.ContainsAny(host, " ,*?!\t") {
		return "", fmt.Errorf("sshconn: %q is not a host name or address", host)
	}
	if h, p, err := net.SplitHostPort(host); err == nil {
		return xknownhosts.Normalize(net.JoinHostPort(h, p)), nil
	}
	return xknownhosts.Normalize(host), nil
}

// splitLines splits data after each '\n', keeping the line endings.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			out = append(out, data)
			break
		}
		out = append(out, data[:i+1])
		data = data[i+1:]
	}
	return out
}

// parseKnownHostLine parses one line; ok is false for blank and comment lines.
func parseKnownHostLine(line []byte) (KnownHostEntry, bool, error) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] == '#' {
		return KnownHostEntry{}, false, nil
	}
	marker, hosts, key, comment, _, err := ssh.ParseKnownHosts(t)
	if err != nil {
		if err == io.EOF {
			return KnownHostEntry{}, false, nil
		}
		return KnownHostEntry{}, false, err
	}
	e := KnownHostEntry{KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Comment: comment}
	if marker != "" {
		e.Marker = "@" + marker
	}
	for _, h := range hosts {
		if strings.HasPrefix(h, "|1|") {
			e.Hashed = true
			e.Hosts = append(e.Hosts, "(hashed)")
			continue
		}
		e.Hosts = append(e.Hosts, h)
	}
	return e, true, nil
}

// lineMatches reports whether one of the line's host patterns is exactly
// want, or a hashed name of want (HMAC-SHA1 keyed by its salt).
func lineMatches(line []byte, want string) bool {
	f := strings.Fields(string(line))
	if len(f) > 0 && strings.HasPrefix(f[0], "@") {
		f = f[1:]
	}
	if len(f) == 0 {
		return false
	}
	for _, h := range strings.Split(f[0], ",") {
		if rest, ok := strings.CutPrefix(h, "|1|"); ok {
			salt64, hash64, ok := strings.Cut(rest, "|")
			salt, err1 := base64.StdEncoding.DecodeString(salt64)
			sum, err2 := base64.StdEncoding.DecodeString(hash64)
			if !ok || err1 != nil || err2 != nil {
				continue
			}
			m := hmac.New(sha1.New, salt)
			m.Write([]byte(want))
			if hmac.Equal(m.Sum(nil), sum) {
				return true
			}
			continue
		}
		if strings.EqualFold(h, want) {
			return true
		}
	}
	return false
}

// writeKnownHostsAtomic keeps old as path.old and replaces path with data,
// both atomically (safefile): 0600, synced, renamed into place.
func writeKnownHostsAtomic(path string, old, data []byte) error {
	if err := safefile.WriteFile(path+".old", old, 0o600); err != nil {
		return fmt.Errorf("sshconn: known_hosts backup: %w", err)
	}
	if err := safefile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("sshconn: rewriting known_hosts: %w", err)
	}
	return nil
}
