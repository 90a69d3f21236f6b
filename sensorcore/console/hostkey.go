package console

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/safefile"
)

// ReadHostKey reads an SSH host public key file (the one line ssh-keygen
// writes, NAME.pub) and returns it as the overview shows it: its type and
// SHA-256 fingerprint, the form Tapline and `ssh-keygen -l` print.
func ReadHostKey(path, where string) (HostKey, error) {
	b, err := safefile.ReadFile(path, 64<<10)
	if err != nil {
		return HostKey{}, err
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return HostKey{}, fmt.Errorf("console: %s: %v", path, err)
	}
	return HostKey{Type: keyTypeName(k.Type()), Fingerprint: ssh.FingerprintSHA256(k), Where: where}, nil
}

// keyTypeName is ssh-keygen's name for a key type.
func keyTypeName(t string) string {
	switch {
	case t == ssh.KeyAlgoED25519:
		return "ED25519"
	case t == ssh.KeyAlgoRSA:
		return "RSA"
	case strings.HasPrefix(t, "ecdsa-"):
		return "ECDSA"
	case strings.HasPrefix(t, "sk-ssh-ed25519"):
		return "ED25519-SK"
	case strings.HasPrefix(t, "sk-ecdsa"):
		return "ECDSA-SK"
	}
	return strings.ToUpper(t)
}
