// Package releasetest is a lab release authority for tests: a root of
// trust and a release signing key made at test time (never the production
// root), signing sensorcore binaries the way `make build` signs them.
package releasetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/release"
)

// Authority is a lab release root and signing key.
type Authority struct {
	RootPub  ed25519.PublicKey
	RootFile string // the root public key, PEM (release_trust_roots, --release-root)
	key      ed25519.PrivateKey
	signer   release.SignedSignerCert
	now      time.Time
}

// New makes an authority whose key is valid from a year ago to a year on.
func New(t testing.TB) *Authority {
	t.Helper()
	rp, rk, _ := ed25519.GenerateKey(rand.Reader)
	sp, sk, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now().UTC()
	sc, err := release.CertifySigner(rk, sp, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	a := &Authority{RootPub: rp, RootFile: filepath.Join(t.TempDir(), "release-root.pub"), key: sk, signer: sc, now: now}
	if err := os.WriteFile(a.RootFile, activation.MarshalPublicKey(rp), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// Roots is the authority's root as a trust list.
func (a *Authority) Roots() []ed25519.PublicKey { return []ed25519.PublicKey{a.RootPub} }

// Options for Sign; the zero value signs for linux and the binary's
// architecture (from its ELF header, amd64 when it has none).
type Options struct {
	OS, Arch       string
	AllowDowngrade bool
}

// Sign signs the binary at path as version v and returns the signature
// file's bytes.
func (a *Authority) Sign(t testing.TB, path, v string, o Options) []byte {
	t.Helper()
	if o.OS == "" {
		o.OS = "linux"
	}
	if o.Arch == "" {
		o.Arch = "amd64"
		if f, err := elf.Open(path); err == nil {
			if m, ok := release.ArchOfELF(f.Machine); ok {
				o.Arch = m
			}
			f.Close()
		}
	}
	sig, err := release.SignFile(path, release.SignOptions{Version: v, OS: o.OS, Arch: o.Arch, AllowDowngrade: o.AllowDowngrade, Now: a.now}, a.key, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// SignFile signs the binary at path as version v and writes path+".sig".
func (a *Authority) SignFile(t testing.TB, path, v string, o Options) string {
	t.Helper()
	sig := path + ".sig"
	if err := os.WriteFile(sig, a.Sign(t, path, v, o), 0o644); err != nil {
		t.Fatal(err)
	}
	return sig
}

// FileSHA256 is the hex SHA-256 of the file at path: what a release's
// signature names and what install-core compares.
func FileSHA256(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
