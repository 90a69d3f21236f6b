package plugin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tapline/tapline/sensorcore/activation"
)

// A plugin travels with a detached signature, FILE.sig beside FILE
// (docs/plugins.md, "Signing"): a statement naming the plugin, its
// version, the SHA-256 and size of the file's bytes, the signer's name and
// key id, and when it was signed, with an Ed25519 signature over it made
// by the plant's plugin signing key (`tapline plugin keygen`, `tapline
// plugin sign`). A sensor loads a plugin only when its signature verifies
// under one of the plugin keys it was given in a provisioning bundle.

// SignatureFormat names the signature file's format.
const SignatureFormat = "tapline-plugin-signature/1"

// SignatureSuffix is appended to a plugin's file name for its signature.
const SignatureSuffix = ".sig"

// MaxSignatureSize bounds a signature file.
const MaxSignatureSize = 16 << 10

// signContext separates plugin signatures from every other use of an
// Ed25519 key.
const signContext = "tapline plugin signature v1\n"

// Statement is what a plugin signature says.
type Statement struct {
	Plugin   string    `json:"plugin"`
	Version  string    `json:"version"`
	SHA256   string    `json:"sha256"`
	Size     int64     `json:"size"`
	Signer   string    `json:"signer"`
	KeyID    string    `json:"key_id"`
	SignedAt time.Time `json:"signed_at"`
}

type signatureFile struct {
	Format    string          `json:"format"`
	Statement json.RawMessage `json:"statement"`
	Signature []byte          `json:"signature"`
}

// Refusals, each wrapped with the plugin's and key's details.
var (
	ErrUnsigned     = errors.New("plugin: not signed")
	ErrUntrusted    = errors.New("plugin: signed by a key this sensor was not given")
	ErrBadSignature = errors.New("plugin: the signature does not verify")
	ErrAltered      = errors.New("plugin: the file was changed after it was signed")
	ErrNoKeys       = errors.New("plugin: this sensor was given no plugin signing key")
)

// Key is a plugin signing key's public half with the name the plant gave
// it ("Plant A plugin key").
type Key struct {
	Name   string
	Public ed25519.PublicKey
}

// ID is the key's id: the first 8 bytes of its SHA-256, hex.
func (k Key) ID() string { return activation.KeyID(k.Public) }

// Sign signs the plugin file's bytes with key, in the name of signer. The
// file must parse: a plugin that would be refused is not signed.
func Sign(data []byte, signer string, key ed25519.PrivateKey, now time.Time) ([]byte, error) {
	p, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if !validSigner(signer) {
		return nil, fmt.Errorf("plugin: signer name %q: 1 to 64 printable characters", signer)
	}
	sum := sha256.Sum256(data)
	st := Statement{Plugin: p.Name, Version: p.Version, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		Signer: signer, KeyID: activation.KeyID(key.Public().(ed25519.PublicKey)), SignedAt: now.UTC().Truncate(time.Second)}
	sb, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(signatureFile{Format: SignatureFormat, Statement: sb,
		Signature: ed25519.Sign(key, append([]byte(signContext), sb...))}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func validSigner(s string) bool {
	return s != "" && len(s) <= 64 && printable(s)
}

// Verify checks a plugin file's signature against the trusted keys and
// returns what it states. It refuses (errors wrapping the Err values): no
// keys, a signature by another key, a signature that does not verify, and
// a file whose bytes are not those signed. It does not parse the plugin.
func Verify(data, sig []byte, keys []Key) (*Statement, error) {
	if len(sig) == 0 {
		return nil, fmt.Errorf("%w: no %s file beside it (sign it with tapline plugin sign)", ErrUnsigned, SignatureSuffix)
	}
	if len(sig) > MaxSignatureSize {
		return nil, fmt.Errorf("%w: the signature file is over %d bytes", ErrBadSignature, MaxSignatureSize)
	}
	var sf signatureFile
	dec := json.NewDecoder(bytes.NewReader(sig))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil || sf.Format != SignatureFormat {
		return nil, fmt.Errorf("%w: the signature file is not a %s file", ErrBadSignature, SignatureFormat)
	}
	var st Statement
	sd := json.NewDecoder(bytes.NewReader(sf.Statement))
	sd.DisallowUnknownFields()
	if err := sd.Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: its statement is malformed", ErrBadSignature)
	}
	if len(keys) == 0 {
		return &st, fmt.Errorf("%w (signed by %q, key %s): give the sensor the plant's plugin key in a provisioning bundle (tapline push --plugin-key)", ErrNoKeys, st.Signer, st.KeyID)
	}
	var key *Key
	for i := range keys {
		if keys[i].ID() == st.KeyID {
			key = &keys[i]
			break
		}
	}
	if key == nil {
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID()
		}
		return &st, fmt.Errorf("%w: signed by %q with key %s; this sensor trusts key %s", ErrUntrusted, st.Signer, st.KeyID, strings.Join(ids, ", "))
	}
	// The statement was signed compact; the file shows it indented.
	var compact bytes.Buffer
	if err := json.Compact(&compact, sf.Statement); err != nil {
		return &st, fmt.Errorf("%w: its statement is malformed", ErrBadSignature)
	}
	if !ed25519.Verify(key.Public, append([]byte(signContext), compact.Bytes()...), sf.Signature) {
		return &st, fmt.Errorf("%w under key %s (%s): the signature file was altered or made with another key", ErrBadSignature, st.KeyID, key.Name)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != st.SHA256 || int64(len(data)) != st.Size {
		return &st, fmt.Errorf("%w (signed by %q on %s): sign it again with tapline plugin sign", ErrAltered, st.Signer, st.SignedAt.Format("2006-01-02"))
	}
	return &st, nil
}

// pemKeyName is the PEM header naming a key in a keys file.
const pemKeyName = "Name"

// MarshalKey writes a public key as a PEM "PUBLIC KEY" block with its
// name in a header; a keys file holds one block per trusted key.
func MarshalKey(k Key) []byte {
	b, _ := pem.Decode(activation.MarshalPublicKey(k.Public))
	b.Headers = map[string]string{pemKeyName: k.Name}
	return pem.EncodeToMemory(b)
}

// ParseKeys reads a keys file: one or more PEM "PUBLIC KEY" blocks
// (Ed25519), each with an optional Name header.
func ParseKeys(data []byte) ([]Key, error) {
	var out []Key
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("plugin: keys file: a %q block; only PUBLIC KEY blocks (Ed25519) belong here", b.Type)
		}
		pub, err := activation.ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes}))
		if err != nil {
			return nil, fmt.Errorf("plugin: keys file: %w", err)
		}
		name := b.Headers[pemKeyName]
		if name == "" {
			name = activation.KeyID(pub)
		}
		if !validSigner(name) {
			return nil, fmt.Errorf("plugin: keys file: key name %q: 1 to 64 printable characters", name)
		}
		out = append(out, Key{Name: name, Public: pub})
		if len(out) > 16 {
			return nil, fmt.Errorf("plugin: keys file: more than 16 keys")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("plugin: keys file: no PUBLIC KEY block (make one with tapline plugin keygen)")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("plugin: keys file: text after the last key")
	}
	return out, nil
}
