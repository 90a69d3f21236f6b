package sshconn

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzPPK feeds arbitrary files through the PuTTY key reader: parse,
// decrypt and build the key. Nothing may panic; whatever is accepted must
// be a usable key. Argon2 costs are lowered so each input runs quickly
// (the limits on them are tested on their own).
func FuzzPPK(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "ppk", "*.ppk"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "Field.Engineer-7")
	}
	f.Fuzz(func(t *testing.T, data []byte, passphrase string) {
		k, err := parsePPKFile(data)
		if err != nil {
			return
		}
		k.memory, k.passes = min(k.memory, 64), min(k.passes, 1)
		priv, err := k.decrypt([]byte(passphrase))
		if err != nil {
			return
		}
		s, err := k.signer(priv)
		if err != nil {
			return
		}
		if _, err := s.Sign(zeroReader{}, []byte("x")); err != nil {
			t.Fatalf("an accepted key cannot sign: %v", err)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
