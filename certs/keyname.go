package certs

import (
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 DSA keys are named, never used
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
)

// KeyName names a public key the way engineers say it: "RSA 2048",
// "ECDSA P-256", "Ed25519", "DSA 2048 (not supported: ...)". For a
// certificate use PublicKeyName, which also names the keys Go does not read.
func KeyName(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *dsa.PublicKey:
		return dsaKeyName(k)
	}
	return "unknown key type"
}
