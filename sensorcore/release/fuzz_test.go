package release

import (
	"crypto/ed25519"
	"testing"

	"github.com/tapline/tapline/sensorcore/activation"
)

// FuzzVerify: a signature file is input from the provisioning account;
// Verify never panics on it, and what it accepts is a whole statement
// signed under the trusted root.
func FuzzVerify(f *testing.F) {
	a := newAuthority(f)
	good := a.sign(f, SignOptions{})
	f.Add(good)
	f.Add(a.sign(f, SignOptions{AllowDowngrade: true, Version: "1.2.3-rc.1+b7"}))
	f.Add([]byte(`{"format":"tapline-release/1","statement":"","signature":"","signer_cert":"","signer_cert_signature":""}`))
	f.Add([]byte(`{}`))
	roots := []ed25519.PublicKey{a.root}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Verify(data, roots)
		if err != nil {
			return
		}
		if err := v.Statement.check(); err != nil {
			t.Fatalf("accepted a statement that fails its own check: %v", err)
		}
		if v.Signer.RootID != "" && v.Signer.RootID != activation.KeyID(a.root) {
			t.Fatalf("accepted a signer under another root %s", v.Signer.RootID)
		}
	})
}
