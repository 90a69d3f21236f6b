package release

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/version"
)

// FormatV1 names the signature file format; Parse refuses any other.
const FormatV1 = "tapline-release/1"

// Product is the only product a statement may name.
const Product = "sensorcore"

// MaxBinarySize is the largest sensorcore binary a statement may describe
// and install-core accepts (a release is about 17 MiB today). The
// appliance's SFTP server refuses larger files too.
const MaxBinarySize = 64 << 20

// MaxSignatureSize bounds a signature file (a real one is under 2 KiB).
const MaxSignatureSize = 64 << 10

// Domain separation prefixes: the release key signs statements, the root
// certifies release keys. Activation files use other prefixes.
const (
	statementContext = "tapline-release-statement-v1\x00"
	signerContext    = "tapline-release-signer-v1\x00"
)

// Statement is what a release signature says about one binary.
type Statement struct {
	Product string `json:"product"` // "sensorcore"
	Version string `json:"version"` // what "sensorcore version" prints
	OS      string `json:"os"`      // GOOS, "linux"
	Arch    string `json:"arch"`    // GOARCH, "amd64"
	SHA256  string `json:"sha256"`  // hex, of the whole binary
	Size    int64  `json:"size"`
	// SignedAt must lie within the signing key's validity.
	SignedAt time.Time `json:"signed_at"`
	// AllowDowngrade lets this release replace a newer installed one (a
	// recall); without it install-core refuses a downgrade.
	AllowDowngrade bool `json:"allow_downgrade,omitempty"`
}

// Signature is the ".sig" file: the statement and signer certificate
// bytes exactly as signed, with their signatures.
type Signature struct {
	Format            string `json:"format"`
	Statement         []byte `json:"statement"`
	StatementSig      []byte `json:"signature"`
	SignerCert        []byte `json:"signer_cert"`
	SignerCertRootSig []byte `json:"signer_cert_signature"`
}

// Error is a refused signature; install-core reports it as TL-APP-012.
type Error struct{ Msg string }

func (e *Error) Error() string { return "release: " + e.Msg }

func refuse(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Verified is a signature that passed Verify.
type Verified struct {
	Statement Statement
	Signer    activation.SignerCert
}

// Verify checks a signature file's bytes against the trusted roots and
// returns its statement. It checks the signature chain, the statement's
// fields and that it was signed within the release key's validity; it
// does not look at the binary (see Check).
func Verify(data []byte, roots []ed25519.PublicKey) (*Verified, error) {
	if len(data) > MaxSignatureSize {
		return nil, refuse("the signature file is %d bytes, more than %d: not a release signature", len(data), MaxSignatureSize)
	}
	var s Signature
	if err := strictJSON(data, &s); err != nil {
		return nil, refuse("not a release signature: %v", err)
	}
	if s.Format != FormatV1 {
		return nil, refuse("format %q is not %q", s.Format, FormatV1)
	}
	if len(s.StatementSig) != ed25519.SignatureSize || len(s.SignerCertRootSig) != ed25519.SignatureSize {
		return nil, refuse("a signature in the file is not %d bytes", ed25519.SignatureSize)
	}
	var v Verified
	if err := strictJSON(s.SignerCert, &v.Signer); err != nil || len(v.Signer.PublicKey) != ed25519.PublicKeySize {
		return nil, refuse("signer_cert is not a release key certificate")
	}
	var root ed25519.PublicKey
	for _, r := range roots {
		if activation.KeyID(r) == v.Signer.RootID && ed25519.Verify(r, append([]byte(signerContext), s.SignerCert...), s.SignerCertRootSig) {
			root = r
			break
		}
	}
	if root == nil {
		return nil, refuse("the release key %s is not certified by a trusted root (its root is %s)", v.Signer.KeyID, v.Signer.RootID)
	}
	if !ed25519.Verify(v.Signer.PublicKey, append([]byte(statementContext), s.Statement...), s.StatementSig) {
		return nil, refuse("the statement's signature is bad: it was altered after signing, or signed by another key")
	}
	if err := strictJSON(s.Statement, &v.Statement); err != nil {
		return nil, refuse("statement: %v", err)
	}
	st := &v.Statement
	if err := st.check(); err != nil {
		return nil, err
	}
	if st.SignedAt.Before(v.Signer.NotBefore) || st.SignedAt.After(v.Signer.NotAfter) {
		return nil, refuse("signed %s, outside the release key's validity (%s to %s)", st.SignedAt.Format(time.RFC3339),
			v.Signer.NotBefore.Format(time.RFC3339), v.Signer.NotAfter.Format(time.RFC3339))
	}
	return &v, nil
}

// ValidVersion reports whether v can be a release version: 1-64
// characters of 0-9 A-Z a-z . + - (what "sensorcore version" prints).
func ValidVersion(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func (st *Statement) check() error {
	switch {
	case st.Product != Product:
		return refuse("the statement is for %q, not %s", st.Product, Product)
	case !ValidVersion(st.Version):
		return refuse("the statement's version %q is not a release version", st.Version)
	case st.OS == "" || st.Arch == "":
		return refuse("the statement names no OS or architecture")
	case st.Size <= 0 || st.Size > MaxBinarySize:
		return refuse("the statement's size %d is not between 1 and %d bytes", st.Size, MaxBinarySize)
	case st.SignedAt.IsZero():
		return refuse("the statement has no signed_at")
	}
	if b, err := hex.DecodeString(st.SHA256); err != nil || len(b) != sha256.Size || st.SHA256 != strings.ToLower(st.SHA256) {
		return refuse("the statement's sha256 %q is not a lower-case hex SHA-256", st.SHA256)
	}
	return nil
}

// For reports whether the statement is for a binary of goos/goarch.
func (st *Statement) For(goos, goarch string) error {
	if st.OS != goos || st.Arch != goarch {
		return refuse("the release is for %s/%s, this machine is %s/%s", st.OS, st.Arch, goos, goarch)
	}
	return nil
}

// Replaces says whether this release may replace installed: a newer or
// equal version always, an older one only when the statement allows it.
func (st *Statement) Replaces(installed string) bool {
	return installed == "" || version.Compare(st.Version, installed) >= 0 || st.AllowDowngrade
}

// Mismatch is Check's refusal: the binary is not the one the statement
// describes (damaged, truncated, or another file).
type Mismatch struct{ Msg string }

func (m *Mismatch) Error() string { return "release: " + m.Msg }

// Check streams r (the binary) through SHA-256 and compares its hash and
// size with the statement's, reading at most Size+1 bytes: a file larger
// than the statement says is refused without reading the rest. w, when
// not nil, receives the bytes as they are hashed (the installer's copy).
func (st *Statement) Check(r io.Reader, w io.Writer) error {
	h := sha256.New()
	dst := io.Writer(h)
	if w != nil {
		dst = io.MultiWriter(h, w)
	}
	n, err := io.Copy(dst, io.LimitReader(r, st.Size+1))
	if err != nil {
		return err
	}
	if n != st.Size {
		more := ""
		if n > st.Size {
			more = " or more"
		}
		return &Mismatch{fmt.Sprintf("the binary is %d bytes%s, the signed statement says %d", n, more, st.Size)}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != st.SHA256 {
		return &Mismatch{fmt.Sprintf("the binary has SHA-256 %s, the signed statement says %s", got, st.SHA256)}
	}
	return nil
}

// CheckFile is Check on a file, refusing a file that is not regular or is
// larger than the statement says before reading it.
func (st *Statement) CheckFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &Mismatch{fmt.Sprintf("%s is not a regular file", path)}
	}
	if fi.Size() != st.Size {
		return &Mismatch{fmt.Sprintf("the binary is %d bytes, the signed statement says %d", fi.Size(), st.Size)}
	}
	return st.Check(f, nil)
}

// ReadSignature reads a signature file with its size cap.
func ReadSignature(path string) ([]byte, error) {
	b, err := safefile.ReadFile(path, MaxSignatureSize)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, refuse("%v: not a release signature", err)
	}
	return b, err
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// PEM block type of a certified release key (the keys themselves use the
// standard "PUBLIC KEY" / "PRIVATE KEY" blocks).
const pemSignerCert = "TAPLINE RELEASE SIGNER CERTIFICATE"

// SignedSignerCert is a release key's certificate as the root signed it.
type SignedSignerCert = activation.SignedSignerCert

// MarshalSignerCert encodes a certified release key as PEM.
func MarshalSignerCert(s SignedSignerCert) []byte {
	return activation.MarshalSignerCertBlock(s, pemSignerCert)
}

// ParseSignerCert reads a certified release key from PEM; an activation
// signer certificate is refused.
func ParseSignerCert(data []byte) (SignedSignerCert, error) {
	s, err := activation.ParseSignerCertBlock(data, pemSignerCert)
	if err != nil {
		return s, fmt.Errorf("release: %v (an activation signer certificate cannot sign releases)", err)
	}
	return s, nil
}
