package release

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/activation"
)

var now = time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)

type authority struct {
	root   ed25519.PublicKey
	rootK  ed25519.PrivateKey
	key    ed25519.PrivateKey
	signer SignedSignerCert
}

func newAuthority(t testing.TB) *authority {
	t.Helper()
	rp, rk, _ := ed25519.GenerateKey(rand.Reader)
	sp, sk, _ := ed25519.GenerateKey(rand.Reader)
	sc, err := CertifySigner(rk, sp, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &authority{root: rp, rootK: rk, key: sk, signer: sc}
}

var binary = bytes.Repeat([]byte("\x7fELF sensorcore "), 1000)

func (a *authority) sign(t testing.TB, o SignOptions) []byte {
	t.Helper()
	if o.Version == "" {
		o.Version = "0.2.0"
	}
	if o.OS == "" {
		o.OS, o.Arch = "linux", "amd64"
	}
	if o.Now.IsZero() {
		o.Now = now
	}
	b, err := Sign(bytes.NewReader(binary), o, a.key, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignVerify(t *testing.T) {
	a := newAuthority(t)
	v, err := Verify(a.sign(t, SignOptions{}), []ed25519.PublicKey{a.root})
	if err != nil {
		t.Fatal(err)
	}
	st := v.Statement
	if st.Version != "0.2.0" || st.OS != "linux" || st.Arch != "amd64" || st.Size != int64(len(binary)) || st.AllowDowngrade {
		t.Fatalf("statement %+v", st)
	}
	if err := st.Check(bytes.NewReader(binary), nil); err != nil {
		t.Fatal(err)
	}
	if st.For("linux", "amd64") != nil || st.For("linux", "arm64") == nil {
		t.Fatal("For")
	}
	if !st.Replaces("0.1.9") || !st.Replaces("0.2.0") || st.Replaces("0.10.0") || !st.Replaces("") {
		t.Fatal("Replaces")
	}
}

// TestVerifyRefuses: every way to get a binary past install-core without
// the release key fails here, before the binary is looked at.
func TestVerifyRefuses(t *testing.T) {
	a := newAuthority(t)
	other := newAuthority(t)
	good := a.sign(t, SignOptions{})
	var env Signature
	json.Unmarshal(good, &env)
	edit := func(f func(*Signature)) []byte {
		e := env
		f(&e)
		b, _ := json.Marshal(e)
		return b
	}
	restate := func(f func(*Statement)) []byte {
		var st Statement
		json.Unmarshal(env.Statement, &st)
		f(&st)
		sb, _ := json.Marshal(st)
		return edit(func(e *Signature) { e.Statement = sb })
	}
	// An activation signing key certified by the same root: another
	// purpose, refused for releases.
	actSigner, err := activation.CertifySigner(a.rootK, a.key.Public().(ed25519.PublicKey), now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	old := newAuthority(t)
	old.signer, _ = CertifySigner(old.rootK, old.key.Public().(ed25519.PublicKey), now.AddDate(-3, 0, 0), now.AddDate(-2, 0, 0))
	resign := func(st Statement) []byte {
		sb, _ := json.Marshal(st)
		return edit(func(e *Signature) {
			e.Statement = sb
			e.StatementSig = ed25519.Sign(a.key, append([]byte(statementContext), sb...))
		})
	}
	var st Statement
	json.Unmarshal(env.Statement, &st)
	for name, c := range map[string]struct {
		data  []byte
		roots []ed25519.PublicKey
		want  string
	}{
		"other root":          {good, []ed25519.PublicKey{other.root}, "not certified by a trusted root"},
		"no roots":            {good, nil, "not certified by a trusted root"},
		"newer version":       {restate(func(s *Statement) { s.Version = "9.9.9" }), nil, "altered after signing"},
		"other hash":          {restate(func(s *Statement) { s.SHA256 = strings.Repeat("ab", 32) }), nil, "altered after signing"},
		"downgrade allowed":   {restate(func(s *Statement) { s.AllowDowngrade = true }), nil, "altered after signing"},
		"signed by other key": {other.sign(t, SignOptions{}), nil, "not certified by a trusted root"},
		"activation signer": {edit(func(e *Signature) { e.SignerCert, e.SignerCertRootSig = actSigner.Cert, actSigner.Signature }), nil,
			"not certified by a trusted root"},
		"signer swapped": {edit(func(e *Signature) { e.SignerCert, e.SignerCertRootSig = other.signer.Cert, other.signer.Signature }),
			[]ed25519.PublicKey{a.root, other.root}, "altered after signing"},
		"outside validity": {func() []byte {
			b, err := Sign(bytes.NewReader(binary), SignOptions{Version: "1", OS: "linux", Arch: "amd64", Now: now.AddDate(-2, -6, 0)}, old.key, old.signer)
			if err != nil {
				t.Fatal(err)
			}
			var e Signature
			json.Unmarshal(b, &e)
			var s Statement
			json.Unmarshal(e.Statement, &s)
			s.SignedAt = now
			sb, _ := json.Marshal(s)
			e.Statement, e.StatementSig = sb, ed25519.Sign(old.key, append([]byte(statementContext), sb...))
			out, _ := json.Marshal(e)
			return out
		}(), []ed25519.PublicKey{old.root}, "outside the release key's validity"},
		"wrong product":  {resign(func() Statement { s := st; s.Product = "evil"; return s }()), nil, "not sensorcore"},
		"huge size":      {resign(func() Statement { s := st; s.Size = 8 << 40; return s }()), nil, "size"},
		"bad version":    {resign(func() Statement { s := st; s.Version = "1.0 --force"; return s }()), nil, "not a release version"},
		"upper-case hex": {resign(func() Statement { s := st; s.SHA256 = strings.ToUpper(s.SHA256); return s }()), nil, "lower-case hex"},
		"other format":   {edit(func(e *Signature) { e.Format = "tapline-release/0" }), nil, "format"},
		"short sig":      {edit(func(e *Signature) { e.StatementSig = e.StatementSig[:10] }), nil, "not 64 bytes"},
		"trailing data":  {append(append([]byte{}, good...), good...), nil, "trailing data"},
		"not json":       {[]byte("sensorcore 9.9.9\n"), nil, "not a release signature"},
		"empty":          {nil, nil, "not a release signature"},
		"oversized":      {bytes.Repeat([]byte(" "), MaxSignatureSize+1), nil, "more than"},
	} {
		roots := c.roots
		if roots == nil && !strings.HasPrefix(name, "no roots") {
			roots = []ed25519.PublicKey{a.root}
		}
		_, err := Verify(c.data, roots)
		var re *Error
		if !errors.As(err, &re) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal with %q", name, err, c.want)
		}
	}
}

// TestCheckBinary: a binary other than the signed one is refused by
// size or hash, reading no more than the signed size plus one byte.
func TestCheckBinary(t *testing.T) {
	a := newAuthority(t)
	v, err := Verify(a.sign(t, SignOptions{}), []ed25519.PublicKey{a.root})
	if err != nil {
		t.Fatal(err)
	}
	st := v.Statement
	flipped := append([]byte{}, binary...)
	flipped[100] ^= 1
	for name, b := range map[string][]byte{"one bit": flipped, "truncated": binary[:len(binary)-1], "longer": append(append([]byte{}, binary...), 0)} {
		var m *Mismatch
		if err := st.Check(bytes.NewReader(b), nil); !errors.As(err, &m) {
			t.Errorf("%s: %v", name, err)
		}
	}
	r := &countingReader{}
	st.Check(r, nil)
	if r.n != st.Size+1 {
		t.Fatalf("read %d bytes of an endless binary, want %d", r.n, st.Size+1)
	}
	var copied bytes.Buffer
	if err := st.Check(bytes.NewReader(binary), &copied); err != nil || !bytes.Equal(copied.Bytes(), binary) {
		t.Fatal("the copy is not the binary")
	}
}

type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func TestSignRefuses(t *testing.T) {
	a := newAuthority(t)
	other := newAuthority(t)
	for name, f := range map[string]func() error{
		"key and certificate differ": func() error {
			_, err := Sign(bytes.NewReader(binary), SignOptions{Version: "1", OS: "linux", Arch: "amd64", Now: now}, other.key, a.signer)
			return err
		},
		"outside validity": func() error {
			_, err := Sign(bytes.NewReader(binary), SignOptions{Version: "1", OS: "linux", Arch: "amd64", Now: now.AddDate(2, 0, 0)}, a.key, a.signer)
			return err
		},
		"no version": func() error {
			_, err := Sign(bytes.NewReader(binary), SignOptions{OS: "linux", Arch: "amd64", Now: now}, a.key, a.signer)
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: signed", name)
		}
	}
}
