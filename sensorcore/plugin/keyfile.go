package plugin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/tapline/tapline/certs"
)

// The plant's plugin signing key is kept like its offline CA's keys:
// encrypted PKCS#8 (PBES2: PBKDF2-SHA256 and AES-256-CBC, certs'
// encryption), which OpenSSL also opens. Its public half, with the name
// the plant gave it, travels to sensors in provisioning bundles.

// Key file names `tapline plugin keygen` writes.
const (
	SigningKeyFile = "plugin-signing.key"
	PublicKeyFile  = "plugin-signing.pub"
)

// ErrKeyNotEncrypted refuses a signing key stored in clear.
var ErrKeyNotEncrypted = errors.New("plugin: the signing key is not encrypted; make plugin signing keys with tapline plugin keygen")

// GenerateKey makes a plugin signing key named name, encrypted with
// passphrase; it returns the private key file's and the public key file's
// bytes.
func GenerateKey(name string, passphrase []byte) (priv, pub []byte, err error) {
	if !validSigner(name) {
		return nil, nil, fmt.Errorf("plugin: key name %q: 1 to 64 printable characters", name)
	}
	if len(passphrase) == 0 {
		return nil, nil, fmt.Errorf("plugin: a plugin signing key needs a passphrase")
	}
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	priv, err = certs.MarshalPrivateKeyPEM(rand.Reader, sk, passphrase)
	if err != nil {
		return nil, nil, err
	}
	return priv, MarshalKey(Key{Name: name, Public: pk}), nil
}

// ParseSigningKey opens an encrypted plugin signing key. A wrong
// passphrase is certs.ErrIncorrectPassphrase.
func ParseSigningKey(data, passphrase []byte) (ed25519.PrivateKey, error) {
	if !bytes.Contains(data, []byte("ENCRYPTED PRIVATE KEY")) {
		return nil, ErrKeyNotEncrypted
	}
	s, err := certs.ParsePrivateKey(data, passphrase)
	if err != nil {
		return nil, err
	}
	k, ok := s.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("plugin: the signing key is %T, not Ed25519; make one with tapline plugin keygen", s)
	}
	return k, nil
}
