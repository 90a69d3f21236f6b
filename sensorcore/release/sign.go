package release

import (
	"crypto/ed25519"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tapline/tapline/sensorcore/activation"
)

// CertifySigner has a root certify a release signing key valid from
// notBefore to notAfter. The authority runs it offline with the root's
// private key, as it certifies activation signing keys.
func CertifySigner(root ed25519.PrivateKey, signer ed25519.PublicKey, notBefore, notAfter time.Time) (SignedSignerCert, error) {
	if !notAfter.After(notBefore) {
		return SignedSignerCert{}, fmt.Errorf("release: signer validity ends before it starts")
	}
	c := activation.SignerCert{KeyID: activation.KeyID(signer), PublicKey: signer, NotBefore: notBefore.UTC(), NotAfter: notAfter.UTC(),
		RootID: activation.KeyID(root.Public().(ed25519.PublicKey))}
	cb, err := json.Marshal(c)
	if err != nil {
		return SignedSignerCert{}, err
	}
	return SignedSignerCert{Cert: cb, Signature: ed25519.Sign(root, append([]byte(signerContext), cb...))}, nil
}

// SignOptions describe one release to sign.
type SignOptions struct {
	Version        string
	OS, Arch       string
	AllowDowngrade bool
	Now            time.Time
}

// Sign hashes the binary read from r and returns the signature file's
// bytes, signed with key under its certificate signer.
func Sign(r io.Reader, o SignOptions, key ed25519.PrivateKey, signer SignedSignerCert) ([]byte, error) {
	if !ValidVersion(o.Version) {
		return nil, fmt.Errorf("release: version %q: give what \"sensorcore version\" prints (0-9 A-Z a-z . + -)", o.Version)
	}
	var sc activation.SignerCert
	if err := strictJSON(signer.Cert, &sc); err != nil {
		return nil, fmt.Errorf("release: signer certificate: %w", err)
	}
	if !sc.PublicKey.Equal(key.Public()) {
		return nil, fmt.Errorf("release: the signing key does not match the signer certificate (key %s, certificate %s)",
			activation.KeyID(key.Public().(ed25519.PublicKey)), sc.KeyID)
	}
	now := o.Now.UTC().Truncate(time.Second)
	if now.Before(sc.NotBefore) || now.After(sc.NotAfter) {
		return nil, fmt.Errorf("release: the signer certificate is valid %s to %s, not now", sc.NotBefore.Format(time.RFC3339), sc.NotAfter.Format(time.RFC3339))
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, MaxBinarySize+1))
	if err != nil {
		return nil, err
	}
	if n > MaxBinarySize {
		return nil, fmt.Errorf("release: the binary is larger than %d bytes, the most install-core accepts", MaxBinarySize)
	}
	st := Statement{Product: Product, Version: o.Version, OS: o.OS, Arch: o.Arch, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n,
		SignedAt: now, AllowDowngrade: o.AllowDowngrade}
	if err := st.check(); err != nil {
		return nil, err
	}
	sb, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(Signature{Format: FormatV1, Statement: sb, StatementSig: ed25519.Sign(key, append([]byte(statementContext), sb...)),
		SignerCert: signer.Cert, SignerCertRootSig: signer.Signature}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// SignFile signs the binary at path.
func SignFile(path string, o SignOptions, key ed25519.PrivateKey, signer SignedSignerCert) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Sign(f, o, key, signer)
}

// elfArchs maps the ELF machines Go builds for to GOARCH.
var elfArchs = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386", elf.EM_ARM: "arm",
	elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x"}

// ArchOfELF returns the GOARCH of an ELF machine, for a signer that reads
// it from the binary.
func ArchOfELF(m elf.Machine) (string, bool) {
	a, ok := elfArchs[m]
	return a, ok
}
