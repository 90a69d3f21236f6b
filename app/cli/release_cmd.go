package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/release"
)

// releaseRootFlag adds --release-root (repeatable) to fs.
func releaseRootFlag(fs *FlagSet) *multiFlag {
	var m multiFlag
	fs.Var(&m, "release-root", "LAB/DEMO ONLY: trust sensorcore releases signed under this root public key instead of the shipped production root (make build's lab root is bin/release-lab/release-root.pub)")
	return &m
}

// roots reads the --release-root files; nil (the production root) when
// none was given.
func (m *multiFlag) roots() ([]ed25519.PublicKey, error) {
	if len(*m) == 0 {
		return nil, nil
	}
	return trustRoots(*m)
}

// Names of the files release lab-init writes.
const (
	releaseRootPub  = "release-root.pub"
	releaseRootKey  = "release-root.key"
	releaseKeyFile  = "release-signer.key"
	releaseCertFile = "release-signer.cert"
)

func releaseLabInit(env *Env, args []string) int {
	fs := newFlags(env, "release lab-init")
	dir := fs.String("out", "", "directory for release-root.pub, release-root.key, release-signer.key, release-signer.cert")
	rootKey := fs.String("root-key", "", "certify the release key under this existing lab root private key (e.g. activation lab-init's demo-root.key) instead of a new root")
	years := fs.Int("years", 2, "release key validity in years")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *dir == "" {
		env.Errorf("release lab-init: --out DIR is required")
		return ExitUsage
	}
	now := env.Now()
	var rk ed25519.PrivateKey
	if *rootKey != "" {
		b, err := safefile.ReadFile(*rootKey, 64<<10)
		if err == nil {
			rk, err = activation.ParsePrivateKey(b)
		}
		if err != nil {
			env.Errorf("release lab-init: --root-key %s: %v", *rootKey, err)
			return ExitUsage
		}
	} else {
		_, rk, _ = ed25519.GenerateKey(rand.Reader)
	}
	spub, spriv, _ := ed25519.GenerateKey(rand.Reader)
	sc, err := release.CertifySigner(rk, spub, now.Add(-time.Hour), now.AddDate(*years, 0, 0))
	if err != nil {
		env.Errorf("release lab-init: %v", err)
		return ExitUsage
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{releaseRootPub, activation.MarshalPublicKey(rk.Public().(ed25519.PublicKey)), 0o644},
		{releaseKeyFile, activation.MarshalPrivateKey(spriv), 0o600},
		{releaseCertFile, release.MarshalSignerCert(sc), 0o644},
	}
	if *rootKey == "" {
		files = append(files, struct {
			name string
			data []byte
			mode os.FileMode
		}{releaseRootKey, activation.MarshalPrivateKey(rk), 0o600})
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		env.Errorf("release lab-init: %v", err)
		return ExitUsage
	}
	for _, f := range files {
		p := filepath.Join(*dir, f.name)
		if _, err := os.Stat(p); err == nil {
			env.Errorf("release lab-init: %s exists; refusing to overwrite", p)
			return ExitUsage
		} else if !errors.Is(err, os.ErrNotExist) {
			env.Errorf("release lab-init: %v", err)
			return ExitUsage
		}
	}
	for _, f := range files {
		if err := safefile.WriteFile(filepath.Join(*dir, f.name), f.data, f.mode); err != nil {
			env.Errorf("release lab-init: %v", err)
			return ExitUsage
		}
	}
	fmt.Fprintf(env.Stdout, "LAB/DEMO release key written to %s (key %s); appliances and tapline trust what it signs only with %s named explicitly (release_trust_roots, --release-root)\n",
		*dir, activation.KeyID(spub), filepath.Join(*dir, releaseRootPub))
	return ExitOK
}

func releaseSign(env *Env, args []string) int {
	fs := newFlags(env, "release sign")
	keyFile := fs.String("signing-key", "", "the release signing key (PKCS#8 PEM)")
	certFile := fs.String("signer-cert", "", "its certificate from the root (release-signer.cert)")
	ver := fs.String("version", "", "the release's version, exactly what \"sensorcore version\" prints")
	goos := fs.String("os", "linux", "the OS the binary is built for")
	arch := fs.String("arch", "", "the architecture it is built for (GOARCH; default: from its ELF header)")
	downgrade := fs.Bool("allow-downgrade", false, "let this release replace a newer installed one (a recall)")
	out := fs.String("out", "", "the signature file (default: BINARY.sig)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 1 {
		env.Errorf("release sign: give exactly one BINARY; run 'tapline release sign --help'")
		return ExitUsage
	}
	bin := pos[0]
	kb, err := safefile.ReadFile(*keyFile, 64<<10)
	if err != nil {
		env.Errorf("release sign: %v", err)
		return ExitUsage
	}
	key, err := activation.ParsePrivateKey(kb)
	if err != nil {
		env.Errorf("release sign: %s: %v", *keyFile, err)
		return ExitUsage
	}
	cb, err := safefile.ReadFile(*certFile, 64<<10)
	if err != nil {
		env.Errorf("release sign: %v", err)
		return ExitUsage
	}
	sc, err := release.ParseSignerCert(cb)
	if err != nil {
		env.Errorf("release sign: %s: %v", *certFile, err)
		return ExitUsage
	}
	if *arch == "" {
		f, err := elf.Open(bin)
		if err != nil {
			env.Errorf("release sign: %s is not an ELF executable (%v); give --os and --arch", bin, err)
			return ExitUsage
		}
		a, ok := release.ArchOfELF(f.Machine)
		f.Close()
		if !ok {
			env.Errorf("release sign: %s is built for %s; give --arch", bin, f.Machine)
			return ExitUsage
		}
		*arch = a
	}
	sig, err := release.SignFile(bin, release.SignOptions{Version: *ver, OS: *goos, Arch: *arch, AllowDowngrade: *downgrade, Now: env.Now()}, key, sc)
	if err != nil {
		env.Errorf("release sign: %s: %v", bin, err)
		return ExitUsage
	}
	if *out == "" {
		*out = bin + ".sig"
	}
	if err := safefile.WriteFile(*out, sig, 0o644); err != nil {
		env.Errorf("release sign: %v", err)
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "signed sensorcore %s for %s/%s: %s\n", *ver, *goos, *arch, *out)
	return ExitOK
}

func releaseVerify(env *Env, args []string) int {
	fs := newFlags(env, "release verify")
	sig := fs.String("signature", "", "the signature file (default: BINARY.sig)")
	roots := releaseRootFlag(fs)
	asJSON := fs.Bool("json", false, "print the signed statement as JSON")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 1 {
		env.Errorf("release verify: give exactly one BINARY; run 'tapline release verify --help'")
		return ExitUsage
	}
	rs, err := roots.roots()
	if err != nil {
		env.Errorf("release verify: %v", err)
		return ExitUsage
	}
	c, err := provision.LoadCore(pos[0], provision.CoreOptions{Signature: *sig, Roots: rs})
	if err != nil {
		env.Errorf("release verify: %v", err)
		return ExitVerdict
	}
	if *asJSON {
		return printJSON(env.Stdout, c)
	}
	fmt.Fprintf(env.Stdout, "%s: sensorcore %s for %s, SHA-256 %s, signed by release key %s\n", pos[0], c.Version, c.Platform, c.SHA256, c.KeyID)
	return ExitOK
}
