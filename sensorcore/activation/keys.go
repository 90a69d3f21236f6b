package activation

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/tapline/tapline/internal/safefile"
)

// PEM block types for the signer certificate (the keys use the standard
// "PUBLIC KEY" / "PRIVATE KEY" blocks: PKIX and PKCS#8, RFC 8410).
const pemSignerCert = "TAPLINE ACTIVATION SIGNER CERTIFICATE"

// KeyID names an Ed25519 public key: the first 8 bytes of its SHA-256, hex.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// ParsePublicKey reads an Ed25519 public key from PEM ("PUBLIC KEY", PKIX).
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("activation: no PEM \"PUBLIC KEY\" block; expected an Ed25519 root public key")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("activation: public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("activation: public key is %T, not Ed25519", k)
	}
	return pub, nil
}

// ReadPublicKey is ParsePublicKey on a file, naming it in errors.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := safefile.ReadFile(path, maxFileSize)
	if err != nil {
		return nil, fmt.Errorf("activation: %w", err)
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// MarshalPublicKey encodes an Ed25519 public key as PEM.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub) // cannot fail for Ed25519
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// MarshalPrivateKey encodes an Ed25519 private key as PKCS#8 PEM. Store it 0600.
func MarshalPrivateKey(priv ed25519.PrivateKey) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(priv) // cannot fail for Ed25519
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// ParsePrivateKey reads an Ed25519 private key from PKCS#8 PEM.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("activation: no PEM \"PRIVATE KEY\" block; expected an Ed25519 signing key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("activation: private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("activation: private key is %T, not Ed25519", k)
	}
	return priv, nil
}

// SignedSignerCert is a signer certificate as the root signed it.
type SignedSignerCert struct {
	Cert      []byte `json:"signer_cert"`
	Signature []byte `json:"signer_cert_signature"`
}

// MarshalSignerCert encodes a signed signer certificate as PEM.
func MarshalSignerCert(s SignedSignerCert) []byte { return MarshalSignerCertBlock(s, pemSignerCert) }

// ParseSignerCert reads a signed signer certificate from PEM.
func ParseSignerCert(data []byte) (SignedSignerCert, error) {
	return ParseSignerCertBlock(data, pemSignerCert)
}

// MarshalSignerCertBlock encodes a signed signer certificate as a PEM block
// of the given type: each purpose a root certifies keys for (activation
// files, releases) has its own.
func MarshalSignerCertBlock(s SignedSignerCert, blockType string) []byte {
	j, _ := json.Marshal(s)
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: j})
}

// ParseSignerCertBlock reads a signed signer certificate from a PEM block
// of the given type, refusing any other type.
func ParseSignerCertBlock(data []byte, blockType string) (SignedSignerCert, error) {
	var s SignedSignerCert
	b, _ := pem.Decode(data)
	if b == nil || b.Type != blockType {
		return s, fmt.Errorf("activation: no PEM %q block", blockType)
	}
	if err := strictJSON(b.Bytes, &s); err != nil {
		return s, fmt.Errorf("activation: signer certificate: %w", err)
	}
	var c SignerCert
	if err := strictJSON(s.Cert, &c); err != nil || len(c.PublicKey) != ed25519.PublicKeySize {
		return s, fmt.Errorf("activation: signer certificate content is not valid")
	}
	return s, nil
}
